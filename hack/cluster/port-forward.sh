#!/usr/bin/env bash
# `kubectl port-forward` to a Service that follows its pods. kubectl forwards to one pod and notices that
# the pod went away (a rollout, a drain, `make test`'s disruption tests) only when the next request through
# it fails. This forwards to one ready pod of the Service and moves to another ready pod as soon as that
# one starts to terminate: the old pod still serves through its grace period, so the move loses nothing.
# Ctrl-C (or SIGTERM) stops it.
#
# Usage: hack/cluster/port-forward.sh CONTEXT NAMESPACE svc/NAME LOCAL_PORT:SERVICE_PORT
set -uo pipefail

if [[ $# -ne 4 || $3 != svc/* ]]; then
  echo "usage: $0 CONTEXT NAMESPACE svc/NAME LOCAL_PORT:SERVICE_PORT" >&2
  exit 2
fi
context=$1 namespace=$2 service=${3#svc/} local_port=${4%%:*} service_port=${4##*:}
forward='' watch=''
# An array, not a function: a function run in the background is a subshell, and killing that leaves kubectl.
kc=(kubectl --context "$context" --namespace "$namespace")
stop() { kill "$forward" "$watch" 2>/dev/null; }
trap 'stop; exit 0' INT TERM

# A ready (so not terminating) pod of the Service, from its EndpointSlices.
ready_pod() {
  "${kc[@]}" get endpointslices -l "kubernetes.io/service-name=$service" \
    -o jsonpath="{range .items[*].endpoints[?(@.conditions.ready==true)]}{.targetRef.name}{'\n'}{end}" 2>/dev/null | head -1
}
# The pod's port behind SERVICE_PORT: the EndpointSlice's port of the same name (a named targetPort resolved).
target_port() {
  local name
  name=$("${kc[@]}" get service "$service" -o jsonpath="{.spec.ports[?(@.port==$service_port)].name}" 2>/dev/null) || return
  "${kc[@]}" get endpointslices -l "kubernetes.io/service-name=$service" \
    -o jsonpath="{.items[0].ports[?(@.name=='$name')].port}" 2>/dev/null
}

while true; do
  pod=$(ready_pod) port=$(target_port)
  if [[ -z $pod || -z $port ]]; then
    sleep 1
    continue
  fi
  "${kc[@]}" port-forward --address 127.0.0.1 "pod/$pod" "$local_port:$port" &
  forward=$!
  # Returns once the pod has a deletion timestamp (or is gone).
  "${kc[@]}" wait --for=jsonpath='{.metadata.deletionTimestamp}' --timeout=-1s "pod/$pod" >/dev/null 2>&1 &
  watch=$!
  wait -n "$forward" "$watch"
  stop
  wait "$forward" "$watch" 2>/dev/null
  sleep 0.2 # at most five tries a second when kubectl cannot forward at all
  echo "port-forward: pod/$pod is leaving or its forward ended; forwarding to a ready pod of svc/$service" >&2
done
