#!/usr/bin/env bash
# Install the pinned developer tools into the project-local .tools/bin:
# helm, kind, skaffold, kubeconform, actionlint, shfmt, helm-docs, cosign and the Distribution registry
# (built from Go module sources with `go install`/`go build`, never downloaded
# as release binaries) and kubectl
# (copied from hack/tools/build-k8s.sh's output so it matches the cluster version).
# For the chart tier only, on request (`make chart` and `make test` ask): promtool, which checks and
# unit-tests the chart's Prometheus rules, and Kyverno's CLI, which applies Kyverno's published policies to
# the chart's renders; large builds that `make up` does not need. For the benchmarks only, on request: oha,
# the open-loop HTTP load generator, built from crates.io with `cargo install` (needs a Rust toolchain).
# For the cluster's add-ons, on request (hack/addons/addon.sh asks, for the add-on it brings up with
# AIRGAP=1): the Prometheus components, the collector, Jaeger, kube-state-metrics, metrics-server,
# kube-router, traefik and Kyverno's admission controller, large builds (minutes each, cold) that a
# cluster without that add-on does not need.
#
# Idempotent: a tool whose binary already reports its pinned version is not
# rebuilt, so the warm path takes a few seconds. Versions: hack/versions.env.
#
# Usage: hack/tools/install-tools.sh            install everything but promtool, the cluster's
#                                         add-ons (Prometheus, its operator, the
#                                         OpenTelemetry Collector, traefik) and oha
#        hack/tools/install-tools.sh NAME...    only these (helm kind skaffold kubeconform promtool
#                                         kubectl actionlint shfmt helm-docs registry prometheus
#                                         prometheus-operator prometheus-config-reloader otelcol
#                                         traefik kube-router
#                                         metrics-server kube-state-metrics jaeger cosign kyverno
#                                         kyverno-admission kyverno-init oha)
#        hack/tools/install-tools.sh --recipe NAME...   print each one's version and recipe hash
#                                         (what an add-on's local image is tagged by); build nothing
set -euo pipefail

# shellcheck source=hack/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

bin="${TOOLS_BIN:-${ROOT}/.tools/bin}"
mkdir -p "${bin}"
need() { command -v "$1" >/dev/null || die "$1 is required (see README: installing the tools)"; }

go_build_env
export GOBIN="${bin}"
# Run the go commands outside any module of the caller.
cd "${TMPDIR:-/tmp}"

summary=()

# Every binary built here is also kept in the machine's cache, under its name, its version and the hash of
# its recipe: a new clone of the tree copies it instead of linking it again from the Go build cache (about
# 90 s for all of them).
cache="${XDG_CACHE_HOME:-${HOME}/.cache}/flask-service/tools"

# build_calls FUNCTION: the build_ words in FUNCTION, and in the functions that they name, and so on.
build_calls() {
  local names="" next fn
  next="$(declare -f "$1" | grep -o 'build_[a-z0-9_]*' | sort -u)"
  while [[ "${next}" != "${names}" ]]; do
    names="${next}"
    next="$(for fn in ${names}; do
      echo "${fn}"
      declare -f "${fn}" 2>/dev/null | grep -o 'build_[a-z0-9_]*'
    done | sort -u)"
  done
  echo "${names}"
}

# recipe_of BUILD-FUNCTION: the hash of what builds one tool: the text of its build function (and of the
# build_ functions it calls, at any depth), the values of the variables they name, and the Go flags. Editing another
# tool's recipe, or any other line of the hack/ scripts, keeps this tool's copy. A tool of the shared module
# (build_shared) is rebuilt when any of that module's tools or patches changes, since its libraries may.
recipe_of() {
  local text fn var
  text="$(declare -f "$1")"
  while read -r fn; do
    [[ "${fn}" == "$1" ]] || text+=$'\n'"$(declare -f "${fn}" 2>/dev/null)"
  done < <(build_calls "$1")
  {
    echo "${text}"
    # shellcheck disable=SC2016  # the literal text ${NAME, as the build functions write their variables
    # HACK and ROOT are where this clone is, not what it builds: a new clone keeps the cached copies.
    grep -o '\${[A-Z][A-Z0-9_]*' <<<"${text}" | cut -c3- | sort -u | grep -vx 'HACK\|ROOT' |
      while read -r var; do echo "${var}=${!var-}"; done
    echo "GOFLAGS=${GOFLAGS} CGO_ENABLED=${CGO_ENABLED}"
    [[ "$1" != build_otelcol ]] || cat "${HACK}/addons/otel-collector/otelcol-builder.yaml"
  } | sha256sum | cut -c1-12
}

