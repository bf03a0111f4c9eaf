# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# metrics-server (metrics-server.yaml): the resource metrics API (metrics.k8s.io) that the chart's
# HorizontalPodAutoscaler and `kubectl top` read, in kube-system. Ready once the APIService
# v1beta1.metrics.k8s.io is Available and `kubectl top pods -A` answers (the first scrape of every kubelet
# is in). The lifecycle is hack/addons/addon.sh's; METRICS=0 leaves this add-on out.
NAMESPACE=kube-system
IMAGES=("metrics-server:${METRICS_SERVER_VERSION}")
PUBLISHED=("registry.k8s.io/metrics-server/metrics-server:${METRICS_SERVER_VERSION}")
MANIFESTS=(metrics-server.yaml)
WORKLOADS=(deployment/metrics-server)
READY_TIMEOUT=${METRICS_READY_TIMEOUT:-180}

# The label of the APIService, which is applied after the rest and deleted before it.
API_LABEL=flask-service.dev/aggregated-api

ready() {
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
  for node in $(cluster_nodes); do
    rules=$("${DOCKER}" exec "${node}" iptables-save -t nat 2>/dev/null) || return 1
    grep -qF -- 'kube-system/metrics-server:https -> ' <<<"${rules}" || return 1
  done
}

# The APIService last (routed says why): first the server, its Service and a ready pod behind it.
apply() {
  local manifests
  manifests=$(cat)
  kc apply -l "${API_LABEL}!=true" -f - <<<"${manifests}" >/dev/null
  kc -n kube-system rollout status deployment/metrics-server --timeout "${READY_TIMEOUT}s" >/dev/null
  wait_until "the Service routes to the pod" "${READY_TIMEOUT}" routed
  kc apply -f - <<<"${manifests}" >/dev/null
}

# The APIService first, while its Service still routes (routed says why).
remove() {
  local manifests
  manifests=$(cat)
  kc delete --ignore-not-found -l "${API_LABEL}=true" -f - <<<"${manifests}" >/dev/null
  delete_manifests <<<"${manifests}"
}
