#!/bin/sh
# gunicorn's preStop hook behind the front: await-exit.sh SLEEP DRAIN MARKER
#
# Sleeps SLEEP seconds (the endpoints drop the pod meanwhile), then waits until the front has exited (start.sh
# leaves MARKER behind), at most DRAIN seconds more: gunicorn gets SIGTERM only when no request can come
# through the front any more, and no later than it must.
set -u

sleep "$1"
deadline=$(($(date +%s) + $2))
while [ ! -e "$3" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 0.2
done
