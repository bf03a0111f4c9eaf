# shellcheck shell=bash
# Shell helpers shared by the hack/ scripts (sourced, not run).

# has_version FILE EXPECTED ARGS...: true when FILE runs and prints EXPECTED.
has_version() {
  local file="$1" expected="$2"
  shift 2
  local out
  [[ -x "${file}" ]] || return 1
  # Captured first: `cmd | grep -q` fails under pipefail when grep exits before cmd has written all.
  out="$("${file}" "$@" 2>&1)" || return 1
  grep -qF -- "${expected}" <<<"${out}"
}

# The Prometheus release of PROMETHEUS_VERSION (versions.env): the module's v0.3xx.y is Prometheus 3.xx.y.
prometheus_release() {
  local minor="${PROMETHEUS_VERSION#v0.}"
  minor="${minor%%.*}"
  echo "$((minor / 100)).$((minor % 100)).${PROMETHEUS_VERSION##*.}"
}

# mod_field MODULE@VERSION FIELD: a field of `go mod download -json` (Dir, GoMod, ...); downloads the
# module into the module cache if needed. Run outside any module of the caller.
mod_field() {
  (cd "${TMPDIR:-/tmp}" && go mod download -json "$1") | sed -n "s/^[[:space:]]*\"$2\": \"\\(.*\\)\",\$/\\1/p"
}

# registry_has REF: true when the local registry already holds REF (registry/name:tag).
registry_has() {
  local ref=$1 registry name tag
  registry=${ref%%/*} name=${ref#*/} tag=${ref##*:}
  name=${name%:*}
  curl -fs -o /dev/null --head -H "Accept: application/vnd.oci.image.manifest.v1+json" \
    -H "Accept: application/vnd.docker.distribution.manifest.v2+json" "http://${registry}/v2/${name}/manifests/${tag}"
}

# push_scratch_image FILE REF: a FROM-scratch image of the static binary FILE, run as nobody, pushed
# as REF (registry/name:tag) with $DOCKER, unless the registry already has REF (a warm run pushes nothing).
push_scratch_image() {
  local file=$1 ref=$2 ctx
  registry_has "${ref}" && return
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '${ctx}'" RETURN
  cp "${file}" "${ctx}/"
  file=$(basename "${file}")
  printf 'FROM scratch\nCOPY %s /bin/%s\nUSER 65534:65534\nENTRYPOINT ["/bin/%s"]\n' "${file}" "${file}" "${file}" |
    "${DOCKER}" build -q -t "${ref}" -f - "${ctx}" >/dev/null
  "${DOCKER}" push -q "${ref}" >/dev/null
  echo "pushed ${ref}" >&2
}

# applied_config NAMESPACE WORKLOAD KEY HASH: true when WORKLOAD (deployment/NAME, daemonset/NAME) runs the pod
# template annotated KEY=HASH and its rollout is complete: what an add-on script's warm run checks first.
applied_config() {
  local namespace=$1 workload=$2 key=${3//./\\.} hash=$4
  [ "$(kc -n "${namespace}" get "${workload}" -o jsonpath="{.spec.template.metadata.annotations.${key}}" 2>/dev/null)" = "${hash}" ] &&
    kc -n "${namespace}" rollout status "${workload}" --timeout 1s >/dev/null 2>&1
}

# running_image NAMESPACE WORKLOAD: the image of WORKLOAD's (deployment/NAME) first container, or nothing.
running_image() {
	kc -n "$1" get "$2" -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null || true
}

# cluster_settings: what the scripts that add to the kind cluster share: the pinned versions, ROOT (the
# tree), DOCKER, KUBECTL, KIND, CLUSTER_NAME and CONTEXT (kind-$CLUSTER_NAME); kc is kubectl in that context. Needs HERE.
cluster_settings() {
  ROOT=$(cd "${HERE}/.." && pwd)
  # shellcheck source=hack/versions.env
  . "${HERE}/versions.env"
  DOCKER=${DOCKER:-/usr/bin/docker}
  KUBECTL=${KUBECTL:-${ROOT}/.tools/bin/kubectl}
  KIND=${KIND:-${ROOT}/.tools/bin/kind}
  CLUSTER_NAME=${CLUSTER_NAME:-flask-service}
  CONTEXT=kind-${CLUSTER_NAME}
}
kc() { "${KUBECTL}" --context "${CONTEXT}" "$@"; }

# kube_router_base: the Debian root under the kube-router image (debootstrap, cached); prints its reference.
kube_router_base() { "${HERE}/base-image.sh" flask-service-kube-router-base ipset,iptables; }

# kube_router_image REF: build REF, kube-router (hack/install-tools.sh kube-router) on a Debian root with
# Debian's ipset and iptables (hack/base-image.sh), in the host engine, unless it is there already. One
# image serves the pod network baked into the node image (hack/node-image.sh) and the NetworkPolicy agent
# (hack/netpol.sh). Its iptables is set to the nf_tables mode, the mode of the node's own iptables
# (`iptables --version` in the node: 1.8.9 (nf_tables)) that kube-proxy writes with: rules in the legacy
# tables would sit beside kube-proxy's, in a different order than intended. Needs HERE and ROOT.
kube_router_image() {
  local ref=$1 base ctx
  "${DOCKER}" image inspect "${ref}" >/dev/null 2>&1 && return
  "${HERE}/install-tools.sh" kube-router >&2
  base=$(kube_router_base)
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '${ctx}'" RETURN
  cp "${ROOT}/.tools/bin/kube-router" "${ctx}/"
  # kube-router runs as root: iptables and ipset need it, with only the capabilities its manifests add.
  printf '%s\n' "FROM ${base}" \
    'RUN update-alternatives --set iptables /usr/sbin/iptables-nft' \
    'COPY kube-router /usr/local/bin/kube-router' \
    'ENTRYPOINT ["/usr/local/bin/kube-router"]' |
    "${DOCKER}" build -q -t "${ref}" -f - "${ctx}" >/dev/null
  echo "built ${ref}" >&2
}
