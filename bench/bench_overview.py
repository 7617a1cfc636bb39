"""Benchmark the staff overview page (``/overview``) at 100,000 leads against reading the leads table.

Usage::

    python bench/bench_overview.py                                  # PostgreSQL at 127.0.0.1:5432/test
    python bench/bench_overview.py --leads 20000 --database sqlite:////tmp/overview.sqlite

Fills a fresh database (a schema of its own on PostgreSQL, dropped afterwards) with ``--leads``
leads of random status, source, sector, score and creation date (one bulk insert: no scoring),
then, in the same process, times the best of ``--repeat`` runs of:

* baseline ``count``: ``SELECT count(*) FROM leads``, the least any figure over all leads costs;
* baseline ``rows``: ``SELECT status, source, sector, score, created_at FROM leads`` fetched into
  Python, what the page would cost if it counted in Python instead of in the database;
* each aggregate query of :mod:`web.overview`, and the whole page (``GET /overview``, logged in),
  once with a lead changed before every view (all figures read again) and once unchanged (the
  figures kept from the view before, after one query that sees no change).

Prints the times and the ratios of the page to the baselines.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from web import create_app, overview  # noqa: E402
from web.extensions import db  # noqa: E402
from web.models import SOURCES, STATUSES, Lead, utcnow  # noqa: E402
from web.services import create_user  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECTORS = (
    "electronics",
    "automation",
    "software",
    "biotech",
    "clean_energy",
    "logistics",
    "trade",
    "tourism",
    "energy",
    "nuclear",
    "construction",
    "agrifood",
    "other",
)


def pg_schema_url(url: str, schema: str) -> str:
    """Create ``schema`` afresh and return ``url`` with its search_path."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def fill(n: int, seed: int = 0) -> None:
    """Insert ``n`` leads with random pipeline data in chunks of 10,000 rows."""
    rng = random.Random(seed)
    now = utcnow()
    for first in range(0, n, 10_000):
        rows = []
        for i in range(first, min(n, first + 10_000)):
            score = round(rng.uniform(0, 100), 1) if rng.random() > 0.01 else None
            rows.append(
                {
                    "name": f"Firm {i}",
                    "source": rng.choice(SOURCES),
                    "status": rng.choice(STATUSES),
                    "sector": rng.choice(SECTORS),
                    "score": score,
                    "band": None if score is None else "B",
                    "completeness": rng.random(),
                    "created_at": now - timedelta(minutes=rng.randrange(0, 60 * 24 * 200)),
                    "updated_at": now,
                    "extras": {},
                    "consent": True,
                    "row_version": 1,
                }
            )
        db.session.execute(insert(Lead), rows)
        db.session.commit()


def best(fn, repeat: int) -> float:
    """The best wall time of ``repeat`` calls of ``fn``, in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database", default=PG_URL, help="SQLAlchemy URL (default: PostgreSQL, own schema)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    schema = f"bench_overview_{os.getpid()}"
    url = pg_schema_url(args.database, schema) if args.database.startswith("postgresql") else args.database
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-overview-key",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    try:
        with app.app_context():
            create_user("bench@example.org", "bench", "bench-pass-123", "analyst")
            start = time.perf_counter()
            fill(args.leads)
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("ANALYZE leads"))
            print(f"{args.leads:,} leads inserted in {time.perf_counter() - start:.1f} s ({db.engine.dialect.name})")
            count = best(lambda: db.session.execute(text("SELECT count(*) FROM leads")).scalar(), args.repeat)
            rows = best(
                lambda: db.session.execute(text("SELECT status, source, sector, score, created_at FROM leads")).all(),
                args.repeat,
            )
            starts = overview.week_starts(utcnow().date())
            parts = {
                "pipeline_counts": overview.pipeline_counts,
                "sector_mix": overview.sector_mix,
                "scores_and_intake": lambda: overview.scores_and_intake(starts),
            }
            timed = {name: best(fn, args.repeat) for name, fn in parts.items()}
        client = app.test_client()
        client.post("/login", data={"username": "bench", "password": "bench-pass-123"})
        assert client.get("/overview").status_code == 200
        page = best(lambda: client.get("/overview"), args.repeat)  # unchanged leads: the kept figures

        def changed_page():
            with app.app_context():
                db.session.execute(
                    text("UPDATE leads SET status = 'contacted', updated_at = :now WHERE id = 1"), {"now": utcnow()}
                )
                db.session.commit()
            client.get("/overview")

        fresh = best(changed_page, args.repeat)  # a lead changed before every view: all figures read again
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if args.database.startswith("postgresql"):
            engine = create_engine(args.database)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
    print(f"baseline count(*):            {count:8.1f} ms")
    print(f"baseline fetch 5 columns:     {rows:8.1f} ms")
    for name, ms in timed.items():
        print(f"{name + ':':30}{ms:8.1f} ms")
    print(f"GET /overview, leads changed: {fresh:8.1f} ms")
    print(f"GET /overview, unchanged:     {page:8.1f} ms")
    print(f"ratio changed page / count(*):       {fresh / count:8.1f}")
    print(f"ratio changed page / fetching rows:  {fresh / rows:8.2f}")
    print(f"ratio unchanged page / count(*):     {page / count:8.1f}")


if __name__ == "__main__":
    main()
