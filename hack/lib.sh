# shellcheck shell=bash
# The hack/ scripts' shared functions: sourced, never run. It defines functions and the settings every
# script reads, and runs no script of its own (a script that needs another one calls it by path).

HACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "${HACK}/.." && pwd)
# shellcheck source=hack/versions.env
. "${HACK}/versions.env"
DOCKER=${DOCKER:-/usr/bin/docker}

# log MESSAGE: to stderr, prefixed with the script's name (LOG_NAME, if a script sets another).
log() { printf '%s: %s\n' "${LOG_NAME:-$(basename "$0" .sh)}" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# has_version FILE EXPECTED ARGS...: true when FILE runs and prints EXPECTED; with the one argument
# --embedded, when FILE holds EXPECTED (a version stamped at link time, for a binary that prints it only
# when it can reach a cluster).
has_version() {
  local file="$1" expected="$2"
  shift 2
  local out
  [[ -x "${file}" ]] || return 1
  if [[ "$*" == --embedded ]]; then
    grep -qaF -- "${expected}" "${file}"
    return
  fi
  # Captured first: `cmd | grep -q` fails under pipefail when grep exits before cmd has written all.
  out="$("${file}" "$@" 2>&1)" || return 1
  grep -qF -- "${expected}" <<<"${out}"
}

# go_build_env: the settings every Go build of the hack/ scripts shares. Static binaries (they run in
# FROM-scratch images and the node image), no local paths embedded, no VCS stamping (built from module
# zips, not checkouts), no DWARF (nothing here is debugged with a debugger, and the compiler skips a tenth
# of its work). The compiler and the linker collect garbage only past 2 GiB of heap (a soft limit): these
# builds are CPU-bound, and Go's default collector took a quarter to a third of their time. Measured on 2
# cores with an empty build cache: client-go and its dependencies 94 -> 69 s (largest process 343 ->
# 955 MB); a cold CI run's builds (with the registry's, CoreDNS's and skaffold's trims) 2,960 -> 2,320 s.
# GOGC=400 with a 1-GiB limit was as fast on client-go (64 s, 490 MB) but not kept: its cold run was
# slower in places (Traefik 303 s against 197), and runs vary as much (Jaeger 185 and 268 s with these
# settings), so only the measured setting stays. A GOGC or GOMEMLIMIT of the caller's is kept. Only the
# build scripts set these, not the scripts that run the cluster.
go_build_env() {
  export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false -gcflags=all=-dwarf=false"
  export GOGC="${GOGC:-off}" GOMEMLIMIT="${GOMEMLIMIT:-2GiB}"
}

# build_module_copy MODULE@VERSION: a writable copy of the module's source (for builds that edit its
# go.mod), in a new directory whose path it prints; the caller removes it.
build_module_copy() {
  local src work
  src="$(mod_field "$1" Dir)"
  [[ -d "${src}" ]] || die "$1: module source not found"
  work="$(mktemp -d)"
  cp -r "${src}/." "${work}/"
  chmod -R u+w "${work}"
  echo "${work}"
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

# mod_time MODULE@VERSION: the module's publication time (RFC 3339, from the proxy's .info), which stands in
# for a release's build date: a module zip has no git commit.
mod_time() {
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$(mod_field "$1" Info)"
}

# build_check_pins DIR PACKAGE@VERSION...: each package's module in the module in DIR is at VERSION. In a
# module of several tools, another tool's requirement may raise a tool's own module above its pin, and then
# the pin is not what is built.
build_check_pins() {
  local dir="$1" tool got
  for tool in "${@:2}"; do
    got="$(cd "${dir}" && go list -f '{{.Module.Version}}' "${tool%@*}")"
    [[ "${got}" == "${tool##*@}" ]] || die "shared module: ${tool%@*} resolves to ${got}, not ${tool##*@}"
  done
}

# The tags of Kubernetes' release build (upstream's hack/lib/golang.sh). Everything built in the module below
# takes them, so that its libraries' compiled packages are the same for each build.
# shellcheck disable=SC2034  # read by the scripts that source this file
KUBERNETES_BUILD_TAGS=selinux,notest,grpcnotrace

# build_module_kubernetes DIR: in DIR, a module of our own that builds Kubernetes KUBERNETES_VERSION from
# module sources, and with it the programs that the cluster runs on Kubernetes' own libraries: etcd and
# crictl (hack/tools/build-k8s.sh), metrics-server (hack/tools/install-tools.sh). k8s.io/kubernetes cannot be
# `go install`ed: its go.mod points every k8s.io/* staging module at ./staging/src, which is not part of the
# module zip, so the module replaces each with its published v0.x twin, the same list as upstream's replace
# block. Go's minimal version selection takes for each library the newest that any of them requires, and
# both scripts make the same module, so each library is compiled once (the Go build cache keys a package by
# its source and its dependencies', not by the module that builds it). Built apart, they compiled those
# libraries four times: metrics-server on the v0.33 Kubernetes libraries, etcd and crictl on their own versions
# of gRPC, OpenTelemetry and golang.org/x. The others raise some of Kubernetes' libraries by minor
# or patch versions (gRPC 1.72 -> 1.75, OpenTelemetry 1.35 -> 1.37, Prometheus' common 0.62 -> 0.65, the
# etcd client 3.6.4 -> 3.6.5, the cluster's etcd, and golang.org/x); Kubernetes' code builds and the e2e tier
# runs on it. kube-state-metrics cannot join (its v2.19 code needs client-go v0.35), nor CoreDNS v1.12 (its
# informer sets a field that client-go v0.34's cache.Config no longer has). ./etcd is etcd's main package, as
# etcd's own main.go, which is that one call, in etcd's root module (it has relative replaces).
build_module_kubernetes() {
  local dir="$1" gomod c
  local pkgs=() tools=(
    "go.etcd.io/etcd/server/v3/etcdmain@${ETCD_VERSION}"
    "sigs.k8s.io/cri-tools/cmd/crictl@${CRICTL_VERSION}"
    "sigs.k8s.io/metrics-server/cmd/metrics-server@${METRICS_SERVER_VERSION}"
  )
  for c in kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    pkgs+=("k8s.io/kubernetes/cmd/${c}@${KUBERNETES_VERSION}")
  done
  gomod="$(mod_field "k8s.io/kubernetes@${KUBERNETES_VERSION}" GoMod)"
  [[ -f "${gomod}" ]] || die "cannot read go.mod of k8s.io/kubernetes@${KUBERNETES_VERSION}"
  mkdir -p "${dir}/etcd"
  {
    echo "// Generated by hack/lib.sh: builds Kubernetes ${KUBERNETES_VERSION} and the programs on its libraries."
    echo "module flask-service.local/build/kubernetes"
    echo
    echo "go 1.24.0"
    echo
    echo "godebug default=go1.24"
    echo
    echo "replace ("
    sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "${gomod}" | sort -u |
      while read -r c; do echo "	${c} => ${c} ${KUBERNETES_STAGING_VERSION}"; done
    echo ")"
  } >"${dir}/go.mod"
  rm -f "${dir}/go.sum"
  cat >"${dir}/etcd/main.go" <<'GO'
// The etcd server, as etcd's own main.go (generated by hack/lib.sh).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
GO
  # Resolve the build list and record checksums for exactly these packages.
  (cd "${dir}" && go get "${pkgs[@]}" "${tools[@]}" ./etcd) || return
  build_check_pins "${dir}" "${pkgs[0]}" "${tools[@]}"
}

# registry_has REF: true when the registry of REF (registry/name:tag) already holds it.
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
  log "pushed ${ref}"
}

# The kind cluster the scripts act on: CLUSTER_NAME (default flask-service), its kube context, and the
# tools that reach it. kc is kubectl in that context.
KUBECTL=${KUBECTL:-${ROOT}/.tools/bin/kubectl}
KIND=${KIND:-${ROOT}/.tools/bin/kind}
CLUSTER_NAME=${CLUSTER_NAME:-flask-service}
CONTEXT=kind-${CLUSTER_NAME}
kc() { "${KUBECTL}" --context "${CONTEXT}" "$@"; }

# cluster_nodes: the IDs of the cluster's node containers.
cluster_nodes() { "${DOCKER}" ps -q --filter "label=io.x-k8s.kind.cluster=${CLUSTER_NAME}"; }

# wait_until WHAT SECONDS CHECK...: run CHECK every second until it passes; after SECONDS, say so and fail.
wait_until() {
  local what=$1 limit=$2 deadline=$((SECONDS + $2))
  shift 2
  until "$@"; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${limit} s waiting until ${what}"
      return 1
    fi
    sleep 1
  done
}
