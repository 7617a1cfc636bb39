"""Benchmark storing a scored batch job's rows as leads, on SQLite and on PostgreSQL.

Usage::

    python bench/bench_import.py                     # 20,000 rows (the browser test's import), both databases
    python bench/bench_import.py --rows 5000 --db postgresql

For each database (a fresh SQLite file; a schema of its own in ``BENCH_DATABASE_URL``, default the
test database at 127.0.0.1:5432/test, dropped at the end) it builds the app in this process,
uploads one synthetic CSV of varied firms (``bench_score.make_csv``) through the batch page, lets
the job score it, then runs the import (:func:`web.imports.run_import`) in this thread and prints:

* ``score``: the seconds from the upload to the job's end (the same-run baseline: the same rows,
  scored and their results kept for the import);
* ``import``: the seconds the import took to store every scored row as a lead (with its assessment,
  detected sectors and audit entry, 1,000 rows a transaction), its CPU seconds, leads per second,
  and its ratio to ``score``.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_score import make_csv  # noqa: E402

PASSWORD = "bench-password-1"


def run(url: str, csv_path: Path, folder: Path) -> dict[str, float]:
    """Upload, score and import ``csv_path`` on the database ``url``; the figures."""
    from web import create_app, imports
    from web.commands import bootstrap
    from web.extensions import db
    from web.models import BatchJob, Lead

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-benchmark-secret-key",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "BATCH_DIR": str(folder / "batch"),
            "RANKS_BACKGROUND": False,
            "REDIS_URL": None,
            "DB_STATEMENT_TIMEOUT": 900,
        }
    )
    with app.app_context():
        bootstrap(PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login failed: HTTP {response.status_code}")
    start = time.perf_counter()
    response = client.post(
        "/batch",
        data={"file": (io.BytesIO(csv_path.read_bytes()), "firms.csv"), "lang": "en", "output": "input"},
        content_type="multipart/form-data",
    )
    job_id = int(re.search(r"/batch/(\d+)", response.headers["Location"]).group(1))
    while (state := client.get(f"/batch/{job_id}/status.json").get_json()["state"]) not in ("done", "failed"):
        time.sleep(0.05)
    scored = time.perf_counter() - start
    if state != "done":
        raise SystemExit(f"the job failed on {url.split(':')[0]}")
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        if not imports.start(job):
            raise SystemExit("the import did not start")
        db.session.commit()
        attempt = job.attempts
    start, cpu = time.perf_counter(), time.process_time()
    ended = imports.run_import(app, job_id, attempt)
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    with app.app_context():
        leads = db.session.execute(db.select(db.func.count()).select_from(Lead).where(Lead.source == "batch")).scalar()
        db.session.remove()
        db.engine.dispose()
    if ended != "done":
        raise SystemExit(f"the import ended {ended!r}")
    return {"score": scored, "import": took, "cpu": cpu, "leads": leads}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the CSV (default 20,000)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    base_url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"bench_import_{os.getpid()}"
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        folder = Path(folder)
        make_csv(folder / "in.csv", args.rows)
        if args.db in ("sqlite", "both"):
            rows.append(("SQLite", run(f"sqlite:///{folder / 'bench.sqlite'}", folder / "in.csv", folder / "s")))
        if args.db in ("postgresql", "both"):
            import psycopg

            with psycopg.connect(base_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                sep = "&" if "?" in base_url else "?"
                url = base_url.replace("postgresql://", "postgresql+psycopg://", 1)
                rows.append(
                    ("PostgreSQL", run(f"{url}{sep}options=-csearch_path%3D{schema}", folder / "in.csv", folder / "p"))
                )
            finally:
                with psycopg.connect(base_url, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"{args.rows:,} rows; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"{'database':<11} {'score s':>8} {'import s':>9} {'CPU s':>7} {'leads':>7} {'leads/s':>8} {'x score':>8}")
    for name, f in rows:
        print(
            f"{name:<11} {f['score']:>8.2f} {f['import']:>9.2f} {f['cpu']:>7.2f} {f['leads']:>7,} "
            f"{f['leads'] / f['import']:>8.0f} {f['import'] / f['score']:>8.1f}"
        )


if __name__ == "__main__":
    main()
