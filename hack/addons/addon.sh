#!/usr/bin/env bash
# The cluster add-ons' one lifecycle: hack/addons/addon.sh up|down|images|render NAME
#
#   up      unless NAME already runs this configuration and is ready (the warm path: it checks only):
#           its images, its before_apply, its manifests applied, its workloads rolled out and ready,
#           then the configuration recorded (ConfigMap flask-service-addons in kube-system)
#   down    delete it, and what its manifests leave behind
#   images  print the images it runs, one per line (nothing is built)
#   render  print its manifests as `up` applies them
#
# An add-on is a folder, hack/addons/NAME/: its manifests and addon.sh, which this script sources (after
# hack/lib.sh) and which sets only what is its own:
#   NAMESPACE      where its workloads run (created if missing, never deleted: it may be shared)
#   IMAGES         name:tag...; with AIRGAP=1, .tools/bin/<name> (hack/tools/install-tools.sh <name>) in a
#                  FROM-scratch image in the local registry (hack/cluster/registry.sh), tagged tag-<recipe
#                  hash>, so nothing is pulled; otherwise PUBLISHED: nothing is built
#   PUBLISHED      upstream's published image for each of IMAGES, by digest where upstream publishes one
#   MANIFESTS      files of its folder, applied in order with @image:NAME@, @tag:NAME@ and @config-hash@
#                  filled in (fill FILE does the same for any other file)
#   WORKLOADS      kind/name... in NAMESPACE, whose rollouts `up` waits for
#   READY_TIMEOUT  seconds (default 180)
#   CONFIG         anything else that is part of its configuration (versions of what it applies)
# and, where the default does not fit, these functions:
#   build_image NAME REF  build and push REF (default: the FROM-scratch image of .tools/bin/NAME)
#   before_apply          what the manifests need first (CRDs)
#   generate HASH         manifests made at render time (a chart's templates), printed after MANIFESTS;
#                         HASH is what fills @config-hash@
#   apply                 apply the manifests read from stdin (default: kubectl apply)
#   ready                 true once it serves; asked once by the warm check, awaited by `up`
#   remove                delete it, the manifests on stdin (default: kubectl delete)
#
# The configuration's hash covers every file of the folder, the image references and CONFIG, so a
# change to any of them is applied, and rolls the pods whose templates carry @config-hash@.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

action=${1:-}
NAME=${2:-}
DIR=${HACK}/addons/${NAME}
[[ -n ${NAME} && -f ${DIR}/addon.sh ]] || die "usage: $0 up|down|images|render NAME (a folder of hack/addons)"
LOG_NAME=${NAME}
RECORD=flask-service-addons

NAMESPACE=
IMAGES=()
PUBLISHED=()
MANIFESTS=()
WORKLOADS=()
READY_TIMEOUT=180
CONFIG=
build_image() { push_scratch_image "${ROOT}/.tools/bin/$1" "$2"; }
before_apply() { :; }
generate() { :; }
apply() { kc apply -f - >/dev/null; }
ready() { :; }
delete_manifests() { kc delete --ignore-not-found -f - >/dev/null; }
remove() { delete_manifests; }
# shellcheck source=/dev/null
. "${DIR}/addon.sh"

airgap() { [[ ${AIRGAP:-0} == 1 ]]; }

tools=("${IMAGES[@]%%:*}")
# With AIRGAP=1 a local image's tag is its version and the hash of the recipes that build its binaries, so a
# binary built another way (a collector with another component) is another image, which the nodes pull,
# not an old one under the same tag.
airgap && recipe=$("${HACK}/tools/install-tools.sh" --recipe "${tools[@]}" | sha256sum | cut -c1-8)

declare -A REF TAG
for i in "${!IMAGES[@]}"; do
  image=${IMAGES[${i}]}
  TAG[${image%%:*}]=${image#*:}
  if airgap; then
    REF[${image%%:*}]=$("${HACK}/cluster/registry.sh" address)/${image}-${recipe}
  else
    REF[${image%%:*}]=${PUBLISHED[${i}]:?"${NAME}: no published image for ${image} (hack/addons/${NAME}/addon.sh)"}
  fi
done

# fill FILE [HASH]: FILE of the add-on's folder with its placeholders filled in.
fill() {
  local name args=(-e "s#@config-hash@#${2:-@config-hash@}#g")
  for name in "${!REF[@]}"; do
    args+=(-e "s#@image:${name}@#${REF[${name}]}#g" -e "s#@tag:${name}@#${TAG[${name}]}#g")
  done
  sed "${args[@]}" "${DIR}/$1"
}

render() {
  local file
  for file in "${MANIFESTS[@]}"; do
    echo '---'
    fill "${file}" "${HASH}"
  done
  generate "${HASH}"
}

HASH=$({
  (cd "${DIR}" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  printf '%s\n' "${REF[@]}" "${CONFIG}"
} | sha256sum | cut -c1-16)

recorded() { kc -n kube-system get configmap "${RECORD}" -o go-template="{{index .data \"${NAME}\"}}" 2>/dev/null; }

rolled_out() {
  local workload
  for workload in "${WORKLOADS[@]}"; do
    kc -n "${NAMESPACE}" rollout status "${workload}" --timeout "$1" >/dev/null 2>&1 || return 1
  done
}

current() { [[ $(recorded) == "${HASH}" ]] && rolled_out 1s && ready; }

# What an operator reads first when an add-on does not come up: its pods and their last lines.
diagnose() {
  local workload
  kc -n "${NAMESPACE}" get pods -o wide >&2 || true
  for workload in "${WORKLOADS[@]}"; do
    kc -n "${NAMESPACE}" logs --tail 20 "${workload}" >&2 || true
  done
}

build_images() {
  local name
  airgap || return 0
  "${HACK}/tools/install-tools.sh" "${tools[@]}" >&2
  for name in "${!REF[@]}"; do build_image "${name}" "${REF[${name}]}"; done
}

up() {
  local start=${SECONDS}
  if current; then
    log "up (${IMAGES[*]})"
    return
  fi
  build_images
  kc create namespace "${NAMESPACE}" --dry-run=client -o yaml | kc apply -f - >/dev/null
  before_apply
  render | apply
  rolled_out "${READY_TIMEOUT}s" || {
    diagnose
    die "not rolled out within ${READY_TIMEOUT} s"
  }
  wait_until "it is ready" "${READY_TIMEOUT}" ready || {
    diagnose
    exit 1
  }
  kc -n kube-system create configmap "${RECORD}" >/dev/null 2>&1 || true
  kc -n kube-system patch configmap "${RECORD}" --type merge -p "{\"data\":{\"${NAME}\":\"${HASH}\"}}" >/dev/null
  log "ready in $((SECONDS - start)) s (${IMAGES[*]})"
}

down() {
  render | remove
  kc -n kube-system patch configmap "${RECORD}" --type json -p "[{\"op\":\"remove\",\"path\":\"/data/${NAME}\"}]" \
    >/dev/null 2>&1 || true
  log "removed"
}

case ${action} in
up) up ;;
down) down ;;
images) printf '%s\n' "${REF[@]}" ;;
render) render ;;
*) die "usage: $0 up|down|images|render NAME" ;;
esac
