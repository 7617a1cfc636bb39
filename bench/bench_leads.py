"""Lead-list benchmark: PostgreSQL with 100,000 leads, gunicorn 2 x 4, 16 clients, leads added meanwhile.

Usage::

    python bench/bench_leads.py [--leads 100000] [--seconds 10] [--clients 16] [--workers 2] [--threads 4]
                                [--no-redis]

Builds a schema of its own in ``BENCH_DATABASE_URL`` (default the test database at
127.0.0.1:5432/test; dropped at the end), bulk-loads ``--leads`` scored leads with their
assessments and detected sectors by COPY (profiles drawn from varied answers and scored by :mod:`matcher`), then
starts the app under gunicorn (gthread) and, with Redis (``BENCH_REDIS_URL``, default
127.0.0.1:6379; a queue of its own), one ``matcher worker`` for the background work.

It prints:

* the time the background computation of every lead's rank and robustness took (started by
  the first list view, which does not wait for it); the loaded tables and the stored ranks are
  then vacuumed and analysed, as autovacuum would do on its own after such bulk writes;
* requests/s, p50 and p99 of ``GET /api/v1/health`` (the baseline), ``GET /leads`` and
  ``GET /api/v1/leads`` with ``--clients`` concurrent clients, while a firm submits the
  public form once a second (a new lead each time, ranked on its own in the background),
  with each endpoint's throughput as a share of the baseline's;
* the largest resident memory of a gunicorn worker (and of the queue worker) during the runs;
* the first list view after a restart: gunicorn stopped and started again, the time from
  its first answer to ``/api/v1/health`` to the first ``/leads`` page, and from the start.

Every request goes to 127.0.0.1; the run stops by itself. Targets (issue 13): p99 under
150 ms at 16 clients, worker RSS under 500 MB, first view after a restart under 1 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from serverlib import children, drive, free_port, login, rss_mb, start_gunicorn  # noqa: E402

PASSWORD = "bench-password-1"
OKVED = [
    "26.11",
    "26.30",
    "28.99",
    "62.01",
    "62.02",
    "63.11",
    "72.11",
    "35.11",
    "38.21",
    "52.10",
    "79.11",
    "47.11",
    "41.20",
    "10.51",
    "86.10",
    "29.10",
    "30.30",
    "85.42",
    "64.19",
    "24.46",
    "27.11",
    "20.14",
]
WORDS = [
    "robots",
    "microelectronics",
    "software",
    "solar panels",
    "logistics hub",
    "tours",
    "waste recycling",
    "biotech lab",
    "data centre",
    "machine tools",
    "retail chain",
    "dairy",
    "clinic",
    "training centre",
]
ANSWERS = ["committed", "planned", "none", ""]


def profile(rng: random.Random, i: int) -> dict[str, str]:
    """A varied firm profile (so the leads have many distinct sub-score rows, as real ones do)."""
    return {
        "name": f"Firm {i:06d} {rng.choice(WORDS).title()}",
        "okved": rng.choice(OKVED),
        "description": f"We make {rng.choice(WORDS)} and {rng.choice(WORDS)} for Vietnam",
        "investment_usd": str(rng.choice([0, 50_000, 250_000, 1_000_000, 5_000_000, 20_000_000])),
        "employees": str(rng.choice([5, 40, 120, 600, 3000])),
        "tech_transfer": rng.choice(ANSWERS),
        "training": rng.choice(ANSWERS),
        "local_partner": rng.choice(ANSWERS),
        "green": rng.choice(ANSWERS),
        "esg_report": rng.choice(["yes", "no", ""]),
        "vietnam_presence": rng.choice(["none", "office", "project", ""]),
        "city": rng.choice(["Moscow", "Kazan", "Novosibirsk", "Tomsk", "Yekaterinburg"]),
    }


def setup(env: dict, n_leads: int) -> str:
    """Schema, admin, sample leads and ``n_leads`` bulk-loaded leads; returns an API token (in a subprocess)."""
    code = f"""
