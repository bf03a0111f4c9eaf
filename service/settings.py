"""Settings read once from the environment and validated before anything starts.

Every setting is an environment variable so the same image runs under compose, Helm and `make run`.
A bad value raises ConfigError naming the variable; the server turns that into one line and exit 2.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from .version import VERSION

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
# guarded: the service's own worker (service/worker.py); gthread and sync: gunicorn's, without its guards.
WORKER_CLASSES = ("guarded", "gthread", "sync")
MAX_HEADING = 200


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer (allowed {low}..{high})") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range (allowed {low}..{high})")
    return value


def _float(name: str, raw: str, low: float, high: float) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number (allowed {low:g}..{high:g})") from None
    if not low <= value <= high:  # also rejects nan
        raise ConfigError(f"{name}={raw.strip()} is out of range (allowed {low:g}..{high:g})")
    return value


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use true or false)")


def _text(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > MAX_HEADING:
        raise ConfigError(f"{name} must be 1..{MAX_HEADING} characters, got {len(value)}")
    return value


def _choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return value


def _host(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or any(c.isspace() for c in value):
        raise ConfigError(f"{name}={raw!r} is not a host name or address")
    return value


def _path(name: str, raw: str) -> str:
    value = raw.strip()
    if not os.path.isabs(value):
        raise ConfigError(f"{name}={raw!r} must be an absolute path")
    return value


def _addresses(name: str, raw: str) -> str:
    """Comma-separated IP addresses or networks, or `*`; returned normalised, as gunicorn reads it."""
    value = raw.strip()
    if value == "*":
        return value
    items = [item.strip() for item in value.split(",") if item.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: {item!r} is not an IP address or network (or use *)") from None
    return ",".join(items)


@dataclass(frozen=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 5000
    workers: int = 2
    threads: int = 4
    timeout: int = 30
    graceful_timeout: int = 20
    keepalive: int = 5
    shutdown_delay: float = 0.0
    worker_class: str = "guarded"
    header_timeout: float = 5.0
    max_queued: int = 64
    forwarded_allow_ips: str = ""
    proxy_protocol: bool = False
    log_level: str = "info"
    access_log: bool = True
    reload: bool = False
    metrics_enabled: bool = True
    metrics_dir: str | None = None
    faults_enabled: bool = False
    welcome_heading: str = "Welcome to IFT510-Project by Swetha"
    next_heading: str = "Publishing the docker container to GITHUB"
    app_version: str = VERSION

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field, (variable, parse) in _PARSERS.items():
            raw = env.get(variable)
            if raw is not None and (raw.strip() or field in _EMPTY_IS_ERROR):
                values[field] = parse(variable, raw)
        return cls(**values)

    def flask_config(self) -> dict[str, object]:
        """The part of the settings the Flask app reads (the server reads the rest)."""
        return {
            "WELCOME_HEADING": self.welcome_heading,
            "NEXT_HEADING": self.next_heading,
            "APP_VERSION": self.app_version,
            "METRICS_ENABLED": self.metrics_enabled,
            "FAULTS_ENABLED": self.faults_enabled,
        }


Parser = Callable[[str, str], object]

# field -> (environment variable, parser). The README's settings table lists the same variables.
_PARSERS: dict[str, tuple[str, Parser]] = {
    "host": ("HOST", _host),
    "port": ("PORT", lambda n, r: _int(n, r, 1, 65535)),
    "workers": ("WEB_CONCURRENCY", lambda n, r: _int(n, r, 1, 64)),
    "threads": ("GUNICORN_THREADS", lambda n, r: _int(n, r, 1, 64)),
    "timeout": ("GUNICORN_TIMEOUT", lambda n, r: _int(n, r, 1, 3600)),
    "graceful_timeout": ("GRACEFUL_TIMEOUT", lambda n, r: _int(n, r, 0, 3600)),
    "keepalive": ("GUNICORN_KEEPALIVE", lambda n, r: _int(n, r, 0, 300)),
    "shutdown_delay": ("SHUTDOWN_DELAY", lambda n, r: _float(n, r, 0, 300)),
    "worker_class": ("WORKER_CLASS", lambda n, r: _choice(n, r, WORKER_CLASSES)),
    "header_timeout": ("HEADER_TIMEOUT", lambda n, r: _float(n, r, 0.1, 300)),
    "max_queued": ("MAX_QUEUED", lambda n, r: _int(n, r, 1, 100000)),
    "forwarded_allow_ips": ("FORWARDED_ALLOW_IPS", _addresses),
    "proxy_protocol": ("PROXY_PROTOCOL", _bool),
    "log_level": ("LOG_LEVEL", lambda n, r: _choice(n, r, LOG_LEVELS)),
    "access_log": ("ACCESS_LOG", _bool),
    "reload": ("GUNICORN_RELOAD", _bool),
    "metrics_enabled": ("METRICS_ENABLED", _bool),
    "metrics_dir": ("PROMETHEUS_MULTIPROC_DIR", _path),
    "faults_enabled": ("FAULTS_ENABLED", _bool),
    "welcome_heading": ("WELCOME_HEADING", _text),
    "next_heading": ("NEXT_HEADING", _text),
    "app_version": ("APP_VERSION", _text),
}
# A heading set to blank is a mistake worth stopping for; other blank variables mean "use the default".
_EMPTY_IS_ERROR = {"welcome_heading", "next_heading"}

assert set(_PARSERS) == {f.name for f in fields(Settings)}
