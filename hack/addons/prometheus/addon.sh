# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# Prometheus, run the way a platform team runs it, in namespace monitoring: the Prometheus Operator as
# upstream ships it (bundle.yaml of the pinned, downloaded module, through operator-kustomization.yaml)
# and one Prometheus (prometheus.yaml) that selects every ServiceMonitor and PrometheusRule. The
# lifecycle is hack/addons/addon.sh's; MONITORING=0 leaves this add-on out.
NAMESPACE=monitoring
RELEASE=v$(prometheus_release)
OPERATOR=${PROMETHEUS_OPERATOR_VERSION}
IMAGES=("prometheus:${RELEASE}" "prometheus-operator:${OPERATOR}" "prometheus-config-reloader:${OPERATOR}")
PUBLISHED=(
  "quay.io/prometheus/prometheus:${RELEASE}"
  "quay.io/prometheus-operator/prometheus-operator:${OPERATOR}"
  "quay.io/prometheus-operator/prometheus-config-reloader:${OPERATOR}"
)
MANIFESTS=(prometheus.yaml)
WORKLOADS=(deployment/prometheus-operator)
READY_TIMEOUT=${MONITORING_READY_TIMEOUT:-300}

# operator_manifests: upstream's bundle, as this add-on runs it.
operator_manifests() {
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  cp "$(mod_field "github.com/prometheus-operator/prometheus-operator@${OPERATOR}" Dir)/bundle.yaml" "${work}/"
  fill operator-kustomization.yaml >"${work}/kustomization.yaml"
  kc kustomize "${work}"
}

before_apply() {
  # Server-side: the CRDs are larger than the last-applied annotation allows.
  operator_manifests | kc apply --server-side --force-conflicts -f - >/dev/null
  kc wait --for condition=Established --timeout 60s crd/prometheuses.monitoring.coreos.com >/dev/null
}

# The operator makes the StatefulSet a moment after the Prometheus object.
ready() { kc -n monitoring wait --for condition=Available --timeout 1s prometheus/prometheus >/dev/null 2>&1; }

# The Prometheus first, so that its operator removes what it made; then the operator and its CRDs.
remove() {
  delete_manifests
  kc -n monitoring wait --for=delete pod -l app.kubernetes.io/name=prometheus --timeout 60s >/dev/null 2>&1 || true
  operator_manifests | kc delete --ignore-not-found -f - >/dev/null
}
