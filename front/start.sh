#!/bin/sh
# Runs the front (front/haproxy.cfg) as the container's main process.
#
# Kubernetes and Docker stop a container with SIGTERM, which HAProxy takes as "stop now", cutting requests in
# flight. Its graceful stop is SIGUSR1: no new connections, requests in flight answered, kept-alive ones
# closed at their next answer; at most DRAIN_SECONDS. This shell turns the one into the other.
# With FRONT_EXITED set, a file of that name says the front has exited (gunicorn's preStop hook,
# await-exit.sh, waits for it).
set -u

marker=${FRONT_EXITED:-}
[ -z "$marker" ] || rm -f "$marker"
haproxy -db -f "$(dirname "$0")/haproxy.cfg" &
pid=$!
trap 'kill -USR1 "$pid"' TERM INT
status=0
# `wait` returns early when a trapped signal arrives: wait again until HAProxy has exited.
while kill -0 "$pid" 2>/dev/null; do
  wait "$pid"
  status=$?
done
[ -z "$marker" ] || : >"$marker"
exit "$status"