import json, random, sys, time
sys.path.insert(0, {str(ROOT / "bench")!r})
from bench_leads import load_leads
from web import create_app
from web.commands import bootstrap
from web.extensions import db
from web.models import User
from web.services import issue_token
app = create_app()
with app.app_context():
    bootstrap()
    start = time.perf_counter()
    load_leads({n_leads})
    print(f"loaded {n_leads:,} leads in {{time.perf_counter() - start:.1f}} s", file=sys.stderr)
    token = issue_token(db.session.execute(db.select(User).filter_by(username="admin")).scalar_one())
    db.session.commit()
    print(token)
"""
    # the COPY of many rows is one statement: more time than the app's 15 s statement timeout
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "MATCHER_DB_STATEMENT_TIMEOUT": "900"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"setup failed:\n{out.stderr[-3000:]}")
    sys.stderr.write("\n".join(line for line in out.stderr.splitlines() if line.startswith("loaded")) + "\n")
    return out.stdout.strip().splitlines()[-1]


def load_leads(n_leads: int, distinct: int = 3000, seed: int = 0) -> None:
    """COPY ``n_leads`` scored leads and their assessments into the app's database (in an app context)."""
    import matcher
    from web.dedup import name_key
    from web.extensions import db
    from web.models import PROFILE_COLUMNS, SEARCHED, utcnow
    from web.scoring import get_scorer
    from web.search import fold_fields
    from web.services import detected_sectors
    from web.versions import snapshot

    rng = random.Random(seed)
    pool = [profile(rng, i) for i in range(distinct)]
    results = matcher.assess_many(pool, get_scorer(), "en")
    version = snapshot()
    raw = db.session.connection().connection.driver_connection  # psycopg 3: COPY
    with raw.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM leads")
        first = cur.fetchone()[0] + 1
        cur.execute("SELECT coalesce(max(id), 0) FROM assessments")
        first_assessment = cur.fetchone()[0] + 1
        now = utcnow()
        # what the app writes on every insert (search text, duplicate keys), as a lead created by the app has
        lead_columns = [
            "id",
            *PROFILE_COLUMNS,
            "extras",
            "consent",
            "source",
            "status",
            "score",
            "band",
            "sector",
            "completeness",
            "sort_score",
            "search_text",
            "name_key",
            "created_at",
            "updated_at",
            "row_version",
        ]
        statuses = ["new"] * 6 + ["contacted", "meeting", "proposal", "invested", "dropped"]
        with cur.copy(f"COPY leads ({', '.join(lead_columns)}) FROM STDIN") as copy:
            for i in range(n_leads):
                p, r = pool[i % distinct], results[i % distinct]
                values = {**p, "name": f"Firm {first + i:06d}"}
                copy.write_row(
                    [
                        first + i,
                        *[values.get(c) for c in PROFILE_COLUMNS],
                        "{}",
                        False,
                        "batch",
                        rng.choice(statuses),
                        r.score,
                        r.band,
                        r.sector,
                        r.completeness,
                        r.score,
                        fold_fields(values.get(f) for f in SEARCHED),
                        name_key(values["name"]),
                        now,
                        now,
                        1,
                    ]
                )
        sectors = [detected_sectors(r.sectors) for r in results]  # every detected sector: the list's facets count them
        with cur.copy("COPY lead_sectors (lead_id, sector, share, main) FROM STDIN") as copy:
            for i in range(n_leads):
                for sector, (share, main) in sectors[i % distinct].items():
                    copy.write_row([first + i, sector, share, main])
        a_columns = [
            "id",
            "lead_id",
            "score",
            "band",
            "sector",
            "contributions",
            "matched_sectors",
            "completeness",
            "missing",
            "improvements",
            "explanation",
            "lang",
            "texts",
            "weights_version",
            "weights_version_id",
            "unverified_factor",
            "created_at",
        ]
        payload = [r.to_dict() for r in results]
        with cur.copy(f"COPY assessments ({', '.join(a_columns)}) FROM STDIN") as copy:
            for i in range(n_leads):
                r, d = results[i % distinct], payload[i % distinct]
                copy.write_row(
                    [
                        first_assessment + i,
                        first + i,
                        r.score,
                        r.band,
                        r.sector,
                        json.dumps(d["contributions"]),
                        json.dumps(d["sectors"]),
                        r.completeness,
                        json.dumps(list(r.missing)),
                        json.dumps(d["improvements"]),
                        r.explanation,
                        "en",
                        "{}",
                        version.label,
                        version.id,
                        1.0,
                        now,
                    ]
                )
        for table in ("leads", "assessments"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    db.session.commit()
    vacuum(raw, "leads", "assessments", "lead_sectors")


def vacuum(conn, *tables: str) -> None:
    """VACUUM ANALYZE ``tables`` (outside a transaction), as autovacuum would after a bulk load: the
    runs then measure a settled database, not autovacuum working through 200,000 new rows."""
    autocommit = conn.autocommit
    conn.autocommit = True
    try:
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.autocommit = autocommit


class Sampler(threading.Thread):
    """Largest RSS of the gunicorn workers and of the queue worker (with its work horses), every 0.25 s."""

    def __init__(self, master: int, worker: int | None):
        super().__init__(daemon=True)
        self.master, self.worker, self.stop, self.web, self.queue = master, worker, threading.Event(), 0.0, 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            self.web = max([self.web, *(rss_mb(p) for p in children(self.master))])
            if self.worker:
                self.queue = max([self.queue, rss_mb(self.worker), *(rss_mb(p) for p in children(self.worker))])
            time.sleep(0.25)


class Submitter(threading.Thread):
    """A firm submitting the public form once a second: a new lead each time."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.stop, self.sent, self.failed, self.rng = port, threading.Event(), 0, 0, random.Random(1)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                self.submit()
                self.sent += 1
            except (OSError, http.client.HTTPException, RuntimeError):
                self.failed += 1

    def submit(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/assess")
        resp = conn.getresponse()
        page = resp.read().decode()
        cookie = "; ".join(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie") or [])
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        p = profile(self.rng, 900_000 + self.sent)
        form = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in p.items() if v)
        form += f"&csrf_token={token}&consent=y&contact_email=firm{self.sent}@example.org"
        conn.request(
            "POST",
            "/assess/submit",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"submit: HTTP {resp.status}")


def timed_get(port: int, path: str, headers: dict) -> float:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.status != 200:
        raise SystemExit(f"GET {path}: HTTP {resp.status}")
    return time.perf_counter() - start


def ranks_state(env: dict) -> tuple[str | None, int, int]:
    """(as_of, leads ranked at the last full run, ranked alone since) of the stored ranks."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT as_of, n_leads, n_added FROM rank_state WHERE id = 1").fetchone()
    if row is None:  # made by the first computation
        return None, 0, 0
    return (str(row[0]) if row[0] else None, row[1], row[2])


