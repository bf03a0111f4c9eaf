#!/usr/bin/env bash
# hack/images/kube-router-image.sh REF: build REF in the host engine, unless it is there already:
# kube-router (hack/tools/install-tools.sh kube-router) on a Debian root with Debian's ipset and iptables
# (hack/images/base-image.sh). One image serves the pod network baked into the node image
# (hack/images/node-image.sh) and the NetworkPolicy agent (hack/addons/kube-router). Its iptables is set to
# the nf_tables mode, the mode of the node's own iptables (`iptables --version` in the node: 1.8.9
# (nf_tables)) that kube-proxy writes with: rules in the legacy tables would sit beside kube-proxy's, in a
# different order than intended.
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

ref=${1:?usage: $0 REF}
"${DOCKER}" image inspect "${ref}" >/dev/null 2>&1 && exit 0
"${HACK}/tools/install-tools.sh" kube-router >&2
base=$("${HACK}/images/base-image.sh" flask-service-kube-router-base ipset,iptables)
ctx=$(mktemp -d)
trap 'rm -rf "${ctx}"' EXIT
cp "${ROOT}/.tools/bin/kube-router" "${ctx}/"
# kube-router runs as root: iptables and ipset need it, with only the capabilities its manifests add.
printf '%s\n' "FROM ${base}" \
  'RUN update-alternatives --set iptables /usr/sbin/iptables-nft' \
  'COPY kube-router /usr/local/bin/kube-router' \
  'ENTRYPOINT ["/usr/local/bin/kube-router"]' |
  "${DOCKER}" build -q -t "${ref}" -f - "${ctx}" >/dev/null
log "built ${ref}"
