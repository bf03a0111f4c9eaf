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
