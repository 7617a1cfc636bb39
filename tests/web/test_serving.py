"""web/serving.py: gunicorn workers that share the connections evenly, under a real gunicorn."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from web.serving import SharedCounts

ROOT = Path(__file__).resolve().parents[2]
#: A WSGI app that answers with the pid of the worker that served the request.
PID_APP = """
import os

def app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""
#: The hook of gunicorn.conf.py that frees a dead worker's count, and nothing else of it.
HOOKS = """
def child_exit(server, worker):
    from web.serving import worker_exited

    worker_exited(worker.pid)
"""


def test_a_worker_listens_while_no_other_holds_fewer_connections():
    counts = SharedCounts(slots=4)
    a, b = counts.claim(1), counts.claim(os.getpid())  # two live processes
    assert (a, b) == (0, 1)
    assert counts.fair(a, 0) and counts.fair(b, 0)  # ties listen together
    assert not counts.fair(b, 1) and counts.fair(a, 0)
    assert counts.fair(a, 1) and counts.fair(b, 1)
    counts.release(1)
    assert counts.claim(102) == 0  # the lowest free slot, its count starting at 0
    assert counts.claim(103) == 2 and counts.claim(104) == 3 and counts.claim(105) is None


def test_a_worker_that_died_without_freeing_its_slot_does_not_keep_the_others_waiting():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    counts = SharedCounts(slots=4)
    gone, mine = counts.claim(child.pid), counts.claim(os.getpid())
    assert counts.fair(gone, 0)
    assert counts.fair(mine, 5)  # the dead worker holds fewer, but is gone: its slot is freed
    assert counts.claim(999_999) == gone


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """gunicorn with 2 BalancedThreadWorker workers of 2 threads, serving PID_APP; yields (port, process)."""
    (tmp_path / "pidapp.py").write_text(PID_APP)
    (tmp_path / "hooks.py").write_text(HOOKS)
    port, log = free_port(), (tmp_path / "gunicorn.log").open("w")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN")}
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT)])
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(tmp_path / "hooks.py"), "-k", "web.serving.BalancedThreadWorker"]
        + ["-w", "2", "--threads", "2", "--keep-alive", "30", "-b", f"127.0.0.1:{port}", "pidapp:app"],
        cwd=tmp_path,
        env=env,
        stderr=log,
    )
    try:
        workers = wait_for_workers(port, 2)
        time.sleep(0.5)  # the workers have closed the connections that found them: their counts are back to 0
        yield port, process, workers
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def served_by(conn: http.client.HTTPConnection, close: bool = False) -> int:
    """The pid of the worker that answers a request on ``conn`` (``close``: and closes the connection at once)."""
    conn.request("GET", "/", headers={"Connection": "close"} if close else {})
    response = conn.getresponse()
    assert response.status == 200
    return int(response.read())


def wait_for_workers(port: int, n: int, timeout: float = 60.0, exclude: set[int] = frozenset()) -> set[int]:
    """The pids of ``n`` workers (other than ``exclude``), once that many answer (a new connection each time)."""
    seen: set[int] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < n:
        assert time.monotonic() < deadline, f"{len(seen)} of {n} workers answered"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            seen.add(served_by(conn, close=True))  # no connection left open to count
            seen -= exclude
        except OSError:
            time.sleep(0.1)
        finally:
            conn.close()
    return seen


def split_of(port: int, n: int) -> Counter:
    """How many of ``n`` new connections each worker served (a request on each, then all closed)."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(n)]
    try:
        return Counter(served_by(conn) for conn in conns)
    finally:
        for conn in conns:
            conn.close()


def test_connections_opened_at_once_are_shared_evenly(server):
    port, _process, workers = server
    for _ in range(3):
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(12)]
        try:
            for conn in conns:
                conn.connect()  # all 12 wait in the listen queue before any request is made
            split = Counter(served_by(conn) for conn in conns)
            assert set(split) == workers and sorted(split.values()) == [6, 6], split
            assert Counter(served_by(conn) for conn in conns) == split  # kept alive: each stays with its worker
        finally:
            for conn in conns:
                conn.close()
        time.sleep(0.3)  # the workers see the connections close


def test_a_killed_worker_is_replaced_and_connections_go_on_being_accepted(server):
    port, _process, _workers = server
    victim = min(split_of(port, 6))
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.5)  # the surviving worker sees its connections close
    replaced = wait_for_workers(port, 2) - {victim}
    assert len(replaced) == 2 and victim not in replaced
    time.sleep(0.5)  # the workers have closed the connections that found them
    started = time.monotonic()
    split = split_of(port, 8)
    assert sorted(split.values()) == [4, 4] and set(split) == replaced
    assert time.monotonic() - started < 5


def test_workers_stopping_on_a_reload_leave_the_new_connections_to_the_new_workers(server):
    """A worker on its way out (SIGHUP) takes no connection, and does not count as holding fewer."""
    port, process, old = server
    held = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(2)]
    conns: list[http.client.HTTPConnection] = []
    try:
        assert sorted(Counter(served_by(conn) for conn in held).values()) == [1, 1]  # an idle connection on each
        process.send_signal(signal.SIGHUP)
        new = wait_for_workers(port, 2, exclude=old)
        for _ in range(8):  # more than either old worker holds, before they are gone
            conns.append(http.client.HTTPConnection("127.0.0.1", port, timeout=1.5))
            assert served_by(conns[-1]) in new
    finally:
        for conn in conns + held:
            conn.close()


def test_a_request_body_must_keep_coming():
    """PacedReads lets a body take BODY_GRACE_SECONDS plus a second per MIN_BODY_RATE bytes, no longer: a client
    sending a byte now and then is cut off (BodyTimeout, a 408) instead of holding a thread for as long as
    it likes; one that sent enough meanwhile may go on."""
    from web.serving import BODY_GRACE_SECONDS, MIN_BODY_RATE, BodyTimeout, PacedReads

    ours, theirs = socket.socketpair()
    with ours, theirs:
        reads = PacedReads(ours)
        theirs.sendall(b"x" * 10)
        assert reads.recv(100) == b"x" * 10
        reads.since = time.monotonic() - BODY_GRACE_SECONDS - 1  # a slow start: 10 bytes in 6 s
        theirs.sendall(b"y")
        with pytest.raises(BodyTimeout, match="did not arrive in time"):
            reads.recv(100)
        reads.begin()  # the next request on the connection starts afresh
        reads.got = 2 * MIN_BODY_RATE  # 20 kB read: two more seconds
        reads.since = time.monotonic() - BODY_GRACE_SECONDS - 1
        assert reads.recv(100) == b"y"
        started = time.monotonic()
        reads.since = time.monotonic() - BODY_GRACE_SECONDS - 1.5  # half a second of budget left
        with pytest.raises(BodyTimeout):
            reads.recv(100)  # nothing comes: the read gives up when the budget does, not after IO_SECONDS
        assert time.monotonic() - started < 2
