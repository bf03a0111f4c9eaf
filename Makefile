# flask-service: every developer and CI entry point. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# uv installs the venv from the hashed locks (pip took 40 s); itself pinned by hash in hack/tools/uv.lock.
# It trusts the system's certificate store, as pip does: a TLS-intercepting proxy's CA is there.
UV_ENV := .tools/uv
UV := $(UV_ENV)/bin/uv
export UV_SYSTEM_CERTS := 1
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
# pytest arguments, e.g. `make test PYTEST_ARGS="-x -k metrics"`
PYTEST_ARGS ?=
comma := ,

# AIRGAP=1: no registry is reachable. Build the base image, the Kubernetes components and the kind
# node image locally instead of pulling them (hack/). Default: the published images.
AIRGAP ?= 0
export AIRGAP
# The engine's own client: on some machines the first `docker` on PATH is a newer client without
# the features the 20.10 engine pairs with. Anywhere else plain `docker` is right.
DOCKER ?= $(if $(wildcard /usr/bin/docker),/usr/bin/docker,docker)
export DOCKER
export DOCKER_BUILDKIT := 1
# PEM of extra CAs for the image build (TLS-intercepting proxy): a build secret, never stored in the
# image. By default the host's own bundle, so the build trusts what the host trusts.
EXTRA_CA_FILE ?= $(wildcard /etc/ssl/certs/ca-certificates.crt)
export EXTRA_CA_FILE
IMAGE ?= flask-service
# The registry `make publish` pushes to, and `make up` pushes the working tree's build to: by default
# the local one beside the kind cluster (hack/cluster/registry.sh), which the nodes pull from.
REGISTRY ?= localhost:5001
# --snapshot: replace the version's published content (what `make up` does for the local copy).
PUBLISH_ARGS ?=
# The kind cluster that cluster, up, dev, down and e2e act on (kube context kind-<name>), and the local
# port `make up` forwards: another name and port let a second cluster run beside the first.
CLUSTER_NAME ?= flask-service
export CLUSTER_NAME
KUBE_CONTEXT := kind-$(CLUSTER_NAME)
LOCAL_PORT ?= 5000
# Project-local skaffold settings: no update check, no telemetry (written by hack/tools/install-tools.sh).
export SKAFFOLD_CONFIG := $(CURDIR)/.tools/skaffold-config.yaml
export SKAFFOLD_INTERACTIVE := false
# Skaffold always builds (Docker's layer cache makes an unchanged build about a second, the same digest), so
# that its post-build hook signs, or finds signed, what it deploys: an image that it would take from its
# cache or find in the registry skips the hook, and the cluster's admission policy refuses it unless signed
# in the layout that the policy reads (hack/release/README.md).
export SKAFFOLD_CACHE_ARTIFACTS := false
VERSION := $(shell sed -n 's/^VERSION = "\(.*\)"/\1/p' service/version.py)
SOURCE_URL ?= unknown
ifeq ($(AIRGAP),1)
# Skaffold's offline profile builds FROM the local base; cluster.sh builds the node image locally.
export SKAFFOLD_PROFILE := offline
else
# The Dockerfile's pinned default base, also for the container tests.
export BASE_IMAGE ?= $(shell sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)
export KIND_NODE_IMAGE ?= published
endif

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z0-9 -]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(UV): hack/tools/uv.lock
	$(PYTHON) -m venv $(UV_ENV)
	$(UV_ENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r hack/tools/uv.lock
	touch $@

$(VENV)/.installed: requirements-dev.lock $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(PY) --require-hashes --no-deps -r requirements-dev.lock
	touch $@

.PHONY: venv
venv: $(VENV)/.installed ## Create .venv from the hashed dev lock

.PHONY: lock
lock: $(UV) ## Regenerate the hashed locks from pyproject.toml, and uv's own from hack/versions.env
	$(UV) pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements.lock
	$(UV) pip compile pyproject.toml --extra test --generate-hashes --universal --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements-dev.lock
	$(UV) pip compile pyproject.toml --extra test --extra bench --generate-hashes --universal --python-version 3.11 -q \
	  --custom-compile-command "make lock" -o requirements-bench.lock
	echo "uv==$$(. hack/versions.env && echo "$$UV_VERSION")" | $(UV) pip compile - --generate-hashes --universal \
	  --python-version 3.11 -q --custom-compile-command "make lock" -o hack/tools/uv.lock

.PHONY: run
run: venv ## Serve on 127.0.0.1:5000 under gunicorn (no Docker)
	mkdir -p .run/metrics
	HOST=127.0.0.1 PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/metrics $(PY) -m service

# Every shell script of the project (the node image's entrypoint included).
# Every shell script: one style (shfmt, two-space indents), checked by shellcheck.
SHELL_SCRIPTS = $(shell find hack front -name '*.sh' | sort) .ci/run hack/tools/runc-nosysres hack/images/kind-node/files/usr/local/bin/entrypoint

.PHONY: lint
lint: venv ## ruff, shellcheck, shfmt, hadolint, actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	hack/tools/debian-package.sh shellcheck >/dev/null
	shellcheck -x $(SHELL_SCRIPTS)
	hack/tools/install-tools.sh shfmt >/dev/null
	shfmt -d -i 2 $(SHELL_SCRIPTS)
	$(VENV)/bin/hadolint Dockerfile
	hack/tools/install-tools.sh actionlint >/dev/null
	actionlint

.PHONY: test
test: venv ## Every tier, fastest first: lint, unit and integration, chart, container, e2e (creates what it needs)
	# Each stage builds only what it needs, just before it runs: a lint or unit failure shows in seconds,
	# not after the cluster was built. A stage that selects no test (PYTEST_ARGS="-k ...") is not a failure.
	$(MAKE) --no-print-directory lint
	hack/tools/debian-package.sh chromium >/dev/null
	$(call tier,unit or integration,$(PARALLEL))
	$(MAKE) --no-print-directory tools k8s-schemas promtool kyverno
	$(call tier,chart,$(PARALLEL))
	$(MAKE) --no-print-directory engine
	$(call tier,container)
	$(MAKE) --no-print-directory cluster
	$(call tier,e2e)

# pytest on one marker expression, with more arguments; its exit status 5 (no test selected) passes.
tier = $(PY) -m pytest -m "$(1)" $(2) $(PYTEST_ARGS) || [[ $$? == 5 ]]
# The unit, integration and chart tiers in three processes (pytest-xdist), each test file whole in one so that
# its module's servers and renders are made once: the first two wait on servers and timers far more than they
# compute (on 2 cores, 53 s in one process, 25 s in three); the chart tier's Kyverno check runs beside its
# other files (50 s in one process, 39 s in three).
PARALLEL := -n 3 --dist loadfile

.PHONY: unit integration container chart e2e
unit integration container chart e2e: venv ## One tier only: make unit | integration | container | chart | e2e
	$(PY) -m pytest -m $@ $(TIER_ARGS) $(PYTEST_ARGS)
unit integration chart: TIER_ARGS = $(PARALLEL)
# What each tier needs besides Python.
integration e2e: browser
container: engine
chart: tools k8s-schemas promtool kyverno
e2e: cluster

# ---- engine, tools, images -----------------------------------------------------------------

.PHONY: browser
browser: ## Debian's Chromium, for the pages checked in a real browser (installs the package; needs root)
	hack/tools/debian-package.sh chromium >/dev/null

.PHONY: engine
engine: ## Start a Docker engine unless one answers (Debian: installs docker.io; needs root)
	$(DOCKER) info >/dev/null 2>&1 || hack/tools/docker-engine.sh start

.PHONY: tools
tools: ## Pinned helm, kind, skaffold, kubeconform, kubectl into .tools/bin (go install)
	hack/tools/install-tools.sh

.PHONY: promtool
promtool: ## Pinned promtool into .tools/bin, for the chart tier's rule tests (go install; not in `tools`)
	hack/tools/install-tools.sh promtool

.PHONY: kyverno
kyverno: ## Pinned Kyverno CLI into .tools/bin, for the chart tier's policy check (go build; not in `tools`)
	hack/tools/install-tools.sh kyverno

.PHONY: base-image
base-image: engine ## The local Debian base image (debootstrap; once per machine; needs root)
	hack/images/base-image.sh

.PHONY: image
image: engine ## Build flask-service:<version> (AIRGAP=1: FROM the local base; EXTRA_CA_FILE=…)
	base="$(BASE_IMAGE)"; \
	if [[ "$(AIRGAP)" == 1 && -z "$$base" ]]; then base="$$(hack/images/base-image.sh)"; fi; \
	$(DOCKER) build -t $(IMAGE):$(VERSION) \
	  $${base:+--build-arg BASE_IMAGE="$$base"} \
	  $(if $(EXTRA_CA_FILE),--secret id=extra_ca$(comma)src="$(EXTRA_CA_FILE)") \
	  --build-arg VERSION=$(VERSION) \
	  --build-arg REVISION="$$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
	  --build-arg SOURCE_URL="$(SOURCE_URL)" \
	  .

.PHONY: publish
publish: registry tools ## Publish image (version tag), SBOM and chart to REGISTRY; a published version never changes
	$(MAKE) --no-print-directory image IMAGE=$(REGISTRY)/flask-service
	$(PY) -m hack.release.publish publish $(REGISTRY)/flask-service:$(VERSION) $(PUBLISH_ARGS)

.PHONY: registry
registry: engine venv ## Start the local OCI registry on 127.0.0.1:5001 (built from Go module sources)
	hack/cluster/registry.sh up

.PHONY: k8s-schemas
k8s-schemas: ## Kubernetes API JSON schemas for the offline kubeconform test (go mod download; cached)
	hack/tools/k8s-schemas.sh

.PHONY: chart-docs
chart-docs: ## Regenerate chart/README.md with helm-docs from README.md.gotmpl and values.yaml (go install)
	hack/tools/install-tools.sh helm-docs >/dev/null
	helm-docs --chart-search-root chart --sort-values-order file --log-level warning

.PHONY: manifests
manifests: tools ## Re-render k8s/ from the chart (a chart test fails when they drift)
	hack/release/render-manifests.sh

# ---- cluster ---------------------------------------------------------------------------------

.PHONY: node-image
node-image: engine ## Build the kind node image locally (the air-gapped path; cached by content)
	hack/tools/build-k8s.sh
	hack/images/node-image.sh

# What any cluster needs on this machine, made once: the tools and, with AIRGAP=1, the node and base images.
.PHONY: cluster-prereqs
cluster-prereqs: engine tools venv
	if [[ "$(AIRGAP)" == 1 ]]; then $(MAKE) --no-print-directory node-image base-image >/dev/null; fi

.PHONY: cluster
cluster: cluster-prereqs ## Create (or reuse) the kind cluster CLUSTER_NAME (default flask-service; AIRGAP=1: local node image)
	hack/cluster/cluster.sh up

.PHONY: up
up: cluster venv ## Cluster + local registry + skaffold run + port-forward 127.0.0.1:LOCAL_PORT (default 5000; Ctrl-C stops it)
	# The by-hand paths (helm install chart/ or oci://, kubectl apply -k k8s/) pull the version tag from
	# the local registry: publish the working tree there as the version's development copy.
	$(MAKE) --no-print-directory publish PUBLISH_ARGS=--snapshot
	# A fixed run id: Skaffold labels the pod template with a new one on every run, which rolls the pods
	# even when nothing changed (its documented override). The rollout is waited for by kubectl below.
	skaffold run --kube-context $(KUBE_CONTEXT) --update-check=false --port-forward=off \
	  --label skaffold.dev/run-id=make-up --status-check=false
	kubectl --context $(KUBE_CONTEXT) rollout status deployment/flask-service --timeout=300s
	@echo "flask-service: http://127.0.0.1:$(LOCAL_PORT)/ and /next (Ctrl-C stops the port-forward)"
	hack/cluster/port-forward.sh $(KUBE_CONTEXT) default svc/flask-service $(LOCAL_PORT):5000

.PHONY: dev
dev: cluster venv ## skaffold dev: file sync of service/ into the pods, gunicorn reload, port-forward 5000
	skaffold dev --kube-context $(KUBE_CONTEXT) --update-check=false --port-forward=user

.PHONY: down
down: ## Delete the kind cluster CLUSTER_NAME
	hack/cluster/cluster.sh down

# ---- benchmarks ------------------------------------------------------------------------------

$(VENV)/.bench-installed: requirements-bench.lock | venv
	$(UV) pip install --quiet --python $(PY) --require-hashes --no-deps -r requirements-bench.lock
	touch $@

.PHONY: bench
bench: $(VENV)/.bench-installed ## Every benchmark (HTTP, metrics, slow clients, image, cluster, soak) and the chart (needs wrk, and cargo for oha)
	command -v wrk >/dev/null || apt-get install -y wrk
	hack/tools/install-tools.sh oha
	$(PY) -m bench.http_bench
	$(PY) -m bench.metrics_bench
	$(PY) -m bench.slow_clients
	$(MAKE) --no-print-directory bench-image bench-cluster bench-soak
	$(PY) -m bench.chart

.PHONY: bench-image
bench-image: engine $(VENV)/.bench-installed ## Image size above the base, cold build vs one-file rebuild, start to first 200
	$(PY) -m bench.image_bench

.PHONY: bench-cluster
bench-cluster: cluster-prereqs $(VENV)/.bench-installed ## make up cold/warm, skaffold dev sync vs rebuild, on a private cluster
	$(PY) -m bench.cluster_bench

.PHONY: bench-idle
bench-idle: cluster $(VENV)/.bench-installed ## What the cluster costs at idle (CPU, memory per node and namespace), figures to bench/results/platform-idle.json
	$(PY) -m bench.platform_idle

.PHONY: bench-node-loss
bench-node-loss: cluster ## A node killed under load: requests lost and seconds to recover per path, to bench/results/node-loss.json
	NODE_LOSS_REPORT=bench/results/node-loss.json $(PY) -m pytest -q -s "tests/e2e/test_disruption.py::test_a_node_that_dies_costs_a_bounded_outage"

.PHONY: bench-soak
bench-soak: cluster ## The e2e soak (SOAK_SECONDS, SOAK_RPS) on the project cluster, figures to bench/results/soak.json
	SOAK_REPORT=bench/results/soak.json $(PY) -m pytest -q -s tests/e2e/test_soak.py
