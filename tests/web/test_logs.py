"""``web/logs.py``: LOG_LEVEL, one access line per request, the request id on every line."""

from __future__ import annotations

import logging
import re

import pytest
import requests

from web import logs

HEX_ID = re.compile(r"[0-9a-f]{32}")
LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+) "
    r"\[(?P<rid>[^\]]+)\] (?P<message>.*)$"
)


@pytest.fixture
def db_url(tmp_path):
    """Logging does not depend on the database: these tests run on SQLite only."""
    return f"sqlite:///{tmp_path / 'logs.sqlite'}"


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "web.access"]


def test_one_access_line_per_request_with_its_fields(client, caplog, capsys):
    capsys.readouterr()
    response = client.get("/api/v1/health?token=s3cret-value&lang=ru&lang=vi")
    assert response.status_code == 200
    (record,) = access_records(caplog)
    rid = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(rid)
    assert (record.method, record.path, record.status, record.request_id) == (
        "GET",
        "/api/v1/health?token&lang",
        200,
        rid,
    )
    assert 0 <= record.duration_ms < 10_000
    assert record.getMessage() == f"GET /api/v1/health?token&lang 200 {record.duration_ms:.1f} ms"
    # on stderr: time, level, logger, request id; query values (secrets, personal data) never
    lines = [LINE.match(line) for line in capsys.readouterr().err.splitlines() if "web.access" in line]
    assert [(m["level"], m["logger"], m["rid"], m["message"]) for m in lines] == [
        ("INFO", "web.access", rid, record.getMessage())
    ]


def test_a_valid_incoming_request_id_is_kept_and_echoed(client, caplog):
    response = client.get("/assess", headers={"X-Request-ID": "edge-7f3a.42_Z"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.42_Z"
    assert [r.request_id for r in access_records(caplog)] == ["edge-7f3a.42_Z"]


@pytest.mark.parametrize("given", ["", "two words", "a" * 65, "<script>", "id;rm", "ид"])
def test_a_bad_incoming_request_id_is_replaced(client, caplog, given):
    response = client.get("/assess", headers={"X-Request-ID": given})
    rid = response.headers["X-Request-ID"]
    assert HEX_ID.fullmatch(rid) and rid != given
    assert [r.request_id for r in access_records(caplog)] == [rid]


def test_each_request_gets_its_own_id(client):
    ids = {client.get("/api/v1/health").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


def test_control_characters_in_the_path_cannot_forge_a_log_line(client, caplog, capsys):
    capsys.readouterr()
    assert client.get("/nope%0D%0A2026-01-01 INFO web.access [x] GET /admin 200").status_code == 404
    (record,) = access_records(caplog)
    assert record.path == "/nope%0D%0A2026-01-01%20INFO%20web.access%20%5Bx%5D%20GET%20/admin%20200"
    assert sum("web.access" in line for line in capsys.readouterr().err.splitlines()) == 1


def test_log_level_warning_silences_access_lines(make_app, monkeypatch, caplog):
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    client = make_app(users=False).test_client()
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and HEX_ID.fullmatch(response.headers["X-Request-ID"])
    assert access_records(caplog) == []


def test_log_level_from_config_and_refused_when_unknown(make_app, monkeypatch, caplog):
    monkeypatch.setenv("LOG_LEVEL", "debug")
    make_app(users=False)
    assert logging.getLogger("web").level == logging.DEBUG
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="LOG_LEVEL = 'loud' is not a log level"):
        make_app(users=False)


def test_a_server_error_logs_its_traceback_with_the_request_id(make_app, caplog, capsys):
    app = make_app(users=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    capsys.readouterr()
    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500 and response.headers["X-Request-ID"] == "req-500"
    (error,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.request_id == "req-500" and error.exc_info[0] is RuntimeError
    err = capsys.readouterr().err
    assert re.search(r"ERROR web \[req-500\] Exception on /boom \[GET\]\nTraceback", err), err
    assert "RuntimeError: kaboom" in err
    assert [(r.status, r.request_id) for r in access_records(caplog)] == [(500, "req-500")]


def test_log_lines_outside_requests_show_a_dash(app, caplog):
    logging.getLogger("web.jobs").warning("batch job 1: no heartbeat")
    (record,) = [r for r in caplog.records if r.name == "web.jobs"]
    assert record.request_id == "-"


def test_the_development_server_logs_each_request_once(app, serving, caplog):
    with serving(app) as base:
        response = requests.get(base + "/api/v1/health?x=1", timeout=10)
    assert response.status_code == 200
    assert [r.name for r in caplog.records if "/api/v1/health" in r.getMessage()] == ["web.access"]


def test_the_stderr_handler_is_added_once(make_app):
    make_app(users=False)
    make_app(users=False)
    assert sum(isinstance(h, logs.StderrHandler) for h in logging.getLogger().handlers) == 1
