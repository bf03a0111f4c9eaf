#!/usr/bin/env bash
# Traefik on the kind cluster as its Gateway API and Ingress controller (hack/routing/traefik.yaml):
# one Gateway, `traefik` in namespace traefik, that takes HTTPRoutes from every namespace, and the
# IngressClass `traefik`. The chart's HTTPRoute and Ingress default to both.
#
#   up     build Traefik once per version (Go module sources, hack/install-tools.sh traefik), push it as
#          a FROM-scratch image to the local registry (hack/registry.sh), apply the Gateway API CRDs
#          (standard channel, all of them: Traefik watches every standard kind) from the downloaded
#          sigs.k8s.io/gateway-api module, then Traefik, and wait until the Gateway is programmed.
#          Idempotent; a warm run checks only.
#   down   delete Traefik, its classes and the Gateway API CRDs
#
# TRAEFIK_IMAGE: another image to run instead of building one (with registry access, Traefik's
# published image pinned by digest: traefik:v3.7.13@sha256:...; its entrypoint passes flags on).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
. "$HERE/lib.sh"
cluster_settings
IMAGE=${TRAEFIK_IMAGE:-$("$HERE/registry.sh" address)/traefik:$TRAEFIK_VERSION}
MANIFEST=$HERE/routing/traefik.yaml
READY_TIMEOUT=${ROUTING_READY_TIMEOUT:-180}
# What is deployed: the manifest, the image and the CRDs' version. A change rolls Traefik's pod.
CONFIG_HASH=$(cat "$MANIFEST" <(echo "$IMAGE $GATEWAY_API_VERSION") | sha256sum | cut -c1-16)

log() { echo "routing: $*" >&2; }

crds() { echo "$(mod_field "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" Dir)/config/crd/standard"; }

# Already up with this configuration: nothing to apply (the warm path of `make up`).
current() {
	[ "$(kc -n traefik get deployment traefik \
		-o jsonpath='{.spec.template.metadata.annotations.flask-service\.dev/routing-config}' 2>/dev/null)" = "$CONFIG_HASH" ] &&
		kc -n traefik wait --for condition=Available --timeout 1s deployment/traefik >/dev/null 2>&1 &&
		kc -n traefik wait --for condition=Programmed --timeout 1s gateway/traefik >/dev/null 2>&1
}

up() {
	local start=$SECONDS
	if current; then
		log "Traefik $IMAGE (Gateway API $GATEWAY_API_VERSION) is up in namespace traefik"
		return
	fi
	if [ -z "${TRAEFIK_IMAGE:-}" ]; then
		"$HERE/install-tools.sh" traefik >&2
		push_scratch_image "$ROOT/.tools/bin/traefik" "$IMAGE"
	fi
	# Server-side: the CRDs are larger than the last-applied annotation allows.
	kc apply --server-side --force-conflicts -f "$(crds)" >/dev/null
	# shellcheck disable=SC2046  # one argument per CRD
	kc wait --for condition=Established --timeout 60s \
		$(kc get crd -o name | grep '\.gateway\.networking\.k8s\.io$') >/dev/null
	sed -e "s#TRAEFIK_IMAGE#$IMAGE#" -e "s#CONFIG_HASH#$CONFIG_HASH#" "$MANIFEST" | kc apply -f - >/dev/null
	kc -n traefik rollout status deployment/traefik --timeout "${READY_TIMEOUT}s" >/dev/null
	kc -n traefik wait --for condition=Programmed --timeout "${READY_TIMEOUT}s" gateway/traefik >/dev/null
	log "Traefik $IMAGE (Gateway API $GATEWAY_API_VERSION) ready in namespace traefik ($((SECONDS - start)) s)"
}

down() {
	sed -e "s#TRAEFIK_IMAGE#$IMAGE#" -e "s#CONFIG_HASH#$CONFIG_HASH#" "$MANIFEST" |
		kc delete --ignore-not-found -f - >/dev/null 2>&1 || true
	kc delete --ignore-not-found -f "$(crds)" >/dev/null
	log "removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
