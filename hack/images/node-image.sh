#!/usr/bin/env bash
# Build the kind node image locally, for machines that cannot pull from a registry.
#
#   hack/images/node-image.sh          build (or reuse) the image; prints its tag on stdout
#   hack/images/node-image.sh roots    only make (or reuse) the Debian roots it is built on (debootstrap: the
#                               network and the disk, no Go binaries needed), e.g. while Go builds
#
# `kind build node-image` cannot work offline: it pulls its base image and,
# inside the build, etcd, CoreDNS, pause, kindnetd and local-path images. This
# script assembles an equivalent node from local parts only:
#   - a systemd Debian bookworm root made by hack/images/base-image.sh (debootstrap),
#     with Debian's containerd, runc and CNI plugins;
#   - kubeadm, kubelet, kubectl and crictl from hack/tools/build-k8s.sh;
#   - the node's own entrypoint, systemd units and containerd/CNI config
#     (hack/images/kind-node/files);
#   - every image `kubeadm config images list` names, built here from the same
#     binaries (pause from hack/images/kind-node/images/pause.c), and the pod network's
#     kube-router image (hack/images/kube-router-image.sh; the DaemonSet that kind
#     applies from hack/images/kind-node/files/kind/manifests/default-cni.yaml), all
#     imported into the node's containerd (namespace k8s.io), so nothing is pulled.
#
# The tag is flask-service/kind-node:<k8s version>-<hash of every input>, so an
# unchanged tree reuses the image (a warm run takes seconds);
# flask-service/kind-node:<k8s version> is moved to it.
# Needs root, a running engine (hack/tools/docker-engine.sh start) and the binaries
# (hack/tools/build-k8s.sh). Progress goes to stderr.
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NODE_DIR=$HACK/images/kind-node
REPO=flask-service/kind-node
# Packages of the node root: systemd as init, the container runtime, what
# kubeadm, the kubelet and kube-proxy call (iptables, conntrack, mount, nsenter,
# ethtool, socat for port-forward) and jq for the runtime hooks.
NODE_PACKAGES=systemd,systemd-sysv,dbus,containerd,runc,containernetworking-plugins,conntrack,iptables,nftables,iproute2,ethtool,socat,ebtables,kmod,mount,util-linux,procps,ca-certificates,jq,bash,e2fsprogs,pigz,libseccomp2
# Packages under the component images (kube-proxy programs iptables).
COMPONENT_PACKAGES=iptables,conntrack,ipset,kmod,ca-certificates
NODE_BINARIES=(kubeadm kubelet kubectl crictl)
# kubeadm image name (registry.k8s.io/<name>) -> binary inside it.
declare -A IMAGE_BINARY=(
  ["kube-apiserver"]=kube-apiserver
  ["kube-controller-manager"]=kube-controller-manager
  ["kube-scheduler"]=kube-scheduler
  ["kube-proxy"]=kube-proxy
  [etcd]=etcd
  ["coredns/coredns"]=coredns
  [pause]=pause
)

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, docker)"
"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine (hack/tools/docker-engine.sh start)"

# Base roots (cached by hack/images/base-image.sh itself).
roots() {
  node_base=$("$HACK/images/base-image.sh" flask-service-kind-node-base "$NODE_PACKAGES")
  component_base=$("$HACK/images/base-image.sh" flask-service-k8s-component-base "$COMPONENT_PACKAGES")
}
if [ "${1:-}" = roots ]; then
  roots
  "$HACK/images/base-image.sh" flask-service-kube-router-base ipset,iptables >/dev/null
  exit 0
fi
command -v cc >/dev/null || die "a C compiler is needed for the pause binary (apt-get install gcc libc6-dev)"
BIN=$("$HACK/tools/build-k8s.sh" bin-dir-only)
for b in "${NODE_BINARIES[@]}" "${IMAGE_BINARY[@]}"; do
  [ "$b" = pause ] && continue
  [ -x "$BIN/$b" ] || die "$BIN/$b is missing: run hack/tools/build-k8s.sh first"
done
"$BIN/kubeadm" version -o short | grep -qx "$KUBERNETES_VERSION" ||
  die "$BIN/kubeadm is not $KUBERNETES_VERSION: run hack/tools/build-k8s.sh"

start=$SECONDS
roots
# The pod network's image, under the name the NetworkPolicy agent pulls too (hack/addons/kube-router): in the node
# already, it is never pulled.
network_image=$("$HACK/cluster/registry.sh" address)/kube-router:$KUBE_ROUTER_VERSION
"$HACK/images/kube-router-image.sh" "$network_image"

