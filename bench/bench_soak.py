"""Load soak: gunicorn on 127.0.0.1, 16 clients for 60 s mixing public and staff work and batch jobs.

Usage::

    python bench/bench_soak.py [--seconds 60] [--clients 16] [--workers 2] [--threads 4] [--batch-rows 2000]

Starts the app under gunicorn (gthread workers) on a fresh SQLite database in a temporary
folder (or ``DATABASE_URL`` if set; batch jobs run in the app processes unless ``REDIS_URL`` is
set too, with a ``matcher worker`` running), loads the sample leads, then runs ``--clients``
client processes for ``--seconds``. Each client loops over:

* a self-assessment as a firm does it: ``GET /assess`` (the form and its CSRF token),
  ``POST /assess`` (the result), ``POST /assess/submit`` (stored as a lead). CSRF protection
  stays on: every POST carries the token of its session, as a browser's would;
* two views of the staff lead list, ``GET /leads``, logged in.

Client 0 also uploads a CSV of ``--batch-rows`` rows (``POST /batch``) at the start and then
every 10 s, and polls ``status.json`` until the job is done. Rate limits are turned off
(``MATCHER_RATELIMIT_ENABLED=false``): this measures the app, not the limiter.

Prints, per kind of request, the count, requests/s, p50 and p99 latency and errors, then the
resident memory (RSS) of the gunicorn master and workers after warm-up (which includes one
batch job) and at the end, and the workers' RSS sampled during the run. A
response that is not 2xx/3xx, a failed request or a failed batch job is an error; the exit
status is 1 if there was any. Every request goes to 127.0.0.1 and the run stops by itself.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing as mp
import os
import queue
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serverlib import ROOT, bootstrap, children, free_port, rss_mb, start_gunicorn  # noqa: E402

PASSWORD = "soak-password-1"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PROFILE = {
    "description": "Industrial robots and automation lines for electronics plants",
    "okved": "28.99",
    "training": "committed",
    "local_partner": "planned",
    "investment_usd": "2m",
    "city": "Kazan",
}


def batch_csv(n_rows: int) -> bytes:
    """``n_rows`` rows cycling through the sample profiles, each with its own id."""
    with open(ROOT / "matcher" / "data" / "sample_profiles.csv", encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    for i in range(n_rows):
        writer.writerow({**rows[i % len(rows)], "id": f"S{i}"})
    return out.getvalue().encode()


class Client:
    """One simulated user: a requests session that records each request's latency and outcome by kind."""

    def __init__(self, base: str) -> None:
        self.base, self.session = base, requests.Session()
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.samples: list[str] = []

    def call(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        start = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=60, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            return self._error(kind, f"{kind}: {type(exc).__name__}: {exc}")
        self.latencies.setdefault(kind, []).append(time.perf_counter() - start)
        if not 200 <= response.status_code < 400:
            return self._error(kind, f"{kind}: HTTP {response.status_code} {response.text[:200]!r}")
        return response

    def _error(self, kind: str, sample: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.samples) < 5:
            self.samples.append(sample)
        return None

    def token(self, kind: str, path: str) -> str | None:
        response = self.call(kind, "GET", path)
        match = TOKEN.search(response.text) if response is not None else None
        return match.group(1) if match else None

    def login(self) -> None:
        token = self.token("GET /login", "/login")
        self.call(
            "POST /login", "POST", "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORD}
        )

    def assess(self, n: int) -> None:
        token = self.token("GET /assess", "/assess")
        profile = {**PROFILE, "name": f"Soak firm {os.getpid()}-{n}", "csrf_token": token}
        if self.call("POST /assess", "POST", "/assess", data=profile) is not None:
            self.call(
                "POST /assess/submit",
                "POST",
                "/assess/submit",
                data={**profile, "consent": "y", "contact_email": "soak@example.org"},
            )

    def batch(self, data: bytes) -> None:
        """Upload a CSV and poll the job to its end; the whole job's time is kind ``batch job``."""
        start = time.perf_counter()
        token = self.token("GET /batch", "/batch")
        response = self.call(
            "POST /batch",
            "POST",
            "/batch",
            data={"csrf_token": token, "lang": "en"},
            files={"file": ("soak.csv", data, "text/csv")},
        )
        if response is None:
            return
        job = response.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1]
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = self.call("GET status.json", "GET", f"/batch/{job}/status.json")
            state = status.json().get("state") if status is not None else None
            if state == "done":
                self.latencies.setdefault("batch job", []).append(time.perf_counter() - start)
                return
            if state == "failed":
                self._error("batch job", f"batch job {job} failed: {status.json().get('message')}")
                return
            time.sleep(0.25)
        self._error("batch job", f"batch job {job} did not finish")