def wait_unranked(env: dict, timeout: float) -> float | None:
    """Seconds until every lead has a stored rank (None: not within ``timeout``)."""
    import psycopg

    url = env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    start = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.perf_counter() - start < timeout:
            if not conn.execute(
                "SELECT 1 FROM leads LEFT JOIN lead_ranks ON lead_ranks.lead_id = leads.id "
                "WHERE lead_ranks.lead_id IS NULL LIMIT 1"
            ).fetchone():
                return time.perf_counter() - start
            time.sleep(0.5)
    return None


def wait_for_ranks(env: dict, n_leads: int, timeout: float) -> float | None:
    """Seconds until the stored ranks cover at least ``n_leads`` leads by a full run (None: not within timeout)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        as_of, full, _added = ranks_state(env)
        if as_of and full >= n_leads:
            return time.perf_counter() - start
        time.sleep(0.5)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-redis", action="store_true", help="background work on app threads, not a queue worker")
    parser.add_argument("--rank-timeout", type=float, default=900.0)
    args = parser.parse_args()
    import psycopg

    base_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_leads_{os.getpid()}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base_url else "?"
    env = dict(
        os.environ,
        SECRET_KEY="bench-benchmark-secret-key",
        MATCHER_RATELIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        MATCHER_ADMIN_PASSWORD=PASSWORD,
        DATABASE_URL=f"{base_url}{sep}options=-csearch_path%3D{schema}",
        MATCHER_BATCH_QUEUE=schema,
    )
    env.pop("REDIS_URL", None)
    if not args.no_redis:
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    load = os.getloadavg()
    procs: list[subprocess.Popen] = []
    try:
        token = setup(env, args.leads)
        queue_worker = None
        if not args.no_redis:
            queue_worker = subprocess.Popen(
                [sys.executable, "-c", "import sys; from matcher.cli import main; sys.exit(main(['worker']))"],
                env=env,
                cwd=ROOT,
                stderr=subprocess.DEVNULL,
            )
            procs.append(queue_worker)
        port = free_port()
        server, boot = start_gunicorn(env, port, args.workers, args.threads)
        procs.append(server)
        cookie = login(port, PASSWORD)
        first = timed_get(port, "/leads", {"Cookie": cookie})
        print(
            f"{args.leads:,} leads (+ samples) on PostgreSQL; gunicorn {args.workers} workers x {args.threads} "
            f"threads, {args.clients} clients, {args.seconds:g} s per endpoint; background work on "
            f"{'RQ (matcher worker)' if queue_worker else 'app threads'}; load average at start "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs",
            flush=True,
        )
        print(f"first /leads after the first start (ranks not computed yet): {first * 1000:.0f} ms", flush=True)
        took = wait_for_ranks(env, args.leads, args.rank_timeout)
        print(
            f"background ranks of every lead (started by that view): "
            f"{f'not done within {args.rank_timeout:g} s' if took is None else f'{took:.1f} s'}",
            flush=True,
        )
        with psycopg.connect(env["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")) as conn:
            vacuum(conn, "lead_ranks", "rank_state")
        sampler = Sampler(server.pid, queue_worker.pid if queue_worker else None)
        sampler.start()
        api = {"Authorization": f"Bearer {token}"}
        runs = [
            ("GET /api/v1/health", "/api/v1/health", {}),
            ("GET /leads", "/leads", {"Cookie": cookie}),
            ("GET /api/v1/leads", "/api/v1/leads", api),
        ]
        for _label, path, headers in runs:  # warm every worker and thread up
            drive(port, "GET", path, [], headers, 1.0, args.clients)
        submitter = Submitter(port)
        submitter.start()
        print(
            f"{'endpoint':<20} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs health':>10}"
        )
        base, results = None, {}
        for label, path, headers in runs:
            r = drive(port, "GET", path, [], headers, args.seconds, args.clients)
            results[label] = r
            base = base or r["rps"]
            print(
                f"{label:<20} {r['requests']:>9,} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
                f"{r['errors']:>7} {r['rps'] / base:>9.2f}x",
                flush=True,
            )
        submitter.stop.set()
        submitter.join(15)
        lag = wait_unranked(env, 120.0)  # the last new leads get ranked
        sampler.stop.set()
        sampler.join(5)
        _as_of, full, added = ranks_state(env)
        print(
            f"leads added during the runs: {submitter.sent} (failed {submitter.failed}); ranked on their own "
            f"since the full run: {added}; the last of them ranked "
            f"{f'{lag:.1f} s' if lag is not None else 'not within 120 s'} after the submissions stopped"
        )
        print(
            f"largest RSS: gunicorn worker {sampler.web:.0f} MB; queue worker and work horses {sampler.queue:.0f} MB"
            if queue_worker
            else f"largest RSS: gunicorn worker {sampler.web:.0f} MB"
        )
        server.terminate()
        server.wait(30)
        procs.remove(server)
        server, boot = start_gunicorn(env, port, args.workers, args.threads)
        procs.append(server)
        start = time.perf_counter()
        first = timed_get(port, "/leads", {"Cookie": cookie})
        print(
            f"first /leads after a restart: {first * 1000:.0f} ms after the first health answer "
            f"({(boot + time.perf_counter() - start):.1f} s after the start)"
        )
        load = os.getloadavg()
        print(f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        worst = max(results["GET /leads"]["p99"], results["GET /api/v1/leads"]["p99"])
        print(
            f"targets: p99 < 150 ms: {'met' if worst < 150 else 'NOT met'} ({worst:.0f} ms); worker RSS < 500 MB: "
            f"{'met' if sampler.web < 500 else 'NOT met'}; first view after restart < 1 s: "
            f"{'met' if first < 1 else 'NOT met'}"
        )
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if "REDIS_URL" in env:  # the queue of this run, and what it left on it
            from redis import Redis

            redis = Redis.from_url(env["REDIS_URL"])
            redis.delete(f"rq:queue:{schema}", f"matcher:ranks:last:{schema}")
            redis.srem("rq:queues", f"rq:queue:{schema}")


if __name__ == "__main__":
    main()
