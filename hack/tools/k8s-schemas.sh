#!/usr/bin/env bash
# Generate the JSON schemas that kubeconform validates the chart's output against, for the
# Kubernetes version the kind cluster runs (KUBERNETES_VERSION in hack/versions.env), plus the
# Gateway API (HTTPRoute) and Prometheus Operator (ServiceMonitor, PrometheusRule) CRDs the chart can render
# and Kyverno's ClusterPolicy, which the admission add-on applies: each at the version the cluster runs
# (hack/versions.env).
#
# Sources are Go modules (the OpenAPI spec ships in the k8s.io/kubernetes module source), fetched
# with `go mod download` into the normal Go module cache; the schemas are written to
# ${XDG_CACHE_HOME:-$HOME/.cache}/flask-service/kubeconform-schemas/<version>/ so the chart tests
# run offline. Nothing is regenerated when the inputs are unchanged.
#
# Usage: hack/tools/k8s-schemas.sh          generate (if needed) and print the schema directory
#        hack/tools/k8s-schemas.sh dir      only print the schema directory
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cache="${XDG_CACHE_HOME:-${HOME}/.cache}/flask-service/kubeconform-schemas"
out="${cache}/${KUBERNETES_VERSION}"
if [[ "${1:-}" == "dir" ]]; then
  echo "${out}"
  exit 0
fi

python="${PYTHON:-}"
if [[ -z "${python}" ]]; then
  # The converter needs PyYAML (for the CRD files): the project venv has it.
  if [[ -x "${ROOT}/.venv/bin/python" ]]; then python="${ROOT}/.venv/bin/python"; else python=python3; fi
fi

# The stamp records every input, so a version bump or converter change regenerates.
# The Prometheus Operator CRDs converted (files monitoring.coreos.com_<name>.yaml).
prometheus_operator_crds=(servicemonitors prometheusrules prometheuses)
# The Gateway API kinds that the chart (HTTPRoute) and the Traefik add-on (Gateway, GatewayClass) apply.
gateway_crds=(httproutes gateways gatewayclasses)
# Kyverno's kinds that the admission add-on applies.
kyverno_crds=(clusterpolicies)
stamp_text="kubernetes=${KUBERNETES_VERSION} gateway-api=${GATEWAY_API_VERSION} prometheus-operator=${PROMETHEUS_OPERATOR_VERSION} kyverno=${KYVERNO_VERSION} crds=${prometheus_operator_crds[*]} ${gateway_crds[*]} ${kyverno_crds[*]} converter=$(sha256sum "${HACK}/tools/k8s-schemas.py" | cut -d' ' -f1)"
if [[ -f "${out}/.stamp" && "$(cat "${out}/.stamp")" == "${stamp_text}" ]]; then
  echo "${out}"
  exit 0
fi

command -v go >/dev/null || {
  echo "k8s-schemas: Go is required to fetch the API specs" >&2
  exit 1
}
module_dir() { # MODULE@VERSION -> its source directory in the Go module cache
  (cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$1") |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}
echo "k8s-schemas: fetching API specs (Go module cache) ..." >&2
k8s="$(module_dir "k8s.io/kubernetes@${KUBERNETES_VERSION}")"
gateway="$(module_dir "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}")"
prom="$(module_dir "github.com/prometheus-operator/prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}")"
kyverno="$(module_dir "github.com/kyverno/kyverno@${KYVERNO_VERSION}")"
for dir in "${k8s}" "${gateway}" "${prom}" "${kyverno}"; do
  [[ -d "${dir}" ]] || {
    echo "k8s-schemas: module download failed" >&2
    exit 1
  }
done

# Build next to the target and swap in, so an interrupted run never leaves a half-filled directory.
mkdir -p "${cache}"
tmp="$(mktemp -d "${cache}/.tmp.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
crds=()
for name in "${gateway_crds[@]}"; do
  crds+=(--crd "${gateway}/config/crd/standard/gateway.networking.k8s.io_${name}.yaml")
done
for name in "${prometheus_operator_crds[@]}"; do
  crds+=(--crd "${prom}/example/prometheus-operator-crd/monitoring.coreos.com_${name}.yaml")
done
for name in "${kyverno_crds[@]}"; do
  crds+=(--crd "${kyverno}/config/crds/kyverno/kyverno.io_${name}.yaml")
done
"${python}" "${HACK}/tools/k8s-schemas.py" --swagger "${k8s}/api/openapi-spec/swagger.json" "${crds[@]}" --out "${tmp}/schemas"
echo "${stamp_text}" >"${tmp}/schemas/.stamp"
rm -rf "${out}"
mv "${tmp}/schemas" "${out}"
echo "${out}"
