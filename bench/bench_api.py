"""Load test: gunicorn on 127.0.0.1, 16 concurrent clients, 10 s per endpoint.

Usage::

    python bench/bench_api.py [--seconds 10] [--clients 16] [--workers 2] [--threads 4]

Starts the app under gunicorn (gthread workers) on a fresh SQLite database in a temporary
folder (or ``DATABASE_URL`` if set), loads the sample leads, logs a client in, then drives,
one after the other:

* ``GET /api/v1/health``   the trivial endpoint, served the same way (the baseline);
* ``POST /api/v1/score``   one profile per request, cycling through matcher/data/sample_profiles.csv;
* ``GET /leads``           the staff lead list page (logged in).

It prints requests/s, p50 and p99 latency and errors for each, the CPU time one request cost
in gunicorn's workers and in the client processes (both share the machine's cores, so the
throughput of an endpoint is about cores / (server + client CPU per request)), and the
throughput of each endpoint as a share of the trivial one's. Every request goes to 127.0.0.1 only and the run
stops by itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serverlib import ROOT, bootstrap, children, drive, drive_measured, free_port, login, start_gunicorn  # noqa: E402


def sample_bodies() -> list[bytes]:
    with open(ROOT / "matcher" / "data" / "sample_profiles.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [json.dumps({k: v for k, v in row.items() if v}).encode() for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    # One worker process per core; 4 threads each keep 16 clients busy. With 8 threads per worker
    # the scoring endpoint measured 0.43-0.58x of the trivial one from run to run, with 4 0.53-0.54x.
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    port, password = free_port(), "bench-password-1"
    with tempfile.TemporaryDirectory() as tmp:
        # Rate limits off: this measures capacity, not the per-client limits (see README, Security).
        # No request log either (LOG_LEVEL=WARNING): a line per request would flood this console.
        env = dict(
            os.environ,
            SECRET_KEY="bench-benchmark-secret-key",
            MATCHER_ADMIN_PASSWORD=password,
            MATCHER_RATELIMIT_ENABLED="false",
            LOG_LEVEL="WARNING",
            DATABASE_URL=os.environ.get("DATABASE_URL", f"sqlite:///{tmp}/bench.db"),
        )
        bootstrap(env)
        server, _boot = start_gunicorn(env, port, args.workers, args.threads, timeout=60)
        try:
            cookie = login(port, password)
            json_headers = {"Content-Type": "application/json"}
            runs = [
                ("GET /api/v1/health", "GET", "/api/v1/health", [], {}),
                ("POST /api/v1/score", "POST", "/api/v1/score", sample_bodies(), json_headers),
                ("GET /leads", "GET", "/leads", [], {"Cookie": cookie}),
            ]
            for _label, method, path, bodies, headers in runs:  # warm every worker up
                drive(port, method, path, bodies, headers, 1.0, args.clients)
            print(
                f"gunicorn {args.workers} workers x {args.threads} threads, {args.clients} clients, "
                f"{args.seconds:g} s each, database {env['DATABASE_URL'].split(':')[0]}"
            )
            print(
                f"{'endpoint':<22} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
                f"{'server us':>10} {'client us':>10} {'vs trivial':>10}"
            )
            base = None
            workers = children(server.pid)
            for label, method, path, bodies, headers in runs:
                r = drive_measured(port, method, path, bodies, headers, args.seconds, args.clients, workers)
                base = base or r["rps"]
                print(
                    f"{label:<22} {r['requests']:>9,} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                    f"{r['errors']:>7} {r['server_us']:>10.0f} {r['client_us']:>10.0f} {r['rps'] / base:>9.2f}x",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
