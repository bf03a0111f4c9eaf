#!/usr/bin/env bash
# The project's local kind cluster: hack/cluster/cluster.sh up|down|status
#
#   up      create the cluster (k8s/kind-config.yaml, name $CLUSTER_NAME, kube
#           context kind-$CLUSTER_NAME), or reuse a healthy one, and wait until
#           every node is Ready and CoreDNS serves; the local registry
#           (hack/cluster/registry.sh) runs beside it and the nodes pull from it;
#           then the add-ons of hack/addons/ (hack/addons/addon.sh up NAME):
#           Prometheus with kube-state-metrics, an OpenTelemetry Collector and
#           Jaeger (MONITORING=0 leaves them out), Traefik for Gateway API routes and Ingresses (ROUTING=0),
#           metrics-server for the resource metrics API that HorizontalPodAutoscalers
#           read (METRICS=0), kube-router to enforce NetworkPolicies (NETPOL=0), and
#           Kyverno's admission controller to admit only signed images of the project (ADMISSION=0)
#   down    delete it
#   status  exit 0 when the cluster exists, every node is Ready and CoreDNS runs
#
# CLUSTER_NAME (default flask-service) names the cluster, so a second one can
# run beside the first (the benchmarks use their own). WORKERS (default 1) is the
# number of worker nodes beside the control plane; a cluster with another number
# is recreated.
#
# Node image (KIND_NODE_IMAGE):
#   unset      build it locally with hack/images/node-image.sh: works with no registry
#              at all (the air-gapped path; needs hack/tools/build-k8s.sh's binaries)
#   published  kind's published image of the same Kubernetes version, pinned by
#              digest (needs access to Docker Hub)
#   any ref    that image, as is
#
# Tools: .tools/bin/kind and .tools/bin/kubectl (hack/tools/install-tools.sh), and a
# running engine (hack/tools/docker-engine.sh start). kind runs `docker` from PATH; it
# is pointed at $DOCKER (default /usr/bin/docker, the engine's own client).
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
CONFIG=$ROOT/k8s/kind-config.yaml
NAME=$CLUSTER_NAME
# kind v0.32.0's published node image for Kubernetes 1.34 (its release notes
# list v1.34.8 for this minor; kind publishes no v1.34.4). Pinned by digest, as
# kind asks: a tag alone may name an image built for another kind release.
PUBLISHED_NODE_IMAGE=${PUBLISHED_NODE_IMAGE:-kindest/node:v1.34.8@sha256:02722c2dedddcfc00febf5d27fbeb9b7b2c14294c82109ff4a85d89ac9ba3256}
WAIT=${CLUSTER_WAIT_TIMEOUT:-300s}
WORKERS=${WORKERS:-1}
[[ $WORKERS =~ ^[0-9]+$ ]] || die "WORKERS must be a whole number, not '$WORKERS'"

preflight() {
  [ -x "$KIND" ] || die "$KIND is missing (hack/tools/install-tools.sh kind)"
  [ -x "$KUBECTL" ] || die "$KUBECTL is missing (hack/tools/install-tools.sh kubectl)"
  "$DOCKER" info >/dev/null 2>&1 || die "no Docker engine (hack/tools/docker-engine.sh start)"
  # kind calls plain `docker`: make it the engine's client.
  shim=$(mktemp -d "${TMPDIR:-/tmp}/cluster-docker.XXXXXX")
  trap 'rm -rf "$shim"' EXIT
  ln -s "$DOCKER" "$shim/docker"
  export PATH="$shim:$PATH"
}

exists() { "$KIND" get clusters 2>/dev/null | grep -qx "$NAME"; }

# Node Ready and CoreDNS available, waiting up to $1.
wait_ready() {
  local timeout=$1
  kc wait --for=condition=Ready node --all --timeout="$timeout" >&2
  kc -n kube-system rollout status deployment/coredns --timeout="$timeout" >&2
}

# k8s/kind-config.yaml with WORKERS worker nodes.
config() {
  sed '/^  - role: worker$/d' "$CONFIG"
  for ((i = 0; i < WORKERS; i++)); do echo "  - role: worker"; done
}

