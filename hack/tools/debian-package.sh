#!/usr/bin/env bash
# Install a Debian package for a command that is not on PATH: hack/tools/debian-package.sh COMMAND [PACKAGE]
# (PACKAGE defaults to COMMAND). Used for what the tests drive beside Python: `chromium` (the pages in a
# real browser) and `shellcheck` (the lint tier).
#
# Idempotent: when COMMAND is already on PATH nothing is installed. Otherwise PACKAGE is installed from
# apt (noninteractive, quiet), which needs root. Either way the command's path is printed on stdout, so
# `browser=$(hack/tools/debian-package.sh chromium)` works; progress goes to stderr.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 COMMAND [PACKAGE]" >&2
  exit 2
fi
COMMAND=$1
PACKAGE=${2:-$1}
LOCKFILE=/var/lock/flask-service-debian-package.lock

install_package() {
  [ "$(id -u)" -eq 0 ] || die "$COMMAND is not on PATH and installing it needs root (apt-get install $PACKAGE)"
  # Several jobs may ask at once: one installs, the others then find it on PATH.
  exec 9>"$LOCKFILE"
  flock -w 600 9 || die "another install still holds $LOCKFILE"
  command -v "$COMMAND" >/dev/null && return 0
  log "installing Debian's $PACKAGE"
  export DEBIAN_FRONTEND=noninteractive
  # needrestart, when installed, would otherwise ask (or complain) after the install.
  export NEEDRESTART_SUSPEND=1
  apt-get update -qq
  apt-get install -y -qq "$PACKAGE" >/dev/null
  exec 9>&-
}

command -v "$COMMAND" >/dev/null || install_package
command -v "$COMMAND" || die "$COMMAND is still not on PATH after the install"
