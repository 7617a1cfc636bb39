"""Benchmark scoring a few profiles per call: the row-wise path against the vectorised one.

Usage::

    python bench/bench_single.py                   # n = 1, 4, 8, 16, 32
    python bench/bench_single.py --n 1 --n 64 --n 128 --rounds 7

For each batch size n it scores n profiles of ``matcher/data/sample_profiles.csv`` (cycled) per
call, on both paths of :mod:`matcher.result`, and prints ms per call and per profile and
the ratio vectorised / row-wise (the same-run baseline is the vectorised path). The time
of a call is the best of ``--rounds`` rounds of ``--calls`` calls, as the machine is noisy;
it is CPU time of the process by default (steadier on a shared machine), wall time with
``--wall``.

``fresh`` rows give every description a word never seen before in each call (a firm name,
a number), as web traffic does: the row path then looks at new tokens with Arrow once.

``--stages`` prints, for one profile, each stage's batch function (a batch of one) beside its
row kernel: read + detect, score, explain (the figures of docs/architecture.md, "One profile").
"""

from __future__ import annotations

import argparse
import csv
import itertools
import time
from pathlib import Path

from matcher.result import SMALL_BATCH, assess_rowwise, assess_vectorised, default_scorer

SAMPLES = Path(__file__).resolve().parent.parent / "matcher" / "data" / "sample_profiles.csv"


def sample_profiles() -> list[dict[str, str]]:
    with open(SAMPLES, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def per_call_ms(assess, batches, scorer, rounds: int, clock=time.process_time) -> float:
    """Best, over ``rounds``, of the mean time of one call (each call gets the next batch)."""
    assess(batches[0], scorer, "en")  # warm up caches and imports
    best = float("inf")
    for _ in range(rounds):
        start = clock()
        for batch in batches:
            assess(batch, scorer, "en")
        best = min(best, (clock() - start) / len(batches))
    return best * 1000


def batches_of(n: int, calls: int, fresh: bool) -> list[list[dict[str, str]]]:
    """``calls`` batches of ``n`` sample profiles; ``fresh`` adds a new word to each description."""
    pool = itertools.cycle(sample_profiles())
    counter = itertools.count()
    out = []
    for _ in range(calls):
        batch = [dict(next(pool)) for _ in range(n)]
        if fresh:
            for profile in batch:
                profile["description"] += f" Firm{next(counter)} {time.perf_counter_ns()}"
        out.append(batch)
    return out


def stage_ms(rounds: int, clock=time.process_time) -> list[tuple[str, float, float]]:
    """Per stage, ms per profile of the batch function on a batch of one and of the row kernel."""
    from matcher.explain import explain_row, worded_columns
    from matcher.frame import read_frame
    from matcher.profile import table_from_mappings
    from matcher.rowwise import read_row

    scorer = default_scorer()
    profiles = sample_profiles()
    tables = [table_from_mappings([p])[0] for p in profiles]
    frames = [read_frame(t, scorer.detector_) for t in tables]
    scores = [scorer.evaluate(f) for f in frames]
    rows = [read_row(p, scorer.detector_) for p in profiles]
    row_scores = [scorer.evaluate_row(r.detection.sector, r.detection.source, r.answers, r.numbers) for r in rows]

    def best(work) -> float:
        times = []
        for _ in range(rounds):
            start = clock()
            for i in range(len(profiles)):
                work(i)
            times.append((clock() - start) / len(profiles))
        return min(times) * 1000

    return [
        (
            "read + detect",
            best(lambda i: read_frame(table_from_mappings([profiles[i]])[0], scorer.detector_)),
            best(lambda i: read_row(profiles[i], scorer.detector_)),
        ),
        (
            "score",
            best(lambda i: scorer.evaluate(frames[i])),
            best(
                lambda i: scorer.evaluate_row(
                    rows[i].detection.sector, rows[i].detection.source, rows[i].answers, rows[i].numbers
                )
            ),
        ),
        (
            "explain",
            best(lambda i: worded_columns(scorer, frames[i], scores[i], "en")),
            best(lambda i: explain_row(scorer, row_scores[i], rows[i].detection, "en")),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="profiles per call (repeatable)")
    parser.add_argument("--calls", type=int, default=50, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, best kept")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of CPU time")
    parser.add_argument("--stages", action="store_true", help="one profile, stage by stage, and nothing else")
    args = parser.parse_args()
    scorer = default_scorer()
    clock = time.perf_counter if args.wall else time.process_time
    if args.stages:
        print(
            f"one profile, {'wall' if args.wall else 'CPU'} time, ms: {'stage':<14} {'batch of one':>12} "
            f"{'row kernel':>10}"
        )
        for stage, batch_ms, row_ms in stage_ms(args.rounds, clock):
            print(f"{'':>36}{stage:<14} {batch_ms:>12.3f} {row_ms:>10.3f}", flush=True)
        return
    print(
        f"SMALL_BATCH = {SMALL_BATCH} (assess_many takes the row path up to this size); "
        f"{'wall' if args.wall else 'CPU'} time"
    )
    print(
        f"{'n':>4} {'words':>6} | {'vectorised ms':>13} {'per profile':>11} | {'row-wise ms':>11} "
        f"{'per profile':>11} | {'speed-up':>8}"
    )
    for n in args.n or [1, 4, 8, 16, 32]:
        for fresh in (False, True):
            calls = max(5, args.calls // max(1, n // 8))
            batch_ms = per_call_ms(assess_vectorised, batches_of(n, calls, fresh), scorer, args.rounds, clock)
            row_ms = per_call_ms(assess_rowwise, batches_of(n, calls, fresh), scorer, args.rounds, clock)
            print(
                f"{n:>4} {'fresh' if fresh else 'seen':>6} | {batch_ms:>13.3f} {batch_ms / n:>11.3f} | "
                f"{row_ms:>11.3f} {row_ms / n:>11.3f} | {batch_ms / row_ms:>7.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
