#!/usr/bin/env bash
# Image figures: size, size above the base, cold build, rebuild after a one-line .py change,
# and container start to the first 200 on /readyz. Prints a small table.
#
#   hack/bench-image.sh [BASE_IMAGE]     (default: the local base from hack/base-image.sh)
#
# Builds from a copy of the tree (the files git would check out), so the working tree is
# never modified. EXTRA_CA_FILE, when set, is passed as the extra_ca build secret.
# Needs a running engine (hack/docker-engine.sh start).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}
export DOCKER_BUILDKIT=1
TAG=flask-service:bench
BASE=${1:-$("$ROOT/hack/base-image.sh")}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-image.XXXXXX")
container=''
cleanup() {
	[ -z "$container" ] || "$DOCKER" rm -f "$container" >/dev/null 2>&1 || true
	"$DOCKER" rmi "$TAG" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work")

secret=()
[ -z "${EXTRA_CA_FILE:-}" ] || secret=(--secret "id=extra_ca,src=$EXTRA_CA_FILE")

# seconds since START (an $EPOCHREALTIME value), two decimals
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

# build [docker build options...]: prints elapsed seconds
build() {
	local start=$EPOCHREALTIME
	"$DOCKER" build -q -t "$TAG" --build-arg "BASE_IMAGE=$BASE" "${secret[@]}" "$@" "$work" >/dev/null
	since "$start"
}

cold=$(build --no-cache)
# Unique content, or BuildKit could find this very change in its cache from an earlier run.
echo "# one comment line changed: $EPOCHREALTIME" >>"$work/service/version.py"
rebuild=$(build)

size=$("$DOCKER" image inspect -f '{{.Size}}' "$TAG")
base_size=$("$DOCKER" image inspect -f '{{.Size}}' "$BASE")

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$EPOCHREALTIME
container=$("$DOCKER" run -d --read-only --tmpfs /tmp -p "127.0.0.1:$port:5000" "$TAG")
for _ in $(seq 300); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
	sleep 0.05
done
ready=$(since "$start")
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] || {
	echo "bench-image: container never became ready" >&2
	exit 1
}

printf '%-36s %s\n' \
	"base image" "$BASE" \
	"image size" "$((size / 1000000)) MB" \
	"size above base" "$(((size - base_size) / 1000000)) MB" \
	"cold build (--no-cache)" "${cold} s" \
	"rebuild after one .py change" "${rebuild} s" \
	"docker run to first 200 on /readyz" "${ready} s"
