"""Benchmark :func:`matcher.profile.table_from_mappings` against ``pyarrow.Table.from_pylist``.

Usage::

    python bench/bench_table.py                      # 66,000 rows (the size issue 13 measured)
    python bench/bench_table.py --rows 1000 --rows 100000 --rounds 3

Both build a string table from the same list of JSON-like profiles (sample profiles, cycled,
each with its own id and a few rows missing keys). ``from_pylist`` is the same-run baseline;
the ratio says how many times slower ours is (it also maps header aliases, turns any JSON
value into text and keeps the original keys). Times are the best of ``--rounds``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

import pyarrow as pa

from matcher.profile import table_from_mappings

SAMPLES = Path(__file__).resolve().parent.parent / "matcher" / "data" / "sample_profiles.csv"


def profiles(n: int) -> list[dict[str, str]]:
    """``n`` sample profiles with distinct ids; every seventh lacks its description and city."""
    with open(SAMPLES, encoding="utf-8", newline="") as handle:
        pool = itertools.cycle(list(csv.DictReader(handle)))
    out = []
    for i in range(n):
        row = {**next(pool), "id": str(i)}
        if i % 7 == 0:
            row.pop("description", None)
            row.pop("city", None)
        out.append(row)
    return out


def best_seconds(build, rows, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        build(rows)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per table (repeatable; default 66000)")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    print(f"{'rows':>9}  {'from_pylist s':>13}  {'table_from_mappings s':>21}  {'ratio':>6}")
    for n in args.rows or [66_000]:
        rows = profiles(n)
        base = best_seconds(lambda r: pa.Table.from_pylist(r), rows, args.rounds)
        ours = best_seconds(table_from_mappings, rows, args.rounds)
        print(f"{n:>9,}  {base:>13.3f}  {ours:>21.3f}  {ours / base:>6.1f}")


if __name__ == "__main__":
    main()
