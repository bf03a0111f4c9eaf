#!/usr/bin/env bash
# The local OCI registry beside the kind cluster, wired the way kind documents it
# (https://kind.sigs.k8s.io/docs/user/local-registry/):
#
#   up      build its image (once per version), start the container, published on
#           127.0.0.1:$REGISTRY_PORT only; its storage is a named volume, so what was
#           pushed survives `make down`
#   wire    for the cluster $CLUSTER_NAME: connect the registry to Docker's `kind` network,
#           give every node's containerd a certs.d/localhost:$REGISTRY_PORT/hosts.toml that
#           sends pulls of localhost:$REGISTRY_PORT/... to the registry container (and one for
#           its in-cluster name), and publish the local-registry-hosting ConfigMap in
#           kube-public (KEP-1755), with that name as hostFromClusterNetwork
#   down    stop and remove the container (the volume stays)
#   address print the registry's address as pushed to and pulled from: localhost:$REGISTRY_PORT
#   in-cluster  print its name and port on the `kind` network, which pods reach (through CoreDNS
#           to Docker's DNS) and nodes pull from: flask-service-registry:5000
#
# The registry is the CNCF Distribution registry, built from Go module sources
# (hack/tools/install-tools.sh registry) into a FROM-scratch image, with or without AIRGAP:
# the same binary either way, and nothing to pull.
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
NAME=flask-service-registry
PORT=${REGISTRY_PORT:-5001}
ADDRESS=localhost:$PORT
IN_CLUSTER=$NAME:5000
CERTS_D=/etc/containerd/certs.d
IMAGE=flask-service-registry:$REGISTRY_VERSION
CLUSTER=$CLUSTER_NAME

image() {
  "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 && return
  "$HACK/tools/install-tools.sh" registry >&2
  local ctx
  ctx=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" RETURN
  cp "$ROOT/.tools/bin/registry" "$HACK/cluster/registry/config.yml" "$ctx/"
  mkdir "$ctx/data"
  "$DOCKER" build -q -t "$IMAGE" -f "$HACK/cluster/registry/Dockerfile" "$ctx" >&2
}

running() { [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ]; }

# answers SECONDS: the registry answers on 127.0.0.1:$PORT within SECONDS seconds (each try bounded too: a
# paused or wedged registry accepts the connection and never answers).
answers() {
  local deadline=$((SECONDS + $1))
  until curl -fsS -m 1 -o /dev/null "http://127.0.0.1:$PORT/v2/" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

start() {
  "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true
  "$DOCKER" run -d --restart=always --name "$NAME" \
    -p "127.0.0.1:$PORT:5000" -v flask-service-registry:/var/lib/registry \
    --read-only --cap-drop ALL --security-opt no-new-privileges "$IMAGE" >/dev/null
  answers 10 && return
  "$DOCKER" logs "$NAME" >&2 || true
  die "the registry did not answer on 127.0.0.1:$PORT"
}

# A running registry is kept only when it answers: a CI run found one running (it had come back with the
# engine, as --restart=always does) with every push to it failing with EOF.
up() {
  image
  if running && [ "$("$DOCKER" inspect --format '{{.Config.Image}}' "$NAME")" = "$IMAGE" ]; then
    if answers 5; then
      log "up at $ADDRESS"
      return
    fi
    log "running but not answering on 127.0.0.1:$PORT: starting it again"
  fi
  start
  log "up at $ADDRESS ($IMAGE)"
}

# The registry on kind's network, where the nodes reach it by its container name.
join() {
  if [ "$("$DOCKER" inspect -f '{{json .NetworkSettings.Networks.kind}}' "$NAME")" = null ]; then
    "$DOCKER" network connect kind "$NAME"
  fi
}

wire() {
  running || die "the registry is not running (hack/cluster/registry.sh up)"
  join
  if ! answers 5; then
    log "not answering on 127.0.0.1:$PORT after joining the kind network: starting it again"
    "$DOCKER" inspect --format '{{json .NetworkSettings.Networks}}' "$NAME" >&2 || true
    start
    join
    answers 10 || die "the registry does not answer on 127.0.0.1:$PORT"
  fi
  local node hosts name
  hosts="[host.\"http://$IN_CLUSTER\"]"
  for node in $("$KIND" get nodes --name "$CLUSTER"); do
    for name in "$ADDRESS" "$IN_CLUSTER"; do
      # containerd reads certs.d on every pull: no restart needed.
      "$DOCKER" exec -i "$node" sh -c "mkdir -p $CERTS_D/$name && cat > $CERTS_D/$name/hosts.toml" <<<"$hosts"
    done
  done
  kc apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-registry-hosting
  namespace: kube-public
data:
  localRegistryHosting.v1: |
    host: "$ADDRESS"
    hostFromClusterNetwork: "$IN_CLUSTER"
    help: "https://kind.sigs.k8s.io/docs/user/local-registry/"
YAML
  log "cluster $CLUSTER pulls $ADDRESS/... from $NAME"
}

down() {
  "$DOCKER" rm -f "$NAME" >/dev/null 2>&1 || true
  log "stopped (volume flask-service-registry kept)"
}

case ${1:-} in
up) up ;;
wire) wire ;;
down) down ;;
address) echo "$ADDRESS" ;;
in-cluster) echo "$IN_CLUSTER" ;;
*) die "usage: $0 up|wire|down|address|in-cluster" ;;
esac
