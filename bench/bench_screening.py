"""Benchmark the screening queries of the lead list on PostgreSQL with many leads.

Usage::

    python bench/bench_screening.py                      # 100,000 leads
    python bench/bench_screening.py --leads 20000 --repeat 5

Builds a schema of its own (dropped at the end) with the app's migrations, fills ``--leads``
synthetic leads (names in Cyrillic, Latin and Vietnamese, 1-3 sectors each) with SQL, then times,
best of ``--repeat``, the first page (20 leads, best score first) of:

* baseline: the list without filters (what every view of ``/leads`` starts with);
* main sector: the filter on the indexed ``leads.sector`` column (what the sector filter did);
* sector: the new filter, the sector among all detected ones (``lead_sectors``);
* facets: the counts per sector beside the filter, no other filter (computed, and from the
  per-process cache), and under a search;
* search: one folded word (``LIKE '%word%'`` on ``search_text``, trigram index) and two words;
* duplicates: the "possible duplicate" marks of one page of 20 leads (the page itself not timed).

Prints each time and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SCHEMA = f"bench_screening_{os.getpid()}"
FILL = """
INSERT INTO leads (id, name, search_text, name_key, source, status, score, band, sector, completeness, consent,
                   extras, created_at, updated_at, row_version, web_domain)
SELECT i, n, lower(n) || ' firm number ' || i, lower(n), 'batch', 'new', (i * 7919 % 1000) / 10.0, 'C',
       (ARRAY['electronics','automation','software','tourism','logistics'])[1 + i % 5], 0.5, false, '{}',
       now(), now(), 1, 'firm' || i || '.example'
FROM (SELECT i, (ARRAY['Роботех ', 'Điện tử Hà Nội ', 'Volga Robotics ', 'Ёлка Софт '])[1 + i % 4] || i AS n
      FROM generate_series(1, :n) AS i) AS s;
INSERT INTO lead_sectors (lead_id, sector, share, main)
SELECT i, (ARRAY['electronics','automation','software','tourism','logistics'])[1 + i % 5], 0.7, true
FROM generate_series(1, :n) AS i;
INSERT INTO lead_sectors (lead_id, sector, share, main)
SELECT i, (ARRAY['data_ai','electronics','cybersecurity','clean_energy','trade'])[1 + i % 5], 0.3, false
FROM generate_series(1, :n) AS i WHERE i % 3 <> 0;
"""


def timed(function, repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def make_app():
    from web import create_app

    sep = "&" if "?" in URL else "?"
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "REDIS_URL": None,
            "SQLALCHEMY_DATABASE_URI": f"{URL}{sep}options=-csearch_path%3D{SCHEMA}",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )


def cases(f_leads, db):
    """(label, callable) for each measured query."""
    from web import dedup, facets
    from web.leads import filtered_query, sector_facets
    from web.models import Lead

    def page(filters):
        return lambda: db.session.execute(filtered_query(filters).limit(20)).scalars().all()

    def main_sector():
        query = (
            db.select(Lead).where(Lead.sector == "electronics").order_by(Lead.score.desc().nulls_last(), Lead.id.desc())
        )
        return db.session.execute(query.limit(20)).scalars().all()

    shown = db.session.execute(filtered_query(f_leads()).limit(20)).scalars().all()
    return [
        ("baseline: first page, no filter", page(f_leads())),
        ("main sector only (as before)", main_sector),
        ("sector among all detected", page({**f_leads(), "sector": "electronics"})),
        ("facets, no filter, cold", lambda: (facets.clear(), sector_facets(f_leads()))),
        ("facets, no filter, cached", lambda: sector_facets(f_leads())),
        ("facets under a search", lambda: sector_facets({**f_leads(), "q": "dien tu"})),
        ("search one word (роботех)", page({**f_leads(), "q": "роботех"})),
        ("search two words (dien tu)", page({**f_leads(), "q": "dien tu"})),
        ("duplicate marks of one page", lambda: dedup.duplicate_ids(shown)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = create_engine(URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        app = make_app()
        from web.extensions import db

        with app.app_context():
            start = time.perf_counter()
            for statement in FILL.strip().split(";\n"):
                db.session.execute(text(statement), {"n": args.leads})
            db.session.commit()
            with db.engine.connect() as conn:  # as autovacuum leaves a table: statistics and visibility map
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
            print(f"{args.leads:,} leads filled in {time.perf_counter() - start:.1f} s")
            from web.leads import filters_from

            rows = [(label, timed(fn, args.repeat)) for label, fn in cases(lambda: filters_from({}), db)]
            base = rows[0][1]
            for label, ms in rows:
                print(f"{label:32s} {ms:9.1f} ms   x{ms / base:6.1f} of baseline")
            db.session.remove()
            db.engine.dispose()
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
