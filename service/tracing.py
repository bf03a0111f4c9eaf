"""Traces with OpenTelemetry: off unless an OTLP endpoint is set, configured by the standard OTEL_* variables.

Tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and OTEL_SDK_DISABLED
is not true. Then:

- create_app wraps the app with opentelemetry-instrumentation-flask (in the arbiter too, under preload_app: that
  creates no thread and no connection, its tracer is a proxy until a provider is set);
- gunicorn's post_fork hook calls start() in each worker: the TracerProvider, its BatchSpanProcessor (a thread,
  not fork-safe, hence after the fork) and the OTLP/HTTP exporter; the worker_exit hook calls stop(), which
  flushes what is queued within FLUSH_SECONDS.

Spans are named by URL rule ("GET /next"); a request that matches no rule is named by its method alone, so
unknown paths share one name and no raw path becomes a span name. Probes and /metrics are not traced. The
incoming W3C traceparent is honoured (OTEL_PROPAGATORS, default tracecontext,baggage). Log lines of a traced
request carry its trace_id and span_id (service/logs.py).

With tracing off nothing of OpenTelemetry is imported: this module imports it only inside the functions that
run when tracing is on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import Flask

from . import logs
from .health import LIVENESS_PATH, READINESS_PATH
from .metrics import METRICS_PATH
from .settings import ConfigError, _bool, _float, _int
from .version import VERSION

ENDPOINTS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
DEFAULT_SERVICE_NAME = "flask-service"
FLUSH_SECONDS = 5.0  # at worker exit: what the batch processor still holds gets this long to be exported
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
BSP_QUEUE, BSP_BATCH = 2048, 512  # the SDK's defaults of OTEL_BSP_MAX_QUEUE_SIZE and _MAX_EXPORT_BATCH_SIZE
PROTOCOLS = ("http/protobuf",)  # the exporter shipped; grpc and http/json would be ignored, so they are refused

_provider = None  # this process's TracerProvider, once start() has run
_processor = None


def excluded_urls() -> str:
    """The instrumentation's exclusion: full request URLs whose path is a probe or the scrape, nothing else."""
    paths = "|".join(re.escape(p.lstrip("/")) for p in (LIVENESS_PATH, READINESS_PATH, METRICS_PATH))
    return rf"^https?://[^/?#]*/(?:{paths})(?:\?|$)"


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if _bool("OTEL_SDK_DISABLED", env.get("OTEL_SDK_DISABLED") or "false"):
        return False
    return any((env.get(name) or "").strip() for name in ENDPOINTS)


def validate(environ: Mapping[str, str] | None = None) -> None:
    """Raise ConfigError, naming the variable, for an OTEL_* value that would break tracing or the start.

    The SDK itself logs a warning and falls back to a default on most bad values; a service that was asked to
    sample 10 % should not silently sample everything, so those are refused here, before gunicorn starts.
    """
    env = os.environ if environ is None else environ
    if not enabled(env):  # also checks OTEL_SDK_DISABLED is a boolean
        return
    for name in ENDPOINTS:
        raw = (env.get(name) or "").strip()
        if raw:
            url = urlsplit(raw)
            if url.scheme not in ("http", "https") or not url.hostname:
                raise ConfigError(f"{name}={raw!r} is not an http:// or https:// URL")
    for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        raw = (env.get(name) or "").strip()
        if raw and raw.lower() not in PROTOCOLS:
            raise ConfigError(f"{name}={raw!r} is not supported (the service exports {', '.join(PROTOCOLS)})")
    sampler = (env.get("OTEL_TRACES_SAMPLER") or "parentbased_always_on").strip().lower()
    if sampler not in SAMPLERS:
        raise ConfigError(f"OTEL_TRACES_SAMPLER={env['OTEL_TRACES_SAMPLER']!r} is not one of {', '.join(SAMPLERS)}")
    arg = (env.get("OTEL_TRACES_SAMPLER_ARG") or "").strip()
    if arg and sampler.endswith("traceidratio"):
        _float("OTEL_TRACES_SAMPLER_ARG", arg, 0.0, 1.0)
    for name, high in (
        ("OTEL_BSP_SCHEDULE_DELAY", 3_600_000),
        ("OTEL_BSP_EXPORT_TIMEOUT", 3_600_000),
        ("OTEL_BSP_MAX_QUEUE_SIZE", 10_000_000),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 10_000_000),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", 3_600_000),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 3_600_000),
    ):
        raw = env.get(name)
        if raw is not None and raw.strip():
            _int(name, raw, 1, high)
    queue = int((env.get("OTEL_BSP_MAX_QUEUE_SIZE") or "").strip() or BSP_QUEUE)
    batch = int((env.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE") or "").strip() or BSP_BATCH)
    if batch > queue:
        # The SDK raises ValueError when the worker builds its processor: refuse it before the start instead.
        raise ConfigError(f"OTEL_BSP_MAX_EXPORT_BATCH_SIZE={batch} is larger than OTEL_BSP_MAX_QUEUE_SIZE={queue}")


def init_app(app: Flask) -> None:
    """Instrument the app when tracing is on (at app creation, in the arbiter under preload_app)."""
    if not enabled():
        return
    from flask import request
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    def request_hook(span, environ) -> None:
        if request.url_rule is None:
            # The instrumentation names a request without a rule by its raw path: keep the method only.
            span.update_name(span.name.split(" ", 1)[0])
        context = span.get_span_context()
        if context.is_valid:
            environ[logs.TRACE_KEY] = (format(context.trace_id, "032x"), format(context.span_id, "016x"))

    FlaskInstrumentor().instrument_app(
        app, excluded_urls=excluded_urls(), request_hook=request_hook, enable_commenter=False
    )
    logs.current_trace = current_ids


def current_ids() -> tuple[str, str] | None:
    """(trace_id, span_id) in hex of the span current in this thread, or None."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def start(service_version: str = VERSION) -> bool:
    """In a worker, after the fork: the global TracerProvider with a batch processor and the OTLP/HTTP exporter.

    Reads the OTEL_* variables as the SDK does (endpoint, headers, timeout, sampler, batch sizes and delays,
    OTEL_RESOURCE_ATTRIBUTES). Returns whether tracing is on.
    """
    global _provider, _processor
    if not enabled() or _provider is not None:
        return _provider is not None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = (os.environ.get("OTEL_SERVICE_NAME") or "").strip() or DEFAULT_SERVICE_NAME
    # process.pid: which worker sent a span (start() runs in each one, after the fork).
    attributes = {"service.name": name, "service.version": service_version, "process.pid": os.getpid()}
    resource = Resource.create(attributes)
    # shutdown_on_exit=False: stop() (gunicorn's worker_exit hook) shuts it down, with a bound.
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    _provider, _processor = provider, processor
    return True


def stop(timeout: float = FLUSH_SECONDS) -> None:
    """Export what is queued (within `timeout` seconds) and stop the processor's thread."""
    global _provider, _processor
    provider, processor = _provider, _processor
    if provider is None:
        return
    _provider = _processor = None
    if processor.force_flush(int(timeout * 1000)):
        provider.shutdown()  # quick now: nothing left to export
    # Otherwise an export hangs (an endpoint that does not answer): shutdown() would wait for it up to 30 s.
    # The processor's thread is a daemon, so the worker exits without it; those spans are lost.
