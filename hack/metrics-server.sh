#!/usr/bin/env bash
# metrics-server on the kind cluster (hack/metrics-server/metrics-server.yaml): the resource metrics API
# (metrics.k8s.io) that the chart's HorizontalPodAutoscaler and `kubectl top` read, in kube-system.
#
#   up     build metrics-server once per version (Go module sources, hack/install-tools.sh
#          metrics-server), push it as a FROM-scratch image to the local registry (hack/registry.sh),
#          apply the manifest (the APIService once the Service routes to a ready pod), and wait until
#          the APIService v1beta1.metrics.k8s.io is Available and `kubectl top pods -A` answers (the
#          first scrape of every kubelet is in). Idempotent; a warm run checks only.
#   down   delete metrics-server and its APIService
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
. "$HERE/lib.sh"
cluster_settings
IMAGE=$("$HERE/registry.sh" address)/metrics-server:$METRICS_SERVER_VERSION
MANIFEST=$HERE/metrics-server/metrics-server.yaml
READY_TIMEOUT=${METRICS_READY_TIMEOUT:-180}
# What is deployed: the manifest and the image. A change rolls the pod.
CONFIG_HASH=$(cat "$MANIFEST" <(echo "$IMAGE") | sha256sum | cut -c1-16)

# The label of the APIService, which is applied after the rest and deleted before it.
API_LABEL=flask-service.dev/aggregated-api
log() { echo "metrics-server: $*" >&2; }
manifest() { sed -e "s#METRICS_SERVER_IMAGE#$IMAGE#" -e "s#CONFIG_HASH#$CONFIG_HASH#" "$MANIFEST"; }

# The API is served and has samples: the kube-apiserver reaches the pod, and the pod each kubelet.
serving() {
	kc wait --for condition=Available --timeout 1s apiservice/v1beta1.metrics.k8s.io >/dev/null 2>&1 &&
		kc top pods -A >/dev/null 2>&1
}

# Every node's kube-proxy sends the Service's ClusterIP to the ready pod. Until then a connection from the
# node (the kube-apiserver's, host network) to the ClusterIP is not translated: it leaves by the node's
# default route, and once established it stays untranslated for as long as it is kept alive, so the
# aggregator would never reach the pod. Read in the nodes' nat tables (kube-proxy's iptables mode,
# k8s/kind-config.yaml): kube-proxy names each endpoint's rule "<namespace>/<service>:<port> -> <pod>".
routed() {
	local node rules
	for node in $("$DOCKER" ps -q --filter "label=io.x-k8s.kind.cluster=${CLUSTER_NAME:-flask-service}"); do
		rules=$("$DOCKER" exec "$node" iptables-save -t nat 2>/dev/null) || return 1
		grep -qF -- 'kube-system/metrics-server:https -> ' <<<"$rules" || return 1
	done
}

# wait_for WHAT CHECK: run CHECK every 2 s until it passes, READY_TIMEOUT at most.
wait_for() {
	local deadline=$((SECONDS + READY_TIMEOUT))
	until "$2"; do
		if ((SECONDS > deadline)); then
			kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions}' >&2 2>/dev/null || true
			kc -n kube-system logs --tail 20 deployment/metrics-server >&2 || true
			log "timed out after ${READY_TIMEOUT} s waiting until $1"
			exit 1
		fi
		sleep 2
	done
}

current() {
	applied_config kube-system deployment/metrics-server flask-service.dev/metrics-server-config "$CONFIG_HASH" && serving
}

up() {
	local start=$SECONDS
	if current; then
		log "metrics-server $METRICS_SERVER_VERSION serves metrics.k8s.io"
		return
	fi
	"$HERE/install-tools.sh" metrics-server >&2
	push_scratch_image "$ROOT/.tools/bin/metrics-server" "$IMAGE"
	# The APIService last (routed() says why): first the server, its Service and a ready pod behind it.
	manifest | kc apply -l "$API_LABEL!=true" -f - >/dev/null
	kc -n kube-system rollout status deployment/metrics-server --timeout "${READY_TIMEOUT}s" >/dev/null
	wait_for "the Service routes to the pod" routed
	manifest | kc apply -f - >/dev/null
	wait_for "metrics.k8s.io answers" serving
	log "metrics-server $METRICS_SERVER_VERSION serves metrics.k8s.io ($((SECONDS - start)) s)"
}

down() {
	# The APIService first, while its Service still routes (routed() says why).
	manifest | kc delete --ignore-not-found -l "$API_LABEL=true" -f - >/dev/null
	manifest | kc delete --ignore-not-found -f - >/dev/null
	log "removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
