#!/usr/bin/env bash
# kube-router as the kind cluster's NetworkPolicy agent (hack/netpol/kube-router.yaml): its firewall
# controller only, a DaemonSet in kube-system, so the chart's NetworkPolicy is enforced, not just stored.
#
#   up     build kube-router once per version (Go module sources, hack/install-tools.sh kube-router),
#          put it in an image FROM a local Debian root with ipset and iptables (hack/base-image.sh),
#          push that to the local registry (hack/registry.sh), apply the DaemonSet, and wait until every
#          agent has synced its rules once. Idempotent; a warm run checks only.
#   down   delete the agent, and the rules and ipsets it made in each node
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
. "$HERE/lib.sh"
cluster_settings
IMAGE=$("$HERE/registry.sh" address)/kube-router:$KUBE_ROUTER_VERSION
MANIFEST=$HERE/netpol/kube-router.yaml
READY_TIMEOUT=${NETPOL_READY_TIMEOUT:-120}
CONFIG_HASH=$(cat "$MANIFEST" <(echo "$IMAGE") | sha256sum | cut -c1-16)

log() { echo "netpol: $*" >&2; }
manifest() { sed -e "s#KUBE_ROUTER_IMAGE#$IMAGE#" -e "s#CONFIG_HASH#$CONFIG_HASH#" "$MANIFEST"; }
pods() { kc -n kube-system get pods -l app.kubernetes.io/name=kube-router -o name; }

# True when every agent has logged a finished sync of its iptables rules (-v=1 logs each one).
synced() {
	local pod logs
	for pod in $(pods); do
		# Captured first: `kc logs | grep -q` fails under pipefail when grep stops reading early.
		logs=$(kc -n kube-system logs "$pod" 2>/dev/null) || return 1
		grep -q 'sync iptables took' <<<"$logs" || return 1
	done
}

current() { applied_config kube-system daemonset/kube-router flask-service.dev/netpol-config "$CONFIG_HASH" && synced; }

image() {
	registry_has "$IMAGE" && return
	kube_router_image "$IMAGE"
	"$DOCKER" push -q "$IMAGE" >/dev/null
	log "pushed $IMAGE"
}

up() {
	local start=$SECONDS
	if current; then
		log "kube-router $KUBE_ROUTER_VERSION enforces NetworkPolicies"
		return
	fi
	image
	manifest | kc apply -f - >/dev/null
	kc -n kube-system rollout status daemonset/kube-router --timeout "${READY_TIMEOUT}s" >/dev/null
	# A pod is admitted by a policy only once the agent has synced after it started: wait for the first.
	local deadline=$((SECONDS + READY_TIMEOUT))
	until synced; do
		if ((SECONDS > deadline)); then
			kc -n kube-system logs --tail 20 -l app.kubernetes.io/name=kube-router >&2 || true
			log "kube-router did not sync within ${READY_TIMEOUT} s"
			exit 1
		fi
		sleep 1
	done
	log "kube-router $KUBE_ROUTER_VERSION enforces NetworkPolicies ($((SECONDS - start)) s)"
}

# The agent's rules outlive it: without it, a pod that starts later is never added to the policies'
# ipsets and stays shut out. So once the agent's pods are gone (a running one would sync the rules
# back), remove its chains and ipsets from each node. Not `kube-router --cleanup-config`: in v2.1.0 it
# runs the policy cleanup on an uninitialised controller, which removes nothing (and then panics).
CHAINS='KUBE-ROUTER-|KUBE-POD-FW-|KUBE-NWPLCY-'
down() {
	local node
	manifest | kc delete --ignore-not-found -f - >/dev/null 2>&1 || true
	kc -n kube-system wait --for=delete pod -l app.kubernetes.io/name=kube-router --timeout 60s >/dev/null 2>&1 || true
	for node in $("$DOCKER" ps -q --filter "label=io.x-k8s.kind.cluster=${CLUSTER_NAME:-flask-service}"); do
		# The node's own iptables (and its xtables lock): the filter table without any line that names one
		# of the agent's chains, restored whole, which deletes those chains.
		"$DOCKER" exec "$node" sh -c "iptables-save -t filter 2>/dev/null | grep -Ev -- '$CHAINS' | iptables-restore" ||
			log "could not remove the rules on node $node"
		# The node has no ipset: the agent's image has, in the node's network namespace.
		if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
			"$DOCKER" run --rm --network "container:$node" --cap-drop ALL --cap-add NET_ADMIN --entrypoint sh "$IMAGE" \
				-c "ipset list -n | grep -E '^(inet6:)?KUBE-(SRC|DST)-' | xargs -r -n 1 ipset destroy" ||
				log "could not remove the ipsets on node $node"
		fi
	done
	log "removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
