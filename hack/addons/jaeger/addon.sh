# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# Jaeger (jaeger.yaml) in namespace monitoring: the cluster's trace store. Jaeger v2, in memory (traces
# are gone when its pod goes), receives OTLP/HTTP from the OpenTelemetry Collector at
# jaeger.monitoring:4318 and answers its HTTP query API on port 16686 (/api/traces/<trace id>). Built
# from Go module sources (hack/tools/install-tools.sh jaeger) without the web UI, whose assets the module
# does not hold. The lifecycle is hack/addons/addon.sh's; MONITORING=0 leaves this add-on out.
NAMESPACE=monitoring
IMAGES=("jaeger:${JAEGER_VERSION}")
# Upstream publishes Jaeger v2 under its v2 release numbers: the one of module v1.75.0.
PUBLISHED=("docker.io/jaegertracing/jaeger:2.12.0")
MANIFESTS=(jaeger.yaml)
WORKLOADS=(deployment/jaeger)
READY_TIMEOUT=${MONITORING_READY_TIMEOUT:-300}
