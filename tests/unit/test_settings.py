import pytest

from service.settings import ConfigError, Settings
from service.version import VERSION


def test_defaults():
    settings = Settings.from_env({})
    assert settings.port == 5000
    assert settings.host == "0.0.0.0"
    assert settings.workers >= 1
    assert settings.app_version == VERSION
    assert settings.welcome_heading == "Welcome to IFT510-Project by Swetha"


def test_values_are_parsed():
    settings = Settings.from_env(
        {
            "PORT": "8080",
            "WEB_CONCURRENCY": " 3 ",
            "SHUTDOWN_DELAY": "2.5",
            "LOG_LEVEL": "DEBUG",
            "GUNICORN_RELOAD": "yes",
            "METRICS_ENABLED": "false",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/m",
        }
    )
    assert (settings.port, settings.workers, settings.shutdown_delay) == (8080, 3, 2.5)
    assert settings.log_level == "debug"
    assert settings.reload is True and settings.metrics_enabled is False
    assert settings.metrics_dir == "/tmp/m"


def test_the_guards_default_to_on_and_trust_no_proxy():
    settings = Settings.from_env({})
    assert (settings.worker_class, settings.header_timeout, settings.max_queued) == ("guarded", 5.0, 64)
    assert settings.forwarded_allow_ips == ""
    custom = Settings.from_env({"FORWARDED_ALLOW_IPS": " 10.0.0.0/8 , ::1 ", "HEADER_TIMEOUT": "2.5"})
    assert (custom.forwarded_allow_ips, custom.header_timeout) == ("10.0.0.0/8,::1", 2.5)
    assert Settings.from_env({"FORWARDED_ALLOW_IPS": "*"}).forwarded_allow_ips == "*"


def test_blank_optional_values_mean_default():
    assert Settings.from_env({"PORT": "", "WEB_CONCURRENCY": "  "}) == Settings.from_env({})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEB_CONCURRENCY", "abc"),
        ("WEB_CONCURRENCY", "0"),
        ("PORT", "70000"),
        ("PORT", "0"),
        ("PORT", "5000.5"),
        ("GUNICORN_THREADS", "-1"),
        ("GUNICORN_TIMEOUT", "0"),
        ("SHUTDOWN_DELAY", "nan"),
        ("SHUTDOWN_DELAY", "-1"),
        ("LOG_LEVEL", "verbose"),
        ("GUNICORN_RELOAD", "maybe"),
        ("METRICS_ENABLED", "2"),
        ("PROMETHEUS_MULTIPROC_DIR", "relative/dir"),
        ("WELCOME_HEADING", "   "),
        ("NEXT_HEADING", "x" * 201),
        ("HOST", "two words"),
        ("HEADER_TIMEOUT", "0"),
        ("MAX_QUEUED", "0"),
        ("WORKER_CLASS", "gevent"),
        ("FORWARDED_ALLOW_IPS", "proxy.example"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1,10.0.0.0/33"),
    ],
)
def test_bad_value_names_the_setting(variable, value):
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert str(error.value).startswith(variable)
    assert "\n" not in str(error.value)
