import json
import logging

from service.logs import JsonFormatter, RequestIdFilter


def test_log_lines_are_json_with_request_id(make_app):
    app = make_app()
    record = None

    with app.test_request_context("/", headers={"X-Request-ID": "rid-1"}):
        app.preprocess_request()
        record = logging.LogRecord("service", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
        RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world"
    assert entry["level"] == "warning"
    assert entry["request_id"] == "rid-1"


def test_exceptions_are_one_json_line():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad" in json.loads(line)["exception"]
