# shellcheck shell=bash
# shellcheck disable=SC2034  # the settings that hack/addons/addon.sh reads after sourcing this
# Kyverno's admission controller, alone (no background, cleanup or reports controller), and one policy
# (policy.yaml): a Pod that runs an image of the project's repository in the local registry is admitted
# only with a cosign signature by the project's key (hack/release/sign.py). Rendered from the Kyverno chart
# of the pinned, downloaded module (values.yaml); its CRDs from the same module. Beside the controller, a
# forwarder (forwarder.yaml, the Traefik binary of the routing add-on) listens on the pod's own
# localhost:5001 and passes each connection to the registry's in-cluster name, so that Kyverno reads an
# image and its signatures by the name the pod spec gives, as the nodes pull it.
# The lifecycle is hack/addons/addon.sh's; ADMISSION=0 leaves this add-on out.
NAMESPACE=kyverno
IMAGES=("kyverno-admission:${KYVERNO_VERSION}" "kyverno-init:${KYVERNO_VERSION}" "traefik:${TRAEFIK_VERSION}")
# Kyverno's own registry (the chart's default), Docker Hub's Traefik; their digests cannot be read offline.
PUBLISHED=(
  "reg.kyverno.io/kyverno/kyverno:${KYVERNO_VERSION}"
  "reg.kyverno.io/kyverno/kyvernopre:${KYVERNO_VERSION}"
  "docker.io/library/traefik:${TRAEFIK_VERSION}"
)
WORKLOADS=(deployment/kyverno-admission-controller)
READY_TIMEOUT=${ADMISSION_READY_TIMEOUT:-240}
POLICY=clusterpolicy/flask-service-signed-images
MODULE=github.com/kyverno/kyverno@${KYVERNO_VERSION}
REGISTRY=$("${HACK}/cluster/registry.sh" address)
IN_CLUSTER=$("${HACK}/cluster/registry.sh" in-cluster)
# The key that verifies; made on first use, as `make publish` and Skaffold's signing hook would.
PUBLIC_KEY=$(cd "${ROOT}" && "${ROOT}/.venv/bin/python" -m hack.release.sign public-key)
CONFIG="kyverno=${KYVERNO_VERSION} key=$(sha256sum "${PUBLIC_KEY}" | cut -c1-16) registry=${REGISTRY} ${IN_CLUSTER}"

module() { mod_field "${MODULE}" Dir; }

# The CRDs the admission controller watches: kyverno.io's, the policies.kyverno.io ones (the chart takes them
# from a chart repository, which the module leaves out) and the report kinds.
crds() { printf -- '-f\n%s\n' "$(module)"/config/crds/{kyverno,policies.kyverno.io,policyreport,reports}; }

before_apply() {
  # Server-side: the CRDs are larger than the last-applied annotation allows.
  # shellcheck disable=SC2046  # one -f per folder
  kc apply --server-side --force-conflicts $(crds) >/dev/null
  kc wait --for condition=Established --timeout 60s crd/clusterpolicies.kyverno.io >/dev/null
}

# split REF: "registry repository tag", the chart's FIELDS of an image.
FIELDS=(registry repository tag)
split() {
  local rest=${1#*/}
  echo "${1%%/*} ${rest%:*} ${rest##*:}"
}

# generate HASH: the chart rendered as values.yaml says, the forwarder's routes, and the policy with the key in.
generate() {
  local chart image part i sets=() key
  chart=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '${chart}'" RETURN
  cp -r "$(module)/charts/kyverno/." "${chart}/"
  chmod -R u+w "${chart}"
  # Dependencies from chart repositories (CRDs applied from the module instead, reports off) are not in the
  # module; helm refuses a chart whose dependencies are missing, even disabled ones.
  awk 'function flush() { if (block != "" && keep) print block; block = "" }
    /^  - name:/ { flush(); block = $0; keep = 1; next }
    block != "" && /^    / { block = block "\n" $0; if ($1 == "repository:") keep = 0; next }
    { flush(); print }
    END { flush() }' "${chart}/Chart.yaml" >"${chart}/Chart.yaml.new"
  mv "${chart}/Chart.yaml.new" "${chart}/Chart.yaml"
  # Each image as the chart's values take it: registry, repository, tag.
  for image in kyverno-admission:container kyverno-init:initContainer; do
    read -r -a part <<<"$(split "${REF[${image%%:*}]}")"
    for i in 0 1 2; do
      sets+=(--set-string "admissionController.${image#*:}.image.${FIELDS[${i}]}=${part[${i}]}")
    done
  done
  echo '---'
  named values.yaml "$1" | "${ROOT}/.tools/bin/helm" template kyverno "${chart}" --namespace "${NAMESPACE}" \
    --no-hooks --kube-version "${KUBERNETES_VERSION}" -f - "${sets[@]}"
  echo '---'
  named forwarder.yaml "$1"
  echo '---'
  key=$(sed 's/^/                      /' "${PUBLIC_KEY}")
  named policy.yaml "$1" | awk -v key="${key}" '/^ *@public-key@$/{print key; next} {print}'
}

# named FILE HASH: FILE filled in, and the registry's names too.
named() {
  fill "$1" "$2" | sed -e "s#@registry@#${REGISTRY}#g" -e "s#@registry-port@#${REGISTRY##*:}#g" \
    -e "s#@in-cluster-registry@#${IN_CLUSTER}#g"
}

# The policy's webhook is Kyverno's: until Kyverno answers, it may refuse the policy for a few seconds.
apply() {
  local file
  file=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f '${file}'" RETURN
  cat >"${file}"
  wait_until "Kyverno takes the policy" 120 kc apply -f "${file}" >/dev/null 2>&1 || kc apply -f "${file}" >/dev/null
}

# Ready once Kyverno has put the policy in its webhooks.
ready() { kc wait --for condition=Ready --timeout 1s "${POLICY}" >/dev/null 2>&1; }

# The policy first, then Kyverno; the webhook configurations Kyverno made itself, which would refuse the
# project's pods with nobody to answer them; then the CRDs.
remove() {
  kc delete --ignore-not-found "${POLICY}" >/dev/null 2>&1 || true
  delete_manifests
  kc delete --ignore-not-found validatingwebhookconfiguration,mutatingwebhookconfiguration \
    -l webhook.kyverno.io/managed-by=kyverno >/dev/null
  # shellcheck disable=SC2046
  kc delete --ignore-not-found $(crds) >/dev/null
}
