#!/usr/bin/env bash
# Start, stop or inspect a local Docker engine for the tests: hack/tools/docker-engine.sh start|stop|status
#
# Idempotent. `start` installs Debian's docker.io (plus debootstrap and jq, used
# by hack/images/base-image.sh) when missing, installs the runc-nosysres runtime
# wrapper next to it and makes it dockerd's default runtime, then starts dockerd
# in the background and waits until it answers. A dockerd that is already
# healthy with the wrapper as default runtime is left alone. `stop` stops the
# dockerd recorded in the pid file, by PID, and waits for it to exit.
#
# Needs root (it installs packages and runs the daemon). Use DOCKER=/usr/bin/docker:
# the docker client first on PATH may be a newer one that lacks the 20.10 features.
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
WRAPPER_SRC=$HACK/tools/runc-nosysres
WRAPPER=/usr/local/libexec/flask-service/runc-nosysres
RUNTIME_NAME=runc-nosysres
DAEMON_JSON=/etc/docker/daemon.json
PIDFILE=${DOCKERD_PIDFILE:-/var/run/flask-service-dockerd.pid}
LOGFILE=${DOCKERD_LOGFILE:-/var/log/flask-service-dockerd.log}
LOCKFILE=/var/lock/flask-service-docker-engine.lock
START_TIMEOUT=${DOCKERD_START_TIMEOUT:-60}
STOP_TIMEOUT=${DOCKERD_STOP_TIMEOUT:-30}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  # Compose v1: Debian bookworm has no v2 plugin; the container tests validate and run compose.yaml.
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  [ -x /usr/bin/runc ] || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v jq >/dev/null || missing+=(jq)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_wrapper() {
  if ! cmp -s "$WRAPPER_SRC" "$WRAPPER"; then
    install -D -m 0755 "$WRAPPER_SRC" "$WRAPPER"
  fi
}

# Merge our runtime into daemon.json, keeping any settings already there.
# Prints "changed" when the file was rewritten.
configure_daemon() {
  mkdir -p "$(dirname "$DAEMON_JSON")"
  local current='{}' wanted
  [ -s "$DAEMON_JSON" ] && current=$(cat "$DAEMON_JSON")
  wanted=$(jq --arg name "$RUNTIME_NAME" --arg path "$WRAPPER" \
    '.runtimes[$name] = {path: $path} | ."default-runtime" = $name' <<<"$current") ||
    die "$DAEMON_JSON is not valid JSON"
  if [ "$(jq -S . <<<"$current")" != "$(jq -S . <<<"$wanted")" ]; then
    printf '%s\n' "$wanted" >"$DAEMON_JSON.tmp"
    mv -f "$DAEMON_JSON.tmp" "$DAEMON_JSON"
    echo changed
  fi
}

# PID of the dockerd we started, if it is still alive.
our_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] && echo "$pid"
}

engine_up() { "$DOCKER" info >/dev/null 2>&1; }

default_runtime() { "$DOCKER" info --format '{{.DefaultRuntime}}' 2>/dev/null; }

wait_up() {
  local deadline=$((SECONDS + START_TIMEOUT))
  until engine_up; do
    if [ -n "${1:-}" ] && [ ! -d "/proc/$1" ]; then
      tail -n 20 "$LOGFILE" >&2 || true
      die "dockerd exited during start-up (log: $LOGFILE)"
    fi
    [ $SECONDS -lt $deadline ] || die "dockerd did not answer within ${START_TIMEOUT}s (log: $LOGFILE)"
    sleep 1
  done
}

start() {
  [ "$(id -u)" -eq 0 ] || die "start needs root"
  # Several jobs may start the engine at once: one does the work, the others then find it up.
  exec 9>"$LOCKFILE"
  flock -w $((START_TIMEOUT + 120)) 9 || die "another start still holds $LOCKFILE"
  install_packages
  install_wrapper
  local changed
  changed=$(configure_daemon)
  if engine_up; then
    if [ "$(default_runtime)" != "$RUNTIME_NAME" ] || [ -n "$changed" ]; then
      # dockerd reloads runtimes and default-runtime on SIGHUP. The daemon
      # may not be ours, so find it from docker's own pid file.
      local pid
      pid=$(our_pid || cat /var/run/docker.pid 2>/dev/null || true)
      [ -n "$pid" ] || die "a dockerd is running but its PID is unknown; cannot reload $DAEMON_JSON"
      log "reloading dockerd ($pid) configuration"
      kill -HUP "$pid"
      local deadline=$((SECONDS + 10))
      until [ "$(default_runtime)" = "$RUNTIME_NAME" ]; do
        [ $SECONDS -lt $deadline ] || die "dockerd did not pick up the $RUNTIME_NAME default runtime"
        sleep 1
      done
    fi
    log "dockerd is running (default runtime $RUNTIME_NAME)"
    return 0
  fi
  if our_pid >/dev/null; then
    # Started but not answering yet (e.g. a concurrent start): just wait for it.
    wait_up "$(our_pid)"
    return 0
  fi
  log "starting dockerd (log: $LOGFILE)"
  mkdir -p "$(dirname "$LOGFILE")"
  # setsid: the daemon must outlive the shell or CI step that started it.
  # 9>&-: the daemon must not inherit (and so hold forever) the start lock.
  setsid dockerd --pidfile "$PIDFILE" >>"$LOGFILE" 2>&1 </dev/null 9>&- &
  local pid=$!
  wait_up "$pid"
  [ "$(default_runtime)" = "$RUNTIME_NAME" ] || die "dockerd default runtime is not $RUNTIME_NAME"
  log "dockerd is up (pid $(cat "$PIDFILE"))"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    log "no dockerd started by this script is running"
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping dockerd ($pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while [ -d "/proc/$pid" ]; do
    if [ $SECONDS -ge $deadline ]; then
      log "dockerd did not exit within ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 1
  done
  rm -f "$PIDFILE"
}

status() {
  if engine_up; then
    echo "running (default runtime: $(default_runtime))"
  else
    echo "not running"
    return 1
  fi
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) die "usage: $0 start|stop|status" ;;
esac
