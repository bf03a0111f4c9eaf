#!/usr/bin/env bash
# metrics-server on the kind cluster (hack/metrics-server/metrics-server.yaml): the resource metrics API
# (metrics.k8s.io) that the chart's HorizontalPodAutoscaler and `kubectl top` read, in kube-system.
#
#   up     build metrics-server once per version (Go module sources, hack/install-tools.sh
#          metrics-server), push it as a FROM-scratch image to the local registry (hack/registry.sh),
#          apply the manifest, and wait until the APIService v1beta1.metrics.k8s.io is Available and
#          `kubectl top pods -A` answers (the first scrape of every kubelet is in). Idempotent; a warm
#          run checks only.
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

log() { echo "metrics-server: $*" >&2; }
manifest() { sed -e "s#METRICS_SERVER_IMAGE#$IMAGE#" -e "s#CONFIG_HASH#$CONFIG_HASH#" "$MANIFEST"; }

# The API is served and has samples: the kube-apiserver reaches the pod, and the pod each kubelet.
serving() {
	kc wait --for condition=Available --timeout 1s apiservice/v1beta1.metrics.k8s.io >/dev/null 2>&1 &&
		kc top pods -A >/dev/null 2>&1
}

current() {
	[ "$(kc -n kube-system get deployment metrics-server \
		-o jsonpath='{.spec.template.metadata.annotations.flask-service\.dev/metrics-server-config}' 2>/dev/null)" = "$CONFIG_HASH" ] &&
		kc -n kube-system rollout status deployment/metrics-server --timeout 1s >/dev/null 2>&1 && serving
}

up() {
	local start=$SECONDS
	if current; then
		log "metrics-server $METRICS_SERVER_VERSION serves metrics.k8s.io"
		return
	fi
	"$HERE/install-tools.sh" metrics-server >&2
	push_scratch_image "$ROOT/.tools/bin/metrics-server" "$IMAGE"
	manifest | kc apply -f - >/dev/null
	kc -n kube-system rollout status deployment/metrics-server --timeout "${READY_TIMEOUT}s" >/dev/null
	local deadline=$((SECONDS + READY_TIMEOUT))
	until serving; do
		if ((SECONDS > deadline)); then
			kc get apiservice v1beta1.metrics.k8s.io -o jsonpath='{.status.conditions}' >&2 || true
			kc -n kube-system logs --tail 20 deployment/metrics-server >&2 || true
			log "metrics.k8s.io did not answer within ${READY_TIMEOUT} s"
			exit 1
		fi
		sleep 2
	done
	log "metrics-server $METRICS_SERVER_VERSION serves metrics.k8s.io ($((SECONDS - start)) s)"
}

down() {
	manifest | kc delete --ignore-not-found -f - >/dev/null
	log "removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
