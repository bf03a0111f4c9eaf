#!/usr/bin/env bash
# Print the directory of the kyverno-policies chart: the Pod Security Standards and best-practice policies
# that Kyverno publishes, in the Kyverno module of the pinned version (hack/versions.env), which this
# downloads once through the Go module proxy. The chart tier renders it and applies it to the chart's own
# renders with Kyverno's CLI (tests/chart/test_policies.py).
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v go >/dev/null || die "Go is required (the policies come from the Kyverno module)"
chart="$(mod_field "github.com/kyverno/kyverno@${KYVERNO_VERSION}" Dir)/charts/kyverno-policies"
[[ -f ${chart}/Chart.yaml ]] || die "no charts/kyverno-policies in github.com/kyverno/kyverno@${KYVERNO_VERSION}"
echo "${chart}"
