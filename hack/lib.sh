# Shell helpers shared by the hack/ scripts (sourced, not run).

# has_version FILE EXPECTED ARGS...: true when FILE runs and prints EXPECTED.
has_version() {
  local file="$1" expected="$2"
  shift 2
  local out
  [[ -x "${file}" ]] || return 1
  # Captured first: `cmd | grep -q` fails under pipefail when grep exits before cmd has written all.
  out="$("${file}" "$@" 2>&1)" || return 1
  grep -qF -- "${expected}" <<<"${out}"
}

# The Prometheus release of PROMETHEUS_VERSION (versions.env): the module's v0.3xx.y is Prometheus 3.xx.y.
prometheus_release() {
  local minor="${PROMETHEUS_VERSION#v0.}"
  minor="${minor%%.*}"
  echo "$((minor / 100)).$((minor % 100)).${PROMETHEUS_VERSION##*.}"
}
