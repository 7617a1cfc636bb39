"""What the HTTP benchmarks share: a fresh app under gunicorn, a logged-in client, keep-alive load, memory.

Used by ``bench_api.py``, ``bench_leads.py`` and ``bench_soak.py`` (not a benchmark itself).
Every request goes to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import re
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bootstrap(env: dict) -> None:
    """Create the schema of ``env``'s database and its admin and sample leads (``matcher db`` would)."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from web import create_app; from web.commands import bootstrap\n"
            "app = create_app()\nwith app.app_context(): bootstrap()",
        ],
        env=env,
        check=True,
        cwd=ROOT,
    )


def start_gunicorn(env: dict, port: int, workers: int, threads: int, timeout: float = 120.0):
    """gunicorn (``gunicorn.conf.py``, gthread) serving the app on 127.0.0.1:``port``; returns it and the
    seconds until ``/api/v1/health`` answered 200. Stops it and exits if it does not within ``timeout``."""
    start = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(workers), "--threads", str(threads)]
        + ["-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        env=env,
        cwd=ROOT,
    )
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return server, time.perf_counter() - start
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer within {timeout:g} s")


def login(port: int, password: str) -> str:
    """Log in as admin through the real form (CSRF token included); return the Cookie header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    cookie = "; ".join(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    form = f"csrf_token={token.group(1) if token else ''}&username=admin&password={password}"
    conn.request(
        "POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    )
    resp = conn.getresponse()
    resp.read()
    cookies = [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or []]
    if resp.status != 302 or not cookies:
        raise SystemExit(f"login failed: HTTP {resp.status}")
    return "; ".join(cookies)


def client(
    port: int, method: str, path: str, bodies: list[bytes], headers: dict, until: float, results: mp.Queue
) -> None:
    """One client: keep-alive requests until ``until``; report latencies and errors."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies, errors, i = [], 0, os.getpid()
    while time.perf_counter() < until:
        body = bodies[i % len(bodies)] if bodies else None
        i += 1
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - start)
    results.put((latencies, errors))


def drive(port: int, method: str, path: str, bodies: list[bytes], headers: dict, seconds: float, clients: int) -> dict:
    """``clients`` processes, each a keep-alive :func:`client`, for ``seconds``: requests, req/s, p50, p99 (ms),
    errors."""
    results: mp.Queue = mp.Queue()
    until = time.perf_counter() + seconds
    procs = [
        mp.Process(target=client, args=(port, method, path, bodies, headers, until, results)) for _ in range(clients)
    ]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        lat, err = results.get()
        latencies += lat
        errors += err
    for p in procs:
        p.join()
    latencies.sort()
    n = len(latencies)
    pct = (lambda q: latencies[min(n - 1, int(q * n))] * 1000) if n else (lambda q: float("nan"))
    return {"requests": n, "rps": n / seconds, "p50": pct(0.50), "p99": pct(0.99), "errors": errors}


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a running process has used so far, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive_measured(
    port: int, method: str, path: str, bodies: list[bytes], headers: dict, seconds: float, clients: int, server: list
) -> dict:
    """:func:`drive`, plus the CPU each request cost: ``server_us`` in the ``server`` processes (gunicorn's
    workers), ``client_us`` in the client processes (``drive``'s children, counted once they are joined)."""
    before = sum(cpu_seconds(pid) for pid in server)
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = drive(port, method, path, bodies, headers, seconds, clients)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = max(result["requests"], 1)
    result["server_us"] = (sum(cpu_seconds(pid) for pid in server) - before) / n * 1e6
    result["client_us"] = (after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime) / n * 1e6
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB, from /proc (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return 0.0


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers, RQ's work horses)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return sorted(int(x) for x in handle.read().split())
    except OSError:
        return []
