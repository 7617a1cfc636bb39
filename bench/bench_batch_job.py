"""Benchmark what a web batch job and its import cost: the full results kept vs scoring again.

Usage::

    python bench/bench_batch_job.py                  # 20,000 rows (the browser test's import)
    python bench/bench_batch_job.py --rows 100000

On one synthetic CSV (``bench_score.make_csv``) it measures, in this process:

* ``score``: ``score_file`` as ``matcher score`` runs it (the same-run baseline);
* ``score+results``: ``score_file(results_path=...)`` as a web job runs it, keeping every
  scored row's result and wording in three languages for the import;
* ``import: read``: what the import now does per row: read the results file and rebuild each
  ``ScoreResult`` with its wording in three languages from the kept numbers
  (``matcher.stored.results_from``);
* ``import: rescore``: what the import did before: score every row again in three languages
  (``matcher.assess_many``, one call per language).

It prints seconds and each figure's ratio to ``score``.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import pyarrow.ipc as ipc
from bench_score import make_csv

from matcher.batch import score_file
from matcher.result import assess_many, default_scorer
from matcher.stored import results_from


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def read_results(path: Path, scorer) -> int:
    with ipc.open_file(str(path)) as source:
        table = source.read_all()
    headers = json.loads(table.schema.metadata[b"headers"])
    return sum(1 for _ in results_from(scorer, table.to_pylist(), headers, "ru"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the CSV (default 20,000)")
    args = parser.parse_args(argv)
    scorer = default_scorer()
    with tempfile.TemporaryDirectory(prefix="bench-job-") as folder:
        folder = Path(folder)
        make_csv(folder / "in.csv", args.rows)
        score_file(folder / "in.csv", folder / "warm.csv", scorer)  # imports and caches warm
        figures = {"score": timed(lambda: score_file(folder / "in.csv", folder / "a.csv", scorer, lang="ru"))}
        figures["score+results"] = timed(
            lambda: score_file(
                folder / "in.csv", folder / "b.csv", scorer, lang="ru", results_path=folder / "results.arrow"
            )
        )
        figures["import: read"] = timed(lambda: read_results(folder / "results.arrow", scorer))
        with open(folder / "in.csv", encoding="utf-8", newline="") as handle:
            profiles = list(csv.DictReader(handle))
        figures["import: rescore"] = timed(lambda: [assess_many(profiles, scorer, lang) for lang in ("ru", "en", "vi")])
    print(f"{args.rows:,} rows")
    print(f"{'step':<18} {'seconds':>8} {'x score':>8}")
    for step, seconds in figures.items():
        print(f"{step:<18} {seconds:>8.2f} {seconds / figures['score']:>8.1f}")


if __name__ == "__main__":
    main()
