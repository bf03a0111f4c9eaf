#!/usr/bin/env bash
# Make a Debian bookworm base image locally, for machines that cannot pull from a registry.
#
#   hack/images/base-image.sh               # flask-service-base (python3, python3-venv, ca-certificates)
#   hack/images/base-image.sh NAME PACKAGES [CHANGE...]
#
# NAME      image repository to create, e.g. flask-service-base
# PACKAGES  comma-separated packages for debootstrap --include
# CHANGE    extra `docker import --change` instructions, e.g. 'CMD ["/sbin/init"]'
#
# The rootfs comes from `debootstrap --variant=minbase` against the Debian mirror
# apt already uses on this machine, then `docker import`. The tag is a hash of
# the recipe (the functions that make the root, as bash prints them) and the
# arguments, so an image is built once per machine and reused afterwards, and an
# edit to a comment or to the rest of this script keeps it; NAME:local is moved to point at it. Prints the image
# reference (NAME:<hash>) on stdout; progress goes to stderr.
# Needs root (debootstrap), and a running engine (hack/tools/docker-engine.sh start).
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SUITE=bookworm
NAME=${1:-flask-service-base}
PACKAGES=${2:-python3,python3-venv,ca-certificates}
shift $(($# > 2 ? 2 : $#))
# An imported image has no environment at all: give it the usual Debian PATH and a UTF-8 locale.
CHANGES=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV LANG=C.UTF-8'
  "$@"
)

# The Debian mirror of apt's own configuration for $SUITE, so the image comes
# from the same place as the machine's packages (which may be a local mirror).
debian_mirror() {
  local f
  shopt -s nullglob
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    # one-line style: deb [options] URI SUITE COMPONENT...
    awk -v s="$SUITE" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == s) { print $2; exit } }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    # deb822 style: blank-line separated stanzas with Types/URIs/Suites fields.
    awk -v s="$SUITE" '
			function flush() { if (deb && suite && uri != "") { print uri; found = 1; exit } deb = suite = 0; uri = "" }
			/^[ \t]*$/ { flush(); next }
			/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) suite = 1 }
			END { if (!found) flush() }' "$f"
  done
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap)"
command -v debootstrap >/dev/null || die "debootstrap is missing (hack/tools/docker-engine.sh start installs it)"
"$DOCKER" info >/dev/null 2>&1 || die "no Docker engine (hack/tools/docker-engine.sh start)"

# make_root: debootstrap the root, and import it as $ref.
make_root() {
  local mirror rootfs c import_args=()
  mirror=$(debian_mirror | head -n 1)
  [ -n "$mirror" ] || die "no 'deb ... $SUITE' source in /etc/apt/sources.list*"
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/base-image.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs' '$rootfs.log'" EXIT
  log "debootstrap $SUITE from $mirror with $PACKAGES"
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
    tail -n 30 "$rootfs.log" >&2
    die "debootstrap failed"
  fi
  # Leave no package caches or host details in the image; the engine provides
  # hostname, hosts and resolv.conf at run time.
  rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/debootstrap
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  for c in "${CHANGES[@]}"; do import_args+=(--change "$c"); done
  log "importing $ref"
  tar --numeric-owner -C "$rootfs" -c . | "$DOCKER" import "${import_args[@]}" - "$ref" >/dev/null
}

hash=$({
  declare -f make_root debian_mirror
  printf '%s\n' "$SUITE" "$PACKAGES" "${CHANGES[@]}"
} | sha256sum | cut -c1-12)
ref=$NAME:$hash
if "$DOCKER" image inspect "$ref" >/dev/null 2>&1; then
  log "reusing $ref"
else
  make_root
fi
"$DOCKER" tag "$ref" "$NAME:local"
echo "$ref"
