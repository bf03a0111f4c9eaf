# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# kube-router as the cluster's NetworkPolicy agent (kube-router.yaml): its firewall controller only, a
# DaemonSet in kube-system, so the chart's NetworkPolicy is enforced, not just stored. Its image is the
# node image's pod network's (hack/images/kube-router-image.sh: kube-router on a Debian root with ipset
# and iptables). The lifecycle is hack/addons/addon.sh's; NETPOL=0 leaves this add-on out.
NAMESPACE=kube-system
IMAGES=("kube-router:${KUBE_ROUTER_VERSION}")
PUBLISHED=("docker.io/cloudnativelabs/kube-router:${KUBE_ROUTER_VERSION}")
MANIFESTS=(kube-router.yaml)
WORKLOADS=(daemonset/kube-router)
READY_TIMEOUT=${NETPOL_READY_TIMEOUT:-120}

build_image() {
  registry_has "$2" && return
  "${HACK}/images/kube-router-image.sh" "$2"
  "${DOCKER}" push -q "$2" >/dev/null
  log "pushed $2"
}

pods() { kc -n kube-system get pods -l app.kubernetes.io/name=kube-router -o name; }

# A pod is admitted by a policy only once the agent has synced after it started: ready once every agent
# has logged a finished sync of its iptables rules (-v=1 logs each one).
ready() {
  local pod logs
  for pod in $(pods); do
    # Captured first: `kc logs | grep -q` fails under pipefail when grep stops reading early.
    logs=$(kc -n kube-system logs "${pod}" 2>/dev/null) || return 1
    grep -q 'sync iptables took' <<<"${logs}" || return 1
  done
}

# The agent's rules outlive it: without it, a pod that starts later is never added to the policies'
# ipsets and stays shut out. So once the agent's pods are gone (a running one would sync the rules
# back), remove its chains and ipsets from each node. Not `kube-router --cleanup-config`: in v2.1.0 it
# runs the policy cleanup on an uninitialised controller, which removes nothing (and then panics).
remove() {
  local node chains='KUBE-ROUTER-|KUBE-POD-FW-|KUBE-NWPLCY-' image=${REF["kube-router"]}
  delete_manifests
  kc -n kube-system wait --for=delete pod -l app.kubernetes.io/name=kube-router --timeout 60s >/dev/null 2>&1 || true
  for node in $(cluster_nodes); do
    # The node's own iptables (and its xtables lock): the filter table without any line that names one
    # of the agent's chains, restored whole, which deletes those chains.
    "${DOCKER}" exec "${node}" sh -c "iptables-save -t filter 2>/dev/null | grep -Ev -- '${chains}' | iptables-restore" ||
      log "could not remove the rules on node ${node}"
    # The node has no ipset: the agent's image has, in the node's network namespace.
    if "${DOCKER}" image inspect "${image}" >/dev/null 2>&1; then
      "${DOCKER}" run --rm --network "container:${node}" --cap-drop ALL --cap-add NET_ADMIN --entrypoint sh "${image}" \
        -c "ipset list -n | grep -E '^(inet6:)?KUBE-(SRC|DST)-' | xargs -r -n 1 ipset destroy" ||
        log "could not remove the ipsets on node ${node}"
    fi
  done
}
