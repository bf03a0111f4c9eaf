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