# keep NAME KEPT: a copy of .tools/bin/NAME in the machine's cache, as KEPT.
keep() {
  mkdir -p "${cache}"
  install -m 0755 "${bin}/$1" "$2.tmp" && mv -f "$2.tmp" "$2"
}

# ensure NAME VERSION "CHECK ARGS" BUILD-FUNCTION
# .tools/bin/.NAME.recipe names the cached copy that .tools/bin/NAME is: a binary of the right version but
# of another recipe (a collector with other components) is replaced.
ensure() {
  local name="$1" version="$2" check="$3" build="$4" start kept stamp="${bin}/.$1.recipe"
  if ((recipe_only)); then
    echo "${name} ${version} $(recipe_of "${build}")"
    return
  fi
  kept="${cache}/${name}-${version}-$(recipe_of "${build}")"
  # shellcheck disable=SC2086  # CHECK ARGS is a word list on purpose
  if has_version "${bin}/${name}" "${version}" ${check} &&
    { [[ -L "${bin}/${name}" ]] || [[ "$(cat "${stamp}" 2>/dev/null)" == "${kept}" ]]; }; then
    summary+=("${name} ${version} (cached)")
    return
  fi
  # A developer's own copy at the pinned version (kubectl, helm, kind, skaffold are on most of their PATHs):
  # used as it is, never built again.
  local dir
  while read -r -d: dir; do
    [[ -n "${dir}" && "$(readlink -f "${dir}")" != "$(readlink -f "${bin}")" ]] || continue
    # shellcheck disable=SC2086
    if has_version "${dir}/${name}" "${version}" ${check}; then
      ln -sfn "${dir}/${name}" "${bin}/${name}"
      summary+=("${name} ${version} (on PATH: ${dir}/${name})")
      return
    fi
  done <<<"${PATH}:"
  # shellcheck disable=SC2086
  if has_version "${kept}" "${version}" ${check}; then
    install -m 0755 "${kept}" "${bin}/${name}"
    echo "${kept}" >"${stamp}"
    summary+=("${name} ${version} (from the machine's cache)")
    return
  fi
  start=$(date +%s)
  log "building ${name} ${version} ..."
  "${build}"
  # shellcheck disable=SC2086
  has_version "${bin}/${name}" "${version}" ${check} ||
    {
      log "${name}: built binary does not report ${version}"
      "${bin}/${name}" ${check} >&2 || true
      exit 1
    }
  keep "${name}" "${kept}"
  echo "${kept}" >"${stamp}"
  summary+=("${name} ${version} (built in $(($(date +%s) - start)) s)")
}

