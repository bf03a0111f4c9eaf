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

# The Prometheus release of the pinned module version (versions.env): module v0.3NN.P is Prometheus 3.NN.P.
prometheus_release() {
  local minor="${PROMETHEUS_VERSION#v0.}"
  echo "3.$((10#${minor%%.*} - 300)).${minor#*.}"
}
