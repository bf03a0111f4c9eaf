# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# kube-state-metrics (kube-state-metrics.yaml) in namespace monitoring: the kube_* series that the
# chart's FlaskServicePodsNotReady alert and its dashboard's replica panels read, scraped by the
# cluster's Prometheus through a ServiceMonitor. Least privilege: it exports Deployments only, the one
# kind those series come from, and may read nothing else. The lifecycle is hack/addons/addon.sh's;
# MONITORING=0 leaves this add-on out, with Prometheus.
NAMESPACE=monitoring
IMAGES=("kube-state-metrics:${KUBE_STATE_METRICS_VERSION}")
PUBLISHED=("registry.k8s.io/kube-state-metrics/kube-state-metrics:${KUBE_STATE_METRICS_VERSION}")
MANIFESTS=(kube-state-metrics.yaml)
WORKLOADS=(deployment/kube-state-metrics)
READY_TIMEOUT=${MONITORING_READY_TIMEOUT:-300}

# The ServiceMonitor's kind comes with the Prometheus add-on, which hack/cluster/cluster.sh brings up first.
servicemonitors_served() { kc get crd servicemonitors.monitoring.coreos.com >/dev/null 2>&1; }
before_apply() {
  wait_until "the ServiceMonitor kind is served (the prometheus add-on)" "${READY_TIMEOUT}" servicemonitors_served
  kc wait --for condition=Established --timeout 60s crd/servicemonitors.monitoring.coreos.com >/dev/null
}
