# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# Traefik, the cluster's Gateway API and Ingress controller (traefik.yaml): one Gateway, `traefik` in
# namespace traefik, that takes HTTPRoutes from every namespace, and the IngressClass `traefik`. The
# chart's HTTPRoute and Ingress default to both. Before it, the Gateway API CRDs (standard channel, all
# of them: Traefik watches every standard kind) from the downloaded sigs.k8s.io/gateway-api module.
# The lifecycle is hack/addons/addon.sh's; ROUTING=0 leaves this add-on out.
NAMESPACE=traefik
IMAGES=("traefik:${TRAEFIK_VERSION}")
# Docker Hub's official image (its entrypoint passes the flags on); its digest cannot be read offline.
PUBLISHED=("docker.io/library/traefik:${TRAEFIK_VERSION}")
MANIFESTS=(traefik.yaml)
WORKLOADS=(deployment/traefik)
READY_TIMEOUT=${ROUTING_READY_TIMEOUT:-180}
CONFIG=gateway-api=${GATEWAY_API_VERSION}

crds() { echo "$(mod_field "sigs.k8s.io/gateway-api@${GATEWAY_API_VERSION}" Dir)/config/crd/standard"; }

before_apply() {
  # Server-side: the CRDs are larger than the last-applied annotation allows.
  kc apply --server-side --force-conflicts -f "$(crds)" >/dev/null
  # shellcheck disable=SC2046  # one argument per CRD
  kc wait --for condition=Established --timeout 60s \
    $(kc get crd -o name | grep '\.gateway\.networking\.k8s\.io$') >/dev/null
}

ready() { kc -n traefik wait --for condition=Programmed --timeout 1s gateway/traefik >/dev/null 2>&1; }

remove() {
  delete_manifests
  kc delete --ignore-not-found -f "$(crds)" >/dev/null
}