# The shared modules. helm, cosign, Kyverno and Traefik are built in one module of our own, which requires
# them all, as a distribution builds its packages against one set of libraries: Go's minimal version
# selection takes, for each library, the newest version that any of them requires (the Kubernetes libraries
# at v0.36.3), so each library is compiled once for all of them. Built in a module each, they compiled four
# versions of the Kubernetes client libraries. Left out, because their code does not build with this set's
# versions (tried): kube-router (its docker client code needs an older github.com/docker/go-connections),
# kube-state-metrics (its store lacks the Bookmark method that client-go v0.36's cache.Store asks for),
# Jaeger (its collector libraries and otelhttp are older than Kyverno's and Traefik's), the registry (its
# OpenTelemetry log API is newer than Traefik's code), skaffold (its ko and docker code need older Kubernetes
# and docker libraries), the Prometheus Operator and metrics-server (older Prometheus libraries than
# Jaeger's, which they were tried beside), and Prometheus itself (Kubernetes v0.37, which Kyverno's code does
# not build with). skaffold and the Prometheus Operator make a second module (build_module_k8s033);
# metrics-server is built with Kubernetes itself (build_module_kubernetes in hack/lib.sh). The
# collector has its own builder, and the small linters share little. The replaces and excludes that
# upstream's go.mod files make for their own builds (a module's replaces apply only when it is the main
# module) are made here:
#  - Kyverno: k8s.io/pod-security-admission by Kyverno's fork.
#  - Traefik: its github.com/traefik/traefik/dynamic/ext, a nested module that the module zip leaves out and
#    the proxy does not serve; upstream it holds empty extension points embedded inline in the dynamic
#    configuration, so a stub with the same empty types fills it without changing behaviour. The containous
#    forks of go-http-auth (an older revision than upstream's: the proxy refuses upstream's; the same API) and
#    of gorilla/mux. One tencentcloud release excluded. And github.com/go-acme/lego/v5 by a copy whose
#    DNS-challenge provider registry (zz_gen_dns_providers.go) is empty: some of its 219 providers import
#    SDKs that the proxy refuses, and together they were a third of Traefik's packages; only the DNS
#    challenge is lost (a certificate by DNS record at a cloud provider), which nothing on a local cluster can
#    use.
#    Traefik itself by a copy whose AWS ECS provider is a stub (build_traefik_ecs_stub).
SHARED_TRAEFIK_HTTP_AUTH=github.com/containous/go-http-auth@v0.4.1-0.20200324110947-a37a7636d23e
build_module_k8s036() {
  local dir="$1" lego
  local tools=(
    "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
    "github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION}"
    "github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno@${KYVERNO_VERSION}"
    "github.com/kyverno/kyverno/cmd/kyverno@${KYVERNO_VERSION}"
    "github.com/kyverno/kyverno/cmd/kyverno-init@${KYVERNO_VERSION}"
    "github.com/traefik/traefik/v3/cmd/traefik@${TRAEFIK_VERSION}"
  )
  mkdir -p "${dir}/ext"
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24\n' >"${dir}/ext/go.mod"
  cat >"${dir}/ext/ext.go" <<'GO'
// Package ext holds Traefik's dynamic configuration's extension points, empty in this build.
package ext

type HTTP struct{}

type Router struct{}

type RouterIng struct{}

func (RouterIng) ToRouter() Router { return Router{} }
GO
  cp -r "$(mod_field "github.com/traefik/traefik/v3@${TRAEFIK_VERSION}" Dir)/." "${dir}/traefik"
  chmod -R u+w "${dir}/traefik"
  build_traefik_ecs_stub "${dir}/traefik/pkg/provider/ecs"
  lego="$(sed -n 's#^[[:space:]]*github.com/go-acme/lego/v5 \(v[^ ]*\).*#\1#p' "${dir}/traefik/go.mod")"
  cp -r "$(mod_field "github.com/go-acme/lego/v5@${lego}" Dir)/." "${dir}/lego"
  chmod -R u+w "${dir}/lego"
  grep -q '^func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {$' \
    "${dir}/lego/providers/dns/zz_gen_dns_providers.go" ||
    die "lego ${lego}'s DNS provider registry changed; review its patch"
  cat >"${dir}/lego/providers/dns/zz_gen_dns_providers.go" <<'GO'
// Package dns: lego's DNS-challenge provider registry, empty in this build (hack/tools/install-tools.sh).
package dns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

// NewDNSChallengeProviderByName knows no provider in this build.
func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("unrecognized DNS provider: %s (none in this build)", name)
}
GO
  (cd "${dir}" && go mod init flask-service.local/tools-k8s036 >/dev/null 2>&1 &&
    go mod edit \
      -replace k8s.io/pod-security-admission=github.com/kyverno/pod-security-admission@v0.0.0-20251031094455-46f20778634f \
      -replace github.com/traefik/traefik/v3=./traefik \
      -replace github.com/traefik/traefik/dynamic/ext=./ext \
      -replace "github.com/abbot/go-http-auth=${SHARED_TRAEFIK_HTTP_AUTH}" \
      -replace github.com/gorilla/mux=github.com/containous/mux@v0.0.0-20250523120546-41b6ec3aed59 \
      -replace github.com/go-acme/lego/v5=./lego \
      -exclude github.com/tencentcloud/tencentcloud-sdk-go@v3.0.83+incompatible &&
    go get -tool "${tools[@]}" && go mod tidy) || return
  build_check_pins "${dir}" "${tools[@]}"
}

