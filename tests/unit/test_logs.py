import json
import logging
import os

from service.logs import STDOUT, JsonFormatter, RequestIdFilter, write_line


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


def test_write_line_writes_one_line_and_drops_it_when_stdout_is_gone():
    stdout = os.dup(STDOUT)
    read_end, write_end = os.pipe()
    try:
        os.dup2(write_end, STDOUT)
        write_line('{"message": "one"}')
        assert os.read(read_end, 100) == b'{"message": "one"}\n'
        os.close(read_end)  # nobody reads any more: the write fails with EPIPE
        write_line('{"message": "lost"}')
    finally:
        os.dup2(stdout, STDOUT)
        os.close(stdout)
        os.close(write_end)
