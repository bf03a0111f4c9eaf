#!/usr/bin/env bash
# Build the Kubernetes components the local kind node needs, from Go module
# sources only (no release binaries are downloaded): kubelet, kubeadm, kubectl,
# kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy, etcd,
# coredns and crictl, at the versions pinned in hack/versions.env: all but
# CoreDNS in one module (build_module_kubernetes, hack/lib.sh), so that they
# compile their libraries once, for metrics-server (install-tools.sh) too.
#
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/flask-service/k8s-<version>/bin/
# Each piece is skipped when its binary already reports the pinned version,
# so a warm re-run costs a few seconds. Cold, on 2 cores, expect about 6 minutes.
#
# Usage: hack/tools/build-k8s.sh [bin-dir-only]
#   bin-dir-only   print the output directory and exit (for other scripts)
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

cache="${XDG_CACHE_HOME:-${HOME}/.cache}/flask-service/k8s-${KUBERNETES_VERSION}"
bin="${cache}/bin"
if [[ "${1:-}" == "bin-dir-only" ]]; then
  echo "${bin}"
  exit 0
fi

command -v go >/dev/null || die "Go is required (go install …)"
mkdir -p "${bin}" "${cache}/src"
# Run the go commands outside any module of the caller.
cd "${cache}"

go_build_env
# Build for the machine we run on; the node image is a container on this host.
unset GOOS GOARCH

# timed NAME CMD...: run CMD and record how long it took in build-times.txt.
timed() {
  local name="$1" start end
  shift
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  log "${name}: built in $((end - start)) s"
  printf '%s %s %ss %s\n' "$(date -u +%FT%TZ)" "${name}" "$((end - start))" "${KUBERNETES_VERSION}" >>"${cache}/build-times.txt"
}

# --- Kubernetes, etcd and crictl ---------------------------------------------
# Built in one module (build_module_kubernetes, hack/lib.sh), made before the first build that needs it.
kube_cmds=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
mod="${cache}/src/kubernetes"
mod_made=false
in_module() {
  if ! ${mod_made}; then
    rm -rf "${mod}"
    build_module_kubernetes "${mod}"
    mod_made=true
  fi
  (cd "${mod}" && "$@")
}

build_kubernetes() {
  local build_date minor ldflags=() kv key val pkgs=() c
  # Reproducible build date: the release's own commit time.
  build_date="$(mod_time "k8s.io/kubernetes@${KUBERNETES_VERSION}")"
  build_date="${build_date%%.*}"
  build_date="${build_date%Z}Z"
  minor="${KUBERNETES_VERSION#v*.}"
  minor="${minor%%.*}"
  for kv in "gitVersion=${KUBERNETES_VERSION}" "gitMajor=1" "gitMinor=${minor}" \
    "gitTreeState=clean" "buildDate=${build_date}"; do
    key="${kv%%=*}"
    val="${kv#*=}"
    ldflags+=("-X k8s.io/client-go/pkg/version.${key}=${val}" "-X k8s.io/component-base/version.${key}=${val}")
  done
  for c in "${kube_cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${c}"); done
  # One invocation for all commands: they share most packages, compiled once.
  in_module go build -o "${bin}/" -tags "${KUBERNETES_BUILD_TAGS}" -ldflags "-s -w ${ldflags[*]}" "${pkgs[@]}"
}

kube_ok=true
for c in "${kube_cmds[@]}"; do
  case "${c}" in
  kubectl) has_version "${bin}/${c}" "${KUBERNETES_VERSION}" version --client || kube_ok=false ;;
  kubeadm) has_version "${bin}/${c}" "${KUBERNETES_VERSION}" version -o short || kube_ok=false ;;
  *) has_version "${bin}/${c}" "Kubernetes ${KUBERNETES_VERSION}" --version || kube_ok=false ;;
  esac
done
if ${kube_ok}; then
  log "kubernetes ${KUBERNETES_VERSION}: up to date"
else
  timed kubernetes build_kubernetes
fi

if has_version "${bin}/etcd" "etcd Version: ${ETCD_VERSION#v}" --version; then
  log "etcd ${ETCD_VERSION}: up to date"
else
  timed etcd in_module go build -o "${bin}/etcd" -tags "${KUBERNETES_BUILD_TAGS}" -ldflags "-s -w" ./etcd
fi

if has_version "${bin}/crictl" "${CRICTL_VERSION}" --version; then
  log "crictl ${CRICTL_VERSION}: up to date"
else
  timed crictl in_module go build -o "${bin}/crictl" -tags "${KUBERNETES_BUILD_TAGS}" \
    -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl
fi

# --- CoreDNS -----------------------------------------------------------------
# With the plugins a cluster's DNS can use here: upstream's list (core/plugin/zplugin.go, generated from
# plugin.cfg) without the cloud providers' zones (route53, azure, clouddns), etcd, grpc and trace, whose
# SDKs and clients were half of its build (dnstap's line goes too, but forward imports it, so it stays). kubeadm's Corefile uses errors, health, ready, kubernetes,
# prometheus, forward, cache, loop, reload and loadbalance; all of upstream's other plugins stay.
build_coredns() {
  local work
  work="$(build_module_copy "github.com/coredns/coredns@${COREDNS_VERSION}")"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  sed -i -E '\#/plugin/(route53|azure|clouddns|etcd|grpc|dnstap|trace)"$#d' "${work}/core/plugin/zplugin.go"
  (cd "${work}" && go build -o "${bin}/coredns" -ldflags "-s -w" .)
}
if has_version "${bin}/coredns" "CoreDNS-${COREDNS_VERSION#v}" -version; then
  log "coredns ${COREDNS_VERSION}: up to date"
else
  timed coredns build_coredns
fi

log "binaries in ${bin}:"
ls -l "${bin}" >&2
