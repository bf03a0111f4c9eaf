#!/usr/bin/env bash
# Install the browser the integration tier's page checks drive (tests/integration/test_browser.py):
# Debian's `chromium`, headless. Usage: hack/install-browser.sh
#
# Idempotent: when `chromium` is already on PATH nothing is installed. Otherwise Debian's chromium
# package is installed from apt (noninteractive, quiet), which needs root. Either way the binary's
# path is printed on stdout, so `browser=$(hack/install-browser.sh)` works; progress goes to stderr.
set -euo pipefail

LOCKFILE=/var/lock/flask-service-install-browser.lock

log() { echo "install-browser: $*" >&2; }
die() { log "error: $*"; exit 1; }

install_chromium() {
	[ "$(id -u)" -eq 0 ] || die "chromium is not on PATH and installing it needs root (apt-get install chromium)"
	# Several jobs may ask at once: one installs, the others then find it on PATH.
	exec 9>"$LOCKFILE"
	flock -w 600 9 || die "another install still holds $LOCKFILE"
	command -v chromium >/dev/null && return 0
	log "installing Debian's chromium"
	export DEBIAN_FRONTEND=noninteractive
	# needrestart, when installed, would otherwise ask (or complain) after the install.
	export NEEDRESTART_SUSPEND=1
	apt-get update -qq
	apt-get install -y -qq chromium >/dev/null
	exec 9>&-
}

command -v chromium >/dev/null || install_chromium
command -v chromium || die "chromium is still not on PATH after the install"
