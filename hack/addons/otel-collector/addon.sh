# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# An OpenTelemetry Collector (otel-collector.yaml), Deployment and Service otel-collector in namespace
# monitoring: OTLP/HTTP in at otel-collector.monitoring:4318, every span written to its log. With
# AIRGAP=1 it holds only the core components it needs, assembled by the collector's own builder
# (otelcol-builder.yaml, hack/tools/install-tools.sh otelcol). The lifecycle is hack/addons/addon.sh's;
# MONITORING=0 leaves this add-on out, with Prometheus.
NAMESPACE=monitoring
IMAGES=("otelcol:${OTELCOL_VERSION}")
# Upstream's core distribution, which has the same components (and more); its tags have no "v".
PUBLISHED=("docker.io/otel/opentelemetry-collector:${OTELCOL_VERSION#v}")
MANIFESTS=(otel-collector.yaml)
WORKLOADS=(deployment/otel-collector)
READY_TIMEOUT=${MONITORING_READY_TIMEOUT:-300}