# The images kubeadm will ask for, exactly as it spells them.
mapfile -t required < <("$BIN/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION")
[ ${#required[@]} -gt 0 ] || die "kubeadm listed no images"
for ref in "${required[@]}"; do
  name=${ref#registry.k8s.io/}
  name=${name%:*}
  [ -n "${IMAGE_BINARY[$name]:-}" ] || die "kubeadm wants $ref, which this script cannot build"
done
pause_ref=$(printf '%s\n' "${required[@]}" | grep '/pause:')
[ "$pause_ref" = "registry.k8s.io/pause:$PAUSE_IMAGE_TAG" ] ||
  die "kubeadm wants $pause_ref but hack/versions.env says pause $PAUSE_IMAGE_TAG"

# Hash of every input: this script, the node files, the versions, the
# binaries and the two base images (by image ID: a rebuilt base is a new input).
# Of the versions, only the Kubernetes components' (the kube-router image enters
# by its ID): bumping a tool that never enters the node does not rebuild it.
hash=$(
  {
    cat "${BASH_SOURCE[0]}"
    grep -E '^(KUBERNETES|KUBERNETES_STAGING|ETCD|ETCD_IMAGE|COREDNS|PAUSE_IMAGE|CRICTL)_' "$HACK/versions.env"
    (cd "$NODE_DIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    # The binaries by size and modification time, as make judges files: only hack/tools/build-k8s.sh writes
    # them, and hashing their 670 MB took 3 s of every warm `make up`.
    # shellcheck disable=SC2046  # the image binaries, a word list
    (cd "$BIN" && stat -c '%n %s %Y' "${NODE_BINARIES[@]}" $(printf '%s\n' "${IMAGE_BINARY[@]}" | grep -vx pause | sort))
    echo "$network_image"
    "$DOCKER" image inspect --format '{{.Id}}' "$node_base" "$component_base" "$network_image"
  } | sha256sum | cut -c1-12
)
tag=$REPO:$KUBERNETES_VERSION-$hash
stable=$REPO:$KUBERNETES_VERSION
if "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
  log "reusing $tag"
  "$DOCKER" tag "$tag" "$stable"
  echo "$tag"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/node-image.XXXXXX")
builder=flask-service-node-build-$$
cleanup() {
  "$DOCKER" rm -f -v "$builder" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# Classic builder: the Docker 20.10 CLI here has no buildx, and nothing below
# needs BuildKit.
build() { DOCKER_BUILDKIT=0 "$DOCKER" build -q "$@" >/dev/null; }

# 1. Component images, tagged exactly as kubeadm expects.
mkdir -p "$work/components"
cp "$NODE_DIR"/images/Dockerfile.* "$work/components/"
for b in "${IMAGE_BINARY[@]}"; do
  [ "$b" = pause ] || cp "$BIN/$b" "$work/components/$b"
done
cc -static -Os -s -Wall -Wextra -Werror -o "$work/components/pause" "$NODE_DIR/images/pause.c"
for ref in "${required[@]}"; do
  name=${ref#registry.k8s.io/}
  name=${name%:*}
  binary=${IMAGE_BINARY[$name]}
  log "building $ref"
  case $binary in
  pause) build -f "$work/components/Dockerfile.pause" -t "$ref" "$work/components" ;;
  coredns) build -f "$work/components/Dockerfile.coredns" --build-arg "BASE_IMAGE=$component_base" -t "$ref" "$work/components" ;;
  *) build -f "$work/components/Dockerfile.component" --build-arg "BASE_IMAGE=$component_base" \
    --build-arg "BINARY=$binary" -t "$ref" "$work/components" ;;
  esac
done

# 2. The node root: base + binaries + the node's own files.
mkdir -p "$work/node/bin"
cp -a "$NODE_DIR/files" "$work/node/files"
sed -i "s/@PAUSE_IMAGE_TAG@/$PAUSE_IMAGE_TAG/" "$work/node/files/etc/containerd/config.toml"
sed -i "s#@KUBE_ROUTER_IMAGE@#$network_image#" "$work/node/files/kind/manifests/default-cni.yaml"
for b in "${NODE_BINARIES[@]}"; do cp "$BIN/$b" "$work/node/bin/$b"; done
log "building the node root from $node_base"
stage=$REPO:stage-$hash
build -f "$NODE_DIR/images/Dockerfile.node" --build-arg "BASE_IMAGE=$node_base" \
  --build-arg "KUBERNETES_VERSION=$KUBERNETES_VERSION" -t "$stage" "$work/node"

# 3. Import the component images into the node's containerd, as kind's own
# node build does: run the node root with a plain sleep, start containerd in
# it, import (without unpacking: no overlay snapshots on the image's overlay
# root; containerd unpacks on first use, on the /var volume kind mounts), stop
# containerd cleanly, commit.
images=("${required[@]}" "$network_image")
log "importing ${#images[@]} images into the node's containerd"
"$DOCKER" run -d --name "$builder" --entrypoint sleep "$stage" infinity >/dev/null
"$DOCKER" exec "$builder" sh -c 'containerd >/tmp/containerd.log 2>&1 & echo $! >/tmp/containerd.pid'
for _ in $(seq 1 30); do
  "$DOCKER" exec "$builder" ctr version >/dev/null 2>&1 && break
  sleep 1
done
"$DOCKER" exec "$builder" ctr version >/dev/null || {
  "$DOCKER" exec "$builder" cat /tmp/containerd.log >&2 || true
  die "containerd did not start in the build container"
}
"$DOCKER" save "${images[@]}" |
  "$DOCKER" exec -i "$builder" ctr --namespace=k8s.io images import --no-unpack - >/dev/null
imported=$("$DOCKER" exec "$builder" ctr --namespace=k8s.io images list -q)
for ref in "${images[@]}"; do
  grep -qxF "$ref" <<<"$imported" || die "$ref is missing from the node's containerd after import"
done
# `sleep` as PID 1 reaps nobody: the stopped containerd stays a zombie, so wait for that state.
# shellcheck disable=SC2016  # expanded by the builder's shell
"$DOCKER" exec "$builder" sh -c 'pid=$(cat /tmp/containerd.pid); kill "$pid"; for _ in $(seq 1 300); do grep -q "^State:[[:space:]]*[ZX]" /proc/$pid/status 2>/dev/null || [ ! -d /proc/$pid ] && break; sleep 0.1; done; rm -f /tmp/containerd.pid /tmp/containerd.log'
"$DOCKER" commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change 'CMD []' \
  "$builder" "$tag" >/dev/null
"$DOCKER" tag "$tag" "$stable"
# The stage image can only go once the container made from it is gone.
"$DOCKER" rm -f -v "$builder" >/dev/null
"$DOCKER" rmi "$stage" >/dev/null
log "built $tag in $((SECONDS - start)) s ($("$DOCKER" image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
echo "$tag"