healthy() {
  exists || return 1
  local node nodes
  nodes=$("$KIND" get nodes --name "$NAME" 2>/dev/null) || return 1
  [ "$(wc -l <<<"$nodes")" -eq $((WORKERS + 1)) ] || return 1
  for node in $nodes; do
    [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$node" 2>/dev/null)" = true ] || return 1
  done
  # The kubeconfig entry may be missing (another HOME, a deleted file).
  "$KIND" export kubeconfig --name "$NAME" >/dev/null 2>&1 || return 1
  kc get --raw /readyz >/dev/null 2>&1 || return 1
  wait_ready 5s >/dev/null 2>&1
}

node_image() {
  case ${KIND_NODE_IMAGE:-} in
  '') "$HACK/images/node-image.sh" ;;
  published) echo "$PUBLISHED_NODE_IMAGE" ;;
  *) echo "$KIND_NODE_IMAGE" ;;
  esac
}

up() {
  preflight
  "$HACK/cluster/registry.sh" up
  if healthy; then
    "$HACK/cluster/registry.sh" wire
    addons
    log "cluster $NAME is up (context $CONTEXT)"
    return 0
  fi
  if exists; then
    # A node container that was stopped (e.g. a reboot) comes back with a
    # new address its certificates do not name, and a cluster of another
    # size than WORKERS is not the one asked for: start over.
    log "cluster $NAME exists but is not healthy or not $((WORKERS + 1)) nodes: recreating it"
    "$KIND" delete cluster --name "$NAME" >&2
  fi
  local image start
  image=$(node_image)
  log "creating cluster $NAME ($((WORKERS + 1)) nodes) with $image"
  start=$SECONDS
  config | "$KIND" create cluster --name "$NAME" --config - --image "$image" --wait "$WAIT" >&2
  wait_ready "$WAIT"
  "$HACK/cluster/registry.sh" wire
  addons
  log "cluster $NAME is up in $((SECONDS - start)) s (context $CONTEXT)"
}

# The add-ons spend most of their time waiting for pods (or, on a cold machine, for their builds): they come
# up side by side (on a new cluster 110 s one after another). kube-state-metrics needs the ServiceMonitor kind
# that the Prometheus add-on serves, so it comes up after that one, in the same group; on a cold machine the
# Prometheus build alone took 17 minutes, longer than any wait for it should be.
addons() {
  local names=() pids=() i failed=()
  [ "${MONITORING:-1}" = 1 ] && names+=("prometheus kube-state-metrics" otel-collector jaeger)
  # Kyverno's registry forwarder runs the Traefik binary: after the Traefik add-on, which builds it.
  local routing=()
  [ "${ROUTING:-1}" = 1 ] && routing+=(traefik)
  [ "${ADMISSION:-1}" = 1 ] && routing+=(kyverno)
  [ ${#routing[@]} -eq 0 ] || names+=("${routing[*]}")
  [ "${METRICS:-1}" = 1 ] && names+=(metrics-server)
  [ "${NETPOL:-1}" = 1 ] && names+=(kube-router)
  for i in "${names[@]}"; do
    # shellcheck disable=SC2086  # a group's add-ons, one after another
    (for addon in $i; do "$HACK/addons/addon.sh" up "$addon" || exit; done) &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed+=("${names[$i]}")
  done
  [ ${#failed[@]} -eq 0 ] || die "add-ons failed: ${failed[*]} (hack/addons/addon.sh up NAME alone shows why)"
}

down() {
  preflight
  if exists; then
    "$KIND" delete cluster --name "$NAME" >&2
  else
    log "no cluster $NAME"
  fi
}

status() {
  preflight
  if healthy; then
    kc get nodes -o wide
    echo "cluster $NAME: ready (context $CONTEXT)"
  else
    echo "cluster $NAME: not ready"
    return 1
  fi
}

# One `up` or `down` of a cluster at a time: a second waits for the first (CI creates the cluster while the
# fast test tiers run, and the e2e tier's `up` then finds it made), instead of judging a half-made
# cluster unhealthy and recreating it.
lock() {
  exec 9>"${TMPDIR:-/tmp}/flask-service-cluster-${NAME}.lock"
  flock 9
}

case ${1:-} in
up) lock && up ;;
down) lock && down ;;
status) status ;;
*) die "usage: $0 up|down|status" ;;
esac