def client(index: int, base: str, until: float, batch_rows: int, results: mp.Queue) -> None:
    """One client process: log in, then loop over the mix until ``until``."""
    me, n, next_batch = Client(base), 0, 0.0
    data = batch_csv(batch_rows) if index == 0 else b""
    me.login()
    while time.time() < until:
        if index == 0 and time.time() >= next_batch:
            me.batch(data)
            next_batch = time.time() + 10
        me.assess(n)
        me.call("GET /leads", "GET", "/leads")
        me.call("GET /leads", "GET", "/leads?page=2")
        n += 1
    results.put((me.latencies, me.errors, me.samples))


def memory(master: int) -> dict[str, float]:
    """Resident memory of the gunicorn master and of each worker, in MiB."""
    return {"master": rss_mb(master), **{f"worker {pid}": rss_mb(pid) for pid in children(master)}}


def workers_rss(master: int) -> float:
    """The workers' resident memory together, in MiB."""
    return sum(rss_mb(pid) for pid in children(master))


def start_server(tmp: str, args) -> tuple[subprocess.Popen, str]:
    """Bootstrap a fresh database, start gunicorn and wait until it answers; returns (process, base URL)."""
    port = free_port()
    # LOG_LEVEL=WARNING: no line per request on this console (the app's request log; gunicorn's is off)
    env = dict(
        os.environ,
        SECRET_KEY="soak-benchmark-secret-key",
        MATCHER_ADMIN_PASSWORD=PASSWORD,
        MATCHER_RATELIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        MATCHER_BATCH_DIR=os.path.join(tmp, "batch"),
        DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp}/soak.db"),
    )
    bootstrap(env)
    server, _boot = start_gunicorn(env, port, args.workers, args.threads, timeout=60)
    return server, f"http://127.0.0.1:{port}"


def report(latencies: dict[str, list[float]], errors: dict[str, int], seconds: float) -> None:
    print(f"{'kind':<22} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p99 ms':>9} {'errors':>7}")
    for kind in sorted(set(latencies) | set(errors)):
        values = sorted(latencies.get(kind, []))
        n = len(values)
        p50 = values[min(n - 1, int(0.50 * n))] * 1000 if n else float("nan")
        p99 = values[min(n - 1, int(0.99 * n))] * 1000 if n else float("nan")
        print(f"{kind:<22} {n:>7,} {n / seconds:>7.1f} {p50:>8.1f} {p99:>9.1f} {errors.get(kind, 0):>7}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)  # as bench_api.py: one worker per core, 4 threads
    parser.add_argument("--batch-rows", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server, base = start_server(tmp, args)
        try:
            warm = Client(base)  # every worker loads its scorer before memory is read
            warm.login()
            for i in range(2 * args.workers):
                warm.assess(i)
                warm.call("GET /leads", "GET", "/leads")
            warm.batch(batch_csv(args.batch_rows))
            if warm.errors:
                raise SystemExit(f"warm-up failed: {warm.samples}")
            before = memory(server.pid)
            results: mp.Queue = mp.Queue()
            until = time.time() + args.seconds
            procs = [
                mp.Process(target=client, args=(i, base, until, args.batch_rows, results)) for i in range(args.clients)
            ]
            for proc in procs:
                proc.start()
            latencies: dict[str, list[float]] = {}
            errors: dict[str, int] = {}
            samples: list[str] = []
            timeline = [(0.0, workers_rss(server.pid))]
            started, got, deadline = time.time(), [], until + 600
            while len(got) < len(procs) and time.time() < deadline:
                try:
                    got.append(results.get(timeout=max(1.0, args.seconds / 6)))
                except queue.Empty:
                    timeline.append((time.time() - started, workers_rss(server.pid)))
            for lat, err, smp in got:
                for kind, values in lat.items():
                    latencies.setdefault(kind, []).extend(values)
                for kind, count in err.items():
                    errors[kind] = errors.get(kind, 0) + count
                samples += smp
            if len(got) < len(procs):
                errors["client did not finish"] = len(procs) - len(got)
            for proc in procs:
                proc.join(10)
                if proc.is_alive():
                    proc.terminate()
                    proc.join()
            after = memory(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, {args.seconds:g} s, "
        f"database {os.environ.get('DATABASE_URL', 'sqlite').split(':')[0]}, CSRF on, rate limits off"
    )
    report(latencies, errors, args.seconds)
    total = sum(len(v) for k, v in latencies.items() if k != "batch job")
    print(f"all requests: {total:,} ({total / args.seconds:.1f}/s), errors: {sum(errors.values())}")
    print("RSS MiB          start      end   growth")
    for name in before:
        end = after.get(name)
        if end is None:
            print(f"{name:<14} {before[name]:>7.1f}   (gone)")
        else:
            print(f"{name:<14} {before[name]:>7.1f} {end:>8.1f} {end - before[name]:>+8.1f}")
    print("workers' RSS during the run: " + ", ".join(f"{t:.0f} s {mib:.0f} MiB" for t, mib in timeline))
    for sample in samples:
        print("error:", sample)
    return 1 if sum(errors.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
