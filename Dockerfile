# flask-service container image.
#
#   DOCKER_BUILDKIT=1 docker build -t flask-service:0.1.0 .
#
# Build arguments:
#   BASE_IMAGE  the Python base. Default: the official slim image, pinned by digest
#               (the tag is for humans; the digest is what is pulled). Machines that
#               cannot reach a registry pass a locally made Debian base instead
#               (hack/images/base-image.sh). Either works: both have python3 with venv.
#   VERSION, REVISION, SOURCE_URL  OCI labels (`make image` passes the version from
#               service/version.py and the git commit).
# Build secret (optional):
#   extra_ca    a PEM file with an extra CA that pip must trust, for networks with a
#               TLS-intercepting proxy: --secret id=extra_ca,src=FILE. It is mounted
#               for the one RUN that downloads packages and never stored in a layer.
#               A missing or empty secret means no extra CA.
# BuildKit is required (RUN --mount). No `# syntax=` line: the frontend built into
# Docker 20.10+ understands everything used here, and fetching one needs a registry.

# python:3.12-slim-bookworm (Python 3.12.14, Debian 12) as published on 2026-08-25,
# multi-platform index digest.
ARG BASE_IMAGE=python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579

# ---- build: resolve nothing, install exactly the hashed lock into a venv --------------
FROM ${BASE_IMAGE} AS build

# Create the venv with whatever python3 the base has (/usr/local/bin in the official
# image, /usr/bin in the Debian one); from here on only /opt/venv/bin/python is used.
RUN python3 -m venv /opt/venv

COPY requirements.lock /tmp/requirements.lock
# --require-hashes and --no-deps: only the locked files, each checked against its hash.
# --only-binary: wheels only, so no compiler is ever needed (or present).
# The CA bundle pip trusts is the base's system bundle plus the optional extra CA;
# it lives in /tmp only for this step.
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then \
        cat /etc/ssl/certs/ca-certificates.crt /run/secrets/extra_ca > /tmp/ca-bundle.pem \
        && export PIP_CERT=/tmp/ca-bundle.pem; \
    fi \
    && /opt/venv/bin/python -m pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --require-hashes --only-binary=:all: -r /tmp/requirements.lock \
    && /opt/venv/bin/python -m pip uninstall --yes --no-cache-dir --disable-pip-version-check pip setuptools \
    && rm -f /tmp/ca-bundle.pem /tmp/requirements.lock

# ---- runtime: the base, the venv, the app and its front (HAProxy); nothing else ----------
FROM ${BASE_IMAGE} AS runtime

# A fixed UID/GID (Kubernetes runAsUser/fsGroup and volume permissions rely on it),
# no home, no login shell, no lastlog/faillog entries.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-log-init \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app

# Dependencies first: this layer only changes when requirements.lock does.
COPY --from=build /opt/venv /opt/venv

# HAProxy, the pod's front (front/haproxy.cfg, docs/front.md): Debian 12's long-term 2.6 branch, as the
# distribution patches it (apt checks the archive's signature). The chart runs it as a second container
# of this image, so one image, signed once, serves both.
ARG HAPROXY_VERSION=2.6.*
RUN apt-get update \
    && apt-get install -y --no-install-recommends "haproxy=${HAPROXY_VERSION}" \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /etc/haproxy
COPY front/ /app/front/

# The code last, root-owned and not writable by the app user. Compiled here because
# the root filesystem is read-only at run time (no __pycache__ can be written then).
WORKDIR /app
COPY service/ /app/service/
RUN /opt/venv/bin/python -m compileall -q /app/service

# PROMETHEUS_MULTIPROC_DIR lives on the /tmp tmpfs (the server creates and wipes it);
# gunicorn's worker heartbeat files go to /dev/shm. Nothing else is written.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="flask-service" \
      org.opencontainers.image.description="A Kubernetes-ready Flask microservice served by gunicorn" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}"

USER 10001:10001
EXPOSE 5000

# Ready means serving: readiness turns 503 while draining. Python's urllib, so no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('PORT', '5000'), timeout=2)"]

# Exec form: the gunicorn arbiter is PID 1 and receives SIGTERM itself; it reaps its workers.
ENTRYPOINT ["/opt/venv/bin/python", "-m", "service"]