# build_traefik_ecs_stub DIR: Traefik's AWS ECS provider package in DIR (a copy) made a stub, with the same
# configuration (so a static configuration that names it still parses) and a provider that reports that it
# is not in this build. Its AWS SDK clients were a seventh of the shared module's Go source (21 of 157 MB;
# EC2's client alone is the largest package of every build here), for a provider that finds tasks on AWS ECS.
build_traefik_ecs_stub() {
  local ecs="$1" struct defaults rule
  grep -q '^func (p \*Provider) Provide(configurationChan chan<- dynamic.Message, pool \*safe.Pool) error {$' \
    "${ecs}/ecs.go" || die "Traefik ${TRAEFIK_VERSION}'s ECS provider changed; review its stub"
  struct="$(sed -n '/^type Provider struct {$/,/^}$/p' "${ecs}/ecs.go" | grep -v '^[[:space:]][[:space:]]*[a-z]')"
  defaults="$(sed -n '/^func (p \*Provider) SetDefaults() {$/,/^}$/p' "${ecs}/ecs.go")"
  rule="$(sed -n '/^const DefaultTemplateRule = /p' "${ecs}/ecs.go")"
  rm -f "${ecs}"/*.go
  cat >"${ecs}/ecs.go" <<GO
// Package ecs is Traefik's AWS ECS provider, left out of this build (hack/tools/install-tools.sh): its
// configuration, and a provider that reports that it is not here.
package ecs

import (
	"errors"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/safe"
)

// ProviderName is the ECS provider name.
const ProviderName = "ecs"

// DefaultTemplateRule is the default template for the default rule.
${rule}

// Provider holds configurations of the provider.
${struct}

// SetDefaults sets the default values.
${defaults}

// Init the provider.
func (p *Provider) Init() error { return nil }

// Provide reports that the ECS provider is not in this build.
func (p *Provider) Provide(chan<- dynamic.Message, *safe.Pool) error {
	return errors.New("the ECS provider is not in this build of Traefik")
}
GO
}

# The second shared module: skaffold and the Prometheus Operator (the operator and its config reloader), on
# the Kubernetes libraries v0.33.3. metrics-server, the third tool on v0.33, does not build with it (tried: its
# k8s.io/apiserver v0.33 code calls otelgrpc.UnaryClientInterceptor, which the otelgrpc that the others require
# no longer has; beside the operator on Kubernetes' v0.34 libraries, its Prometheus libraries are older than the
# operator's): it is built on Kubernetes' own (build_module_kubernetes, hack/lib.sh). skaffold's go.mod replaces and excludes (docker, docker/cli, viper, lifecycle, mergo and
# shellescape held at versions its code supports; one godirwalk release) are single lines, taken as they are.
# Its main package is upstream's, copied, with the time zone database that its release build embeds by the
# timetzdata tag, which would change the standard library's time package, so that nothing compiled for the
# other tools could be reused.
build_module_k8s033() {
  local dir="$1" skaffold
  local tools=(
    "github.com/prometheus-operator/prometheus-operator/cmd/operator@${PROMETHEUS_OPERATOR_VERSION}"
    "github.com/prometheus-operator/prometheus-operator/cmd/prometheus-config-reloader@${PROMETHEUS_OPERATOR_VERSION}"
  )
  skaffold="$(mod_field "github.com/GoogleContainerTools/skaffold/v2@${SKAFFOLD_VERSION}" Dir)"
  mkdir -p "${dir}/skaffold"
  cp "${skaffold}/cmd/skaffold/skaffold.go" "${dir}/skaffold/"
  chmod u+w "${dir}/skaffold/skaffold.go"
  printf 'package main\n\nimport _ "time/tzdata"\n' >"${dir}/skaffold/tzdata.go"
  (cd "${dir}" && go mod init flask-service.local/tools-k8s033 >/dev/null 2>&1 &&
    grep -E '^(replace|exclude) ' "${skaffold}/go.mod" >>go.mod &&
    go get "github.com/GoogleContainerTools/skaffold/v2@${SKAFFOLD_VERSION}" &&
    go get -tool "${tools[@]}" && go mod tidy) || return
  build_check_pins "${dir}" "${tools[@]}" \
    "github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold/app@${SKAFFOLD_VERSION}"
}

# build_shared MODULE NAME PACKAGE GO-BUILD-ARGS...: PACKAGE of the shared module that the function MODULE
# makes, as .tools/bin/NAME. The module is made once for its recipe, in the machine's cache; a lock keeps
# builds side by side (`make up`'s add-ons) from making it twice.
build_shared() {
  local dir
  dir="${cache}/${1#build_}-$(recipe_of "$1")"
  mkdir -p "${cache}"
  (
    flock 9
    [[ -s "${dir}/go.sum" ]] && exit
    rm -rf "${dir}.tmp"
    "$1" "${dir}.tmp" >&2 && mv "${dir}.tmp" "${dir}"
  ) 9>"${cache}/${1#build_}.lock" || die "making the shared module failed"
  (cd "${dir}" && go build -o "${bin}/$2" "${@:4}" "$3")
}

build_helm() {
  need go
  # Without these ldflags helm reports itself as v3 "unknown" and renders
  # .Capabilities.KubeVersion as v1.20; upstream's Makefile derives the
  # Kubernetes version from its client-go requirement (v0.N => 1.N).
  local gomod client_go minor
  gomod="$(mod_field "helm.sh/helm/v3@${HELM_VERSION}" GoMod)"
  client_go="$(sed -n 's#^[[:space:]]*k8s.io/client-go \(v[0-9.]*\).*#\1#p' "${gomod}" | head -n1)"
  minor="$(cut -d. -f2 <<<"${client_go}")"
  [[ -n "${minor}" ]] || {
    log "helm: cannot find the client-go version in ${gomod}"
    exit 1
  }
  build_shared build_module_k8s036 helm helm.sh/helm/v3/cmd/helm -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION} \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor} \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}"
}

build_kind() {
  need go
  go install "sigs.k8s.io/kind@${KIND_VERSION}"
}

build_actionlint() {
  need go
  # actionlint reads its version from the module's build info.
  go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
}

build_shfmt() {
  need go
  # shfmt prints the module's version from its build info.
  go install "mvdan.cc/sh/v3/cmd/shfmt@${SHFMT_VERSION}"
}

build_cosign() {
  need go
  # cosign prints release-utils' version, which upstream's release stamps.
  build_shared build_module_k8s036 cosign github.com/sigstore/cosign/v3/cmd/cosign \
    -ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=${COSIGN_VERSION}"
}

build_helm_docs() {
  need go
  # helm-docs prints main.version for --version and in the README footer; upstream's release stamps it
  # without the leading v.
  go install -ldflags "-s -w -X main.version=${HELM_DOCS_VERSION#v}" \
    "github.com/norwoodj/helm-docs/cmd/helm-docs@${HELM_DOCS_VERSION}"
}

# The registry of upstream's cmd/registry, with the storage drivers that a local registry can use (the
# filesystem, in memory) and without the cloud ones (Azure, GCS, S3, CloudFront), whose SDKs were half of
# its build. A static binary (go_build_env): hack/cluster/registry.sh runs it in a FROM-scratch image.
build_registry() {
  need go
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  cat >"${work}/main.go" <<'GO'
// The Distribution registry: upstream's cmd/registry/main.go without the cloud storage drivers.
package main

import (
	_ "net/http/pprof"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/silly"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/proxy"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/redirect"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/middleware/rewrite"
)

func main() {
	// nolint:errcheck // as upstream: the commands exit non-zero themselves when they fail
	registry.RootCmd.Execute()
}
GO
  (cd "${work}" && go mod init flask-service.local/registry >/dev/null 2>&1 &&
    go get "github.com/distribution/distribution/v3@${REGISTRY_VERSION}" && go mod tidy &&
    go build -o "${bin}/registry" \
      -ldflags "-s -w -X github.com/distribution/distribution/v3/version.version=${REGISTRY_VERSION}" .)
}

# build_prometheus_cmd NAME: cmd/NAME of the Prometheus module (prometheus for the cluster, promtool
# for the chart tier). prometheus is built without the builtinassets tag: the query API and the rule
# engine, no web UI. Of the service discoveries only Kubernetes' (what the operator's scrape configs use)
# and the always-built file, HTTP and static ones: upstream's remove_all_sd and enable_kubernetes_sd tags
# leave out the cloud providers' SDKs, most of the build. Both commands take the same tags, so the
# packages they share are compiled once.
build_prometheus_cmd() {
  need go
  # The release's VERSION file must agree with prometheus_release, else the version check lies.
  local src release
  src="$(mod_field "github.com/prometheus/prometheus@${PROMETHEUS_VERSION}" Dir)"
  release="$(cat "${src}/VERSION")"
  [[ "${release}" == "$(prometheus_release)" ]] ||
    {
      log "$1: module ${PROMETHEUS_VERSION} is release ${release}, not $(prometheus_release)"
      exit 1
    }
  # A module zip has no git revision: the module version stands in for it.
  go install -ldflags "-s -w \
    -X github.com/prometheus/common/version.Version=${release} \
    -X github.com/prometheus/common/version.Revision=${PROMETHEUS_VERSION}" \
    -tags remove_all_sd,enable_kubernetes_sd \
    "github.com/prometheus/prometheus/cmd/$1@${PROMETHEUS_VERSION}"
}
build_prometheus() { build_prometheus_cmd prometheus; }
build_promtool() { build_prometheus_cmd promtool; }

# build_prometheus_operator_cmd NAME CMD: cmd/CMD of the Prometheus Operator module, as .tools/bin/NAME (the
# operator, and the config reloader that it runs beside each Prometheus). Its go.mod replaces two of its own
# packages with directories that the module zip leaves out; built as a dependency, it takes them as the
# modules of the same version that the proxy serves. Each binary is its own tool so that each has its own
# copy in the machine's cache.
build_prometheus_operator_cmd() {
  need go
  build_shared build_module_k8s033 "$1" "github.com/prometheus-operator/prometheus-operator/cmd/$2" \
    -ldflags "-s -w -X github.com/prometheus/common/version.Version=${PROMETHEUS_OPERATOR_VERSION#v}"
}
build_prometheus_operator() { build_prometheus_operator_cmd prometheus-operator operator; }
build_prometheus_config_reloader() { build_prometheus_operator_cmd prometheus-config-reloader prometheus-config-reloader; }

build_traefik() {
  need go
  build_shared build_module_k8s036 traefik github.com/traefik/traefik/v3/cmd/traefik \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION}"
}

build_otelcol() {
  need go
  # The collector's builder (ocb) generates a main module from hack/addons/otel-collector/otelcol-builder.yaml and
  # builds it (static: CGO_ENABLED=0 above); `go run` builds ocb itself once into the Go build cache.
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  sed -e "s/OTELCOL_VERSION/${OTELCOL_VERSION}/" -e "s/OTELCOL_RELEASE/${OTELCOL_VERSION#v}/" \
    "${HACK}/addons/otel-collector/otelcol-builder.yaml" >"${work}/builder.yaml"
  go run "go.opentelemetry.io/collector/cmd/builder@${OTELCOL_VERSION}" \
    --config "${work}/builder.yaml" --output-path "${work}/src" >"${work}/log" 2>&1 ||
    {
      cat "${work}/log" >&2
      return 1
    }
  mv "${work}/src/otelcol" "${bin}/otelcol"
}

build_kube_router() {
  need go
  # v2.1.0 is the newest kube-router the module proxy serves, and its go.mod pins dependencies with
  # reported flaws. As distributions that still ship it do, build it with those raised (versions.env's
  # KUBE_ROUTER_RAISED says which and why), in a writable copy of the module.
  local work
  work="$(build_module_copy "github.com/cloudnativelabs/kube-router/v2@${KUBE_ROUTER_VERSION}")"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  # shellcheck disable=SC2086  # a list of module@version words
  (cd "${work}" && go get ${KUBE_ROUTER_RAISED} && go mod tidy &&
    go build -o "${bin}/kube-router" \
      -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${KUBE_ROUTER_VERSION}" \
      ./cmd/kube-router)
}

build_metrics_server() {
  need go
  # On the cluster's Kubernetes libraries, in the module that builds Kubernetes (build_module_kubernetes in
  # hack/lib.sh, with its tags), where hack/tools/build-k8s.sh has compiled them. Upstream's Makefile stamps
  # client-go's version package, which `metrics-server --version` prints (gitVersion), and the build date.
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  build_module_kubernetes "${work}"
  (cd "${work}" && go build -o "${bin}/metrics-server" -tags "${KUBERNETES_BUILD_TAGS}" -ldflags "-s -w \
    -X k8s.io/client-go/pkg/version.gitVersion=${METRICS_SERVER_VERSION} \
    -X k8s.io/client-go/pkg/version.buildDate=$(mod_time "sigs.k8s.io/metrics-server@${METRICS_SERVER_VERSION}")" \
    sigs.k8s.io/metrics-server/cmd/metrics-server)
}

build_kube_state_metrics() {
  need go
  # Its go.mod has a `tool` block for its docs, which pulls a module the proxy refuses (inet.af/netaddr):
  # drop the block and that requirement in a writable copy; nothing of them is in the binary.
  local work
  work="$(build_module_copy "k8s.io/kube-state-metrics/v2@${KUBE_STATE_METRICS_VERSION}")"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  (cd "${work}" &&
    sed -i '/^tool (/,/^)/d' go.mod &&
    go mod edit -droprequire inet.af/netaddr &&
    go build -mod=mod -o "${bin}/kube-state-metrics" \
      -ldflags "-s -w -X github.com/prometheus/common/version.Version=${KUBE_STATE_METRICS_VERSION}" .)
}

build_jaeger() {
  need go
  # Jaeger v2 (an OpenTelemetry Collector distribution), as its docs say to take it: a tool of a module, but
  # with the Elasticsearch 8+ client (github.com/elastic/go-elasticsearch/v9) replaced by a stub
  # (build_jaeger_es_stub): Jaeger calls that client only to create index templates on Elasticsearch 8 and
  # later, and its typed API was a third of Jaeger's build. The cluster's Jaeger keeps its traces in memory;
  # Elasticsearch 7 and OpenSearch keep their own client.
  local work
  work="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '${work}'" RETURN
  build_jaeger_es_stub "${work}/go-elasticsearch"
  (cd "${work}" && go mod init flask-service.local/jaeger >/dev/null 2>&1 &&
    go mod edit -replace github.com/elastic/go-elasticsearch/v9=./go-elasticsearch &&
    go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@${JAEGER_VERSION}" &&
    build_check_pins . "github.com/jaegertracing/jaeger/cmd/jaeger@${JAEGER_VERSION}" &&
    go build -o "${bin}/jaeger" \
      -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=${JAEGER_VERSION}" \
      github.com/jaegertracing/jaeger/cmd/jaeger)
}

# build_jaeger_es_stub DIR: in DIR, a module github.com/elastic/go-elasticsearch/v9 with only what Jaeger's code
# names of it, whose client cannot be made: Jaeger then reports that it cannot create its Elasticsearch 8+
# client, which is what this build leaves out.
build_jaeger_es_stub() {
  mkdir -p "$1/esapi"
  printf 'module github.com/elastic/go-elasticsearch/v9\n\ngo 1.24\n' >"$1/go.mod"
  cat >"$1/elasticsearch.go" <<'GO'
// Package elasticsearch stands in for the Elasticsearch 8+ client in this build of Jaeger
// (hack/tools/install-tools.sh): its client cannot be made.
package elasticsearch

import (
	"errors"
	"net/http"

	"github.com/elastic/go-elasticsearch/v9/esapi"
)

// Config holds the client's settings that Jaeger sets.
type Config struct {
	Addresses            []string
	Username             string
	Password             string
	DiscoverNodesOnStart bool
	CompressRequestBody  bool
	Header               http.Header
	Transport            http.RoundTripper
}

// Client is the client, never made.
type Client struct {
	*esapi.API
}

// NewClient fails: the client is not in this build.
func NewClient(Config) (*Client, error) {
	return nil, errors.New("the Elasticsearch 8+ client is not in this build of Jaeger")
}
GO
  cat >"$1/esapi/esapi.go" <<'GO'
// Package esapi holds the types of the Elasticsearch 8+ client's API that Jaeger names (a stub).
package esapi

import (
	"fmt"
	"io"
)

// API is the client's API.
type API struct {
	Indices *Indices
}

// Indices is its indices API.
type Indices struct {
	PutIndexTemplate IndicesPutIndexTemplate
}

// IndicesPutIndexTemplate creates an index template.
type IndicesPutIndexTemplate func(name string, body io.Reader, o ...func(*IndicesPutIndexTemplateRequest)) (*Response, error)

// IndicesPutIndexTemplateRequest configures the request.
type IndicesPutIndexTemplateRequest struct{}

// Response is an answer of the API.
type Response struct {
	StatusCode int
}

// String describes the answer.
func (r *Response) String() string { return fmt.Sprintf("[%d]", r.StatusCode) }
GO
}

# build_kyverno_cmd NAME CMD: cmd/CMD of Kyverno's module, as .tools/bin/NAME: the CLI (the chart tier's policy
# check), and the admission controller and its init container (hack/addons/kyverno). Each binary is its own
# tool, with its own copy in the machine's cache.
build_kyverno_cmd() {
  need go
  build_shared build_module_k8s036 "$1" "github.com/kyverno/kyverno/cmd/$2" \
    -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=${KYVERNO_VERSION}"
}
build_kyverno() { build_kyverno_cmd kyverno cli/kubectl-kyverno; }
build_kyverno_admission() { build_kyverno_cmd kyverno-admission kyverno; }
build_kyverno_init() { build_kyverno_cmd kyverno-init kyverno-init; }

build_oha() {
  need cargo
  # --locked: the dependency versions oha's release pinned. --root: the binary lands in .tools/bin.
  cargo install --quiet --locked --version "${OHA_VERSION}" --root "${ROOT}/.tools" oha
}

build_kubeconform() {
  need go
  go install -ldflags "-s -w -X main.version=${KUBECONFORM_VERSION}" \
    "github.com/yannh/kubeconform/cmd/kubeconform@${KUBECONFORM_VERSION}"
}

build_skaffold() {
  need go
  local build_date
  build_date="$(mod_time "github.com/GoogleContainerTools/skaffold/v2@${SKAFFOLD_VERSION}")"
  # Tags and ldflags as upstream's Makefile for a linux release build, but for three tags that would
  # change the standard library's packages, so that nothing compiled for the other tools could be
  # reused: netgo and osusergo (no-ops with CGO_ENABLED=0: Go's own resolver and user lookup are the only
  # ones), and timetzdata, whose time zone database the main package embeds instead (build_module_k8s033).
  # And one more: disable_grpc_modules, the Cloud Storage client's documented opt-out of its gRPC transport's
  # DirectPath dependencies (gRPC's xDS and Envoy's API, a tenth of the module's code). skaffold reaches Cloud
  # Storage (its Cloud Build and kaniko contexts) through the JSON API client, which the tag leaves as it is.
  build_shared build_module_k8s033 skaffold ./skaffold -tags "static_build release disable_grpc_modules" \
    -ldflags "-s -w \
      -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=${SKAFFOLD_VERSION} \
      -X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.buildDate=${build_date}"
}

install_kubectl() {
  # kubectl must match the cluster's Kubernetes version: take the one that
  # hack/tools/build-k8s.sh built (it builds only what is missing).
  local k8s_bin
  k8s_bin="$("${HACK}/tools/build-k8s.sh" bin-dir-only)"
  if [[ ! -x "${k8s_bin}/kubectl" ]]; then
    "${HACK}/tools/build-k8s.sh"
  fi
  install -m 0755 "${k8s_bin}/kubectl" "${bin}/kubectl"
}

# --recipe NAME...: print each tool's name, version and recipe hash, and build nothing.
recipe_only=0
if [[ ${1:-} == --recipe ]]; then
  recipe_only=1
  shift
fi
tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(helm kind kubeconform skaffold kubectl actionlint shfmt helm-docs registry cosign)
for t in "${tools[@]}"; do
  case "${t}" in
  helm) ensure helm "${HELM_VERSION}" "version --short" build_helm ;;
  kind) ensure kind "${KIND_VERSION}" "version" build_kind ;;
  kubeconform) ensure kubeconform "${KUBECONFORM_VERSION}" "-v" build_kubeconform ;;
  promtool) ensure promtool "$(prometheus_release)" "--version" build_promtool ;;
  skaffold) ensure skaffold "${SKAFFOLD_VERSION}" "version" build_skaffold ;;
  kubectl) ensure kubectl "${KUBERNETES_VERSION}" "version --client" install_kubectl ;;
  actionlint) ensure actionlint "${ACTIONLINT_VERSION}" "-version" build_actionlint ;;
  shfmt) ensure shfmt "${SHFMT_VERSION}" "--version" build_shfmt ;;
  helm-docs) ensure helm-docs "${HELM_DOCS_VERSION#v}" "--version" build_helm_docs ;;
  registry) ensure registry "${REGISTRY_VERSION}" "--version" build_registry ;;
  prometheus) ensure prometheus "$(prometheus_release)" "--version" build_prometheus ;;
  prometheus-operator) ensure prometheus-operator "${PROMETHEUS_OPERATOR_VERSION#v}" "--version" build_prometheus_operator ;;
  prometheus-config-reloader)
    ensure prometheus-config-reloader "${PROMETHEUS_OPERATOR_VERSION#v}" "--version" build_prometheus_config_reloader
    ;;
  otelcol) ensure otelcol "${OTELCOL_VERSION#v}" "--version" build_otelcol ;;
  traefik) ensure traefik "${TRAEFIK_VERSION}" "version" build_traefik ;;
  kube-router) ensure kube-router "${KUBE_ROUTER_VERSION}" "--version" build_kube_router ;;
  metrics-server) ensure metrics-server "${METRICS_SERVER_VERSION}" "--version" build_metrics_server ;;
  cosign) ensure cosign "${COSIGN_VERSION}" "version" build_cosign ;;
  kube-state-metrics) ensure kube-state-metrics "${KUBE_STATE_METRICS_VERSION}" "version" build_kube_state_metrics ;;
  jaeger) ensure jaeger "${JAEGER_VERSION}" "version" build_jaeger ;;
  kyverno) ensure kyverno "${KYVERNO_VERSION}" "version" build_kyverno ;;
  # Neither prints its version without a cluster: the version stamped into the binary is checked.
  kyverno-admission) ensure kyverno-admission "${KYVERNO_VERSION}" "--embedded" build_kyverno_admission ;;
  kyverno-init) ensure kyverno-init "${KYVERNO_VERSION}" "--embedded" build_kyverno_init ;;
  oha) ensure oha "${OHA_VERSION}" "--version" build_oha ;;
  *)
    log "unknown tool: ${t}"
    exit 2
    ;;
  esac
done

((! recipe_only)) || exit 0

# skaffold's own settings for this project (SKAFFOLD_CONFIG points here, set by the Makefile):
# no update check and no usage telemetry, both of which would call out to the internet.
skaffold_config="${ROOT}/.tools/skaffold-config.yaml"
if [[ -x "${bin}/skaffold" && ! -s "${skaffold_config}" ]]; then
  "${bin}/skaffold" config set --config "${skaffold_config}" --global update-check false >/dev/null
  "${bin}/skaffold" config set --config "${skaffold_config}" --global collect-metrics false >/dev/null
fi

# skaffold and kind run `docker` from PATH. When DOCKER names a particular client (the one that
# matches the engine and speaks BuildKit without buildx), link it into .tools/bin, which the
# Makefile puts first on PATH.
if [[ -n "${DOCKER:-}" ]]; then
  docker_client="$(readlink -f "$(command -v "${DOCKER}")" 2>/dev/null || true)"
  [[ -x "${docker_client}" ]] || {
    log "DOCKER=${DOCKER} is not an executable"
    exit 1
  }
  ln -sfn "${docker_client}" "${bin}/docker"
  summary+=("docker -> ${DOCKER}")
fi

printf -v line '%s, ' "${summary[@]}"
echo "tools in .tools/bin: ${line%, }"
