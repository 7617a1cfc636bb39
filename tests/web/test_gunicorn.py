"""``gunicorn.conf.py``: gunicorn loads it and the app, takes its settings from the environment, and logs once."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
SETTINGS = (
    "GUNICORN_BIND",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "LOG_LEVEL",
    "REDIS_URL",
    "GUNICORN_CMD_ARGS",
)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This checkout's code on a SQLite file of the test's own, with only the given gunicorn settings."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith("MATCHER_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SECRET_KEY="gunicorn-test-secret-key",
        DATABASE_URL=f"sqlite:///{tmp_path / 'g.sqlite'}",
        MATCHER_CACHE_DIR=os.environ.get("MATCHER_CACHE_DIR", str(tmp_path / "cache")),
        **extra,
    )
    return env


def printed_config(env: dict[str, str]) -> dict[str, str]:
    done = subprocess.run([*GUNICORN, "--print-config"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(
        re.match(r"(\w+)\s+= (.*)", line).groups() for line in done.stdout.splitlines() if re.match(r"\w+\s+= ", line)
    )


def test_gunicorn_checks_the_config_and_loads_the_app(tmp_path):
    done = subprocess.run(
        [*GUNICORN, "--check-config"], cwd=ROOT, env=environment(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "g.sqlite").exists()  # create_app ran: the schema was made


def test_gunicorn_without_a_secret_key_refuses_in_one_line(tmp_path):
    env = environment(tmp_path)
    del env["SECRET_KEY"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [*GUNICORN, "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 4  # gunicorn's "App failed to load": it stops instead of restarting workers
    assert "error: SECRET_KEY is not set" in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]


def test_defaults(tmp_path):
    config = printed_config(environment(tmp_path))
    assert config["wsgi_app"] == "web.wsgi:app"
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["worker_class"] == "web.serving.BalancedThreadWorker"  # gthread, sharing connections evenly
    assert (config["workers"], config["threads"]) == ("2", "4")
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == ("30", "30", "5")
    assert (config["preload_app"], config["accesslog"], config["loglevel"]) == ("False", "None", "info")


def test_settings_from_the_environment(tmp_path):
    config = printed_config(
        environment(
            tmp_path,
            GUNICORN_BIND="127.0.0.1:8123",
            WEB_CONCURRENCY="3",
            GUNICORN_THREADS="8",
            GUNICORN_TIMEOUT="60",
            GUNICORN_GRACEFUL_TIMEOUT="20",
            GUNICORN_KEEPALIVE="2",
            LOG_LEVEL="WARNING",
        )
    )
    assert config["bind"] == "['127.0.0.1:8123']"
    assert (config["workers"], config["threads"]) == ("3", "8")
    assert (config["timeout"], config["graceful_timeout"], config["keepalive"]) == ("60", "20", "2")
    assert config["loglevel"] == "warning"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(tmp_path: Path, log: Path, **extra: str):
    """gunicorn (1 worker, 2 threads) on a free port of 127.0.0.1, once it answers: yields the port."""
    port = free_port()
    env = environment(tmp_path, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", GUNICORN_THREADS="2", **extra)
    with open(log, "wb") as handle:
        server = subprocess.Popen(GUNICORN, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:  # not listening yet (listening, it waits for the worker to boot)
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(30)


def test_under_gunicorn_each_request_is_logged_once_with_its_id(tmp_path):
    log = tmp_path / "gunicorn.log"
    with serving(tmp_path, log) as port:
        response = requests.get(
            f"http://127.0.0.1:{port}/api/v1/health?probe=secret", headers={"X-Request-ID": "lb-42"}, timeout=90
        )
        assert response.status_code == 200, log.read_text()[-3000:]
        assert response.headers["X-Request-ID"] == "lb-42"
    lines = [line for line in log.read_text().splitlines() if "/api/v1/health" in line]
    assert len(lines) == 1, lines
    assert re.search(r" INFO web\.access \[lb-42\] GET /api/v1/health\?probe 200 \d+\.\d ms$", lines[0]), lines


def test_a_body_gunicorn_cannot_read_is_a_400_not_a_500(tmp_path):
    # A chunk size that is no hexadecimal number: gunicorn's reader raises inside request.get_json().
    log = tmp_path / "gunicorn.log"
    with serving(tmp_path, log) as port, socket.create_connection(("127.0.0.1", port), timeout=90) as sock:
        sock.sendall(
            b"POST /api/v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"the request body could not be read" in body
    assert "Traceback" not in log.read_text()


def raw_answer(port: int, request: bytes) -> tuple[bytes, bytes]:
    """The head and body gunicorn answers to the raw bytes of ``request`` (it closes the connection)."""
    with socket.create_connection(("127.0.0.1", port), timeout=90) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def test_requests_gunicorn_refuses_itself_get_the_apps_security_headers(tmp_path):
    """A request line or headers too long, or a request line that is no HTTP, never reach the app: gunicorn
    answers them, and its answers carry the same protections as the app's (no framing, no sniffing, a CSP
    that runs nothing, no caching) and say what was wrong."""
    log = tmp_path / "gunicorn.log"
    refused = {
        b"414 ": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"431 ": b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
        b"400 ": b"\x16\x03\x01 not http\r\n\r\n",
    }
    with serving(tmp_path, log) as port:
        for status, request in refused.items():
            head, body = raw_answer(port, request)
            assert head.startswith(b"HTTP/1.1 " + status), head
            headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
            assert headers[b"X-Frame-Options"] == b"DENY"
            assert headers[b"X-Content-Type-Options"] == b"nosniff"
            assert b"default-src 'none'" in headers[b"Content-Security-Policy"]
            assert headers[b"Cache-Control"] == b"no-store"
            assert headers[b"Content-Type"] == b"text/html; charset=utf-8"
            assert int(headers[b"Content-Length"]) == len(body)
            assert b"<title>" + status.strip() in body, body


def health_seconds(port: int) -> float:
    """How long ``GET /api/v1/health`` takes to answer 200 on a new connection (fails after 20 s)."""
    start = time.monotonic()
    response = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=20)
    assert response.status_code == 200
    return time.monotonic() - start


def closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (a reset too: it had unread bytes), waiting for it if need be."""
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def test_slow_clients_do_not_hold_the_threads(tmp_path):
    """Clients that send a request head a piece at a time, or a small body never, hold no thread: a server of
    2 threads answers at once while 8 of them wait. A head that does not arrive within GUNICORN_HEAD_TIMEOUT
    closes its connection; a large body that stops coming gets a 408 once a read waited GUNICORN_IO_TIMEOUT."""
    log = tmp_path / "gunicorn.log"
    with (
        serving(tmp_path, log, GUNICORN_HEAD_TIMEOUT="3", GUNICORN_IO_TIMEOUT="2") as port,
        contextlib.ExitStack() as sockets,
    ):
        health_seconds(port)  # the worker is up
        slow = []
        for i in range(8):
            sock = sockets.enter_context(socket.create_connection(("127.0.0.1", port), timeout=20))
            if i % 2:  # a head a piece at a time: its first line only
                sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            else:  # a whole head announcing a small body that never comes
                sock.sendall(b"POST /api/v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
                sock.sendall(b"Content-Length: 100\r\n\r\n")
            slow.append(sock)
        time.sleep(0.5)
        assert health_seconds(port) < 1.5, log.read_text()[-2000:]
        assert all(closed_by_server(sock) for sock in slow)  # after their 3 s
        big = sockets.enter_context(socket.create_connection(("127.0.0.1", port), timeout=20))
        big.sendall(b"POST /api/v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
        big.sendall(b'Content-Length: 1000000\r\n\r\n{"name": ')  # more than a look at the buffer holds
        started = time.monotonic()
        answer = http.client.HTTPResponse(big)
        answer.begin()
        assert answer.status == 408 and "did not arrive in time" in answer.read().decode()
        assert 1.5 < time.monotonic() - started < 10
        assert health_seconds(port) < 1.5
        # A client that asked the connection to be closed, but keeps its end open: gunicorn's graceful close
        # waited up to 2 s for it on the worker's main thread, which answered nobody meanwhile.
        for _ in range(3):
            kept = sockets.enter_context(socket.create_connection(("127.0.0.1", port), timeout=20))
            kept.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert kept.recv(65536).startswith(b"HTTP/1.1 200 ")
            assert health_seconds(port) < 1.0
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize(
    ("workers", "env", "warned"),
    [
        (2, {}, True),
        (1, {}, False),
        (2, {"REDIS_URL": "redis://127.0.0.1:6379/0"}, False),
        (2, {"MATCHER_RATELIMIT_ENABLED": "false"}, False),
    ],
)
def test_gunicorn_warns_when_its_workers_count_the_rate_limits_apart(monkeypatch, workers, env, warned):
    """Without Redis each worker keeps its own counts: with 2 workers a client gets each limit twice."""
    import runpy
    from types import SimpleNamespace

    for name in ("REDIS_URL", "MATCHER_RATELIMIT_STORAGE_URI", "MATCHER_RATELIMIT_ENABLED", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "gunicorn-test-secret-key-long-enough")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    said = []
    log = SimpleNamespace(warning=lambda *args: said.append(args))
    server = SimpleNamespace(cfg=SimpleNamespace(workers=workers), log=log)
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["on_starting"](server)
    assert bool(said) == warned
    if warned:
        assert "2 times each limit" in said[0][0] % said[0][1:]
