#!/usr/bin/env bash
# Prometheus and an OpenTelemetry Collector on the kind cluster, run the way a platform team runs them,
# in namespace monitoring (hack/monitoring/): the Prometheus Operator and one Prometheus, selecting every
# ServiceMonitor and PrometheusRule; the collector, receiving OTLP/HTTP at otel-collector.monitoring:4318
# and logging every span.
#
#   up     build the four images once per version (Go module sources -> FROM-scratch images), push them
#          to the local registry (hack/registry.sh), apply the operator, the Prometheus and the collector,
#          wait until they are ready. Idempotent; a warm run checks and applies only.
#   down   delete them, and the operator's CRDs
#
# The operator's own manifests are upstream's bundle.yaml from the pinned, downloaded module, with the
# images pointed at the local registry (hack/monitoring/operator-kustomization.yaml).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/lib.sh
. "$HERE/lib.sh"
cluster_settings
BIN=$ROOT/.tools/bin
REGISTRY=$("$HERE/registry.sh" address)
RELEASE=v$(prometheus_release)
OPERATOR=$PROMETHEUS_OPERATOR_VERSION
READY_TIMEOUT=${MONITORING_READY_TIMEOUT:-300}

log() { echo "monitoring: $*" >&2; }

# push NAME TAG: the FROM-scratch image of .tools/bin/NAME as REGISTRY/NAME:TAG.
push() { push_scratch_image "$BIN/$1" "$REGISTRY/$1:$2"; }

images() {
	"$HERE/install-tools.sh" prometheus prometheus-operator >&2
	push prometheus "$RELEASE"
	push prometheus-operator "$OPERATOR"
	push prometheus-config-reloader "$OPERATOR"
}

# Already up with these versions: nothing to apply (the warm path of `make up`).
current() {
	[ "$(kc -n monitoring get prometheus prometheus -o jsonpath='{.spec.version}' 2>/dev/null)" = "$RELEASE" ] &&
		[ "$(running_image monitoring deployment/prometheus-operator)" = \
			"$REGISTRY/prometheus-operator:$OPERATOR" ] &&
		kc -n monitoring wait --for condition=Available --timeout 1s prometheus/prometheus >/dev/null 2>&1
}

prometheus() {
	local start=$SECONDS work bundle
	if current; then
		log "Prometheus $RELEASE (operator $OPERATOR) is up in namespace monitoring"
		return
	fi
	images
	bundle="$(mod_field "github.com/prometheus-operator/prometheus-operator@$OPERATOR" Dir)/bundle.yaml"
	work=$(mktemp -d)
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" RETURN
	cp "$bundle" "$work/bundle.yaml"
	sed -e "s#REGISTRY#$REGISTRY#g" -e "s#OPERATOR_VERSION#$OPERATOR#g" \
		"$HERE/monitoring/operator-kustomization.yaml" >"$work/kustomization.yaml"
	kc create namespace monitoring --dry-run=client -o yaml | kc apply -f - >/dev/null
	# Server-side: the CRDs are larger than the last-applied annotation allows.
	kc apply --server-side --force-conflicts -k "$work" >/dev/null
	kc wait --for condition=Established --timeout 60s crd/prometheuses.monitoring.coreos.com >/dev/null
	kc -n monitoring rollout status deployment/prometheus-operator --timeout "${READY_TIMEOUT}s" >/dev/null
	sed -e "s#PROMETHEUS_IMAGE#$REGISTRY/prometheus:$RELEASE#" -e "s#PROMETHEUS_RELEASE#$RELEASE#" \
		"$HERE/monitoring/prometheus.yaml" | kc apply -f - >/dev/null
	# The operator makes the StatefulSet a moment after the Prometheus object.
	kc -n monitoring wait --for condition=Available --timeout "${READY_TIMEOUT}s" prometheus/prometheus >/dev/null
	log "Prometheus $RELEASE (operator $OPERATOR) ready in namespace monitoring ($((SECONDS - start)) s)"
}

# The collector: built and pushed only when the Deployment runs another image; applied every time (a
# no-op when nothing changed), the manifest's checksum on the pod template so a new config rolls the pod.
collector() {
	local start=$SECONDS image=$REGISTRY/otelcol:$OTELCOL_VERSION manifest=$HERE/monitoring/otel-collector.yaml
	if [ "$(running_image monitoring deployment/otel-collector)" != "$image" ]; then
		"$HERE/install-tools.sh" otelcol >&2
		push otelcol "$OTELCOL_VERSION"
	fi
	sed -e "s#OTELCOL_IMAGE#$image#" -e "s#MANIFEST_CHECKSUM#$(sha256sum "$manifest" | cut -c1-16)#" "$manifest" |
		kc apply -f - >/dev/null
	kc -n monitoring rollout status deployment/otel-collector --timeout "${READY_TIMEOUT}s" >/dev/null
	log "OpenTelemetry Collector $OTELCOL_VERSION ready at otel-collector.monitoring:4318 ($((SECONDS - start)) s)"
}

up() {
	prometheus
	collector
}

down() {
	kc delete --ignore-not-found -n monitoring prometheus/prometheus >/dev/null 2>&1 || true
	kc delete --ignore-not-found namespace monitoring >/dev/null
	kc get crd -o name | grep 'monitoring.coreos.com' | xargs -r "$KUBECTL" --context "$CONTEXT" delete >/dev/null
	log "removed"
}

case ${1:-} in
up) up ;;
down) down ;;
*) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
