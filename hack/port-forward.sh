#!/usr/bin/env bash
# `kubectl port-forward` that comes back. kubectl forwards to one pod of a Service and exits when that pod
# goes away (a rollout, a drain, `make test`'s disruption tests); this forwards again, to a pod that is
# there now, so the dev loop's local port keeps serving. Ctrl-C (or SIGTERM) stops it.
#
# Usage: hack/port-forward.sh CONTEXT NAMESPACE RESOURCE LOCAL_PORT:REMOTE_PORT
set -uo pipefail

if [[ $# -ne 4 ]]; then
	echo "usage: $0 CONTEXT NAMESPACE RESOURCE LOCAL_PORT:REMOTE_PORT" >&2
	exit 2
fi
context=$1 namespace=$2 resource=$3 ports=$4
child=
# kubectl runs in the background and is waited for, so a signal stops both at once.
trap '[[ -n $child ]] && kill "$child" 2>/dev/null; exit 0' INT TERM

while true; do
	kubectl --context "$context" --namespace "$namespace" port-forward --address 127.0.0.1 "$resource" "$ports" &
	child=$!
	wait "$child"
	echo "port-forward: the forward to $resource ended; forwarding again in 1 s" >&2
	sleep 1
done
