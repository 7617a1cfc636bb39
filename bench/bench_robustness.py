"""Benchmark the Monte Carlo rank robustness against a plain chunked matrix product.

Usage::

    python bench/bench_robustness.py                       # 10,000 weightings x 10,000 leads
    python bench/bench_robustness.py --leads 2000 --samples 5000 --jobs 1

Random sub-scores in [0, 1] for ``--leads`` leads and the 7 criteria of sectors.yaml (base
weights from it), then, in the same process:

* baseline: the sampled weightings times the sub-score matrix, ``W @ S.T`` in chunks of
  ``--chunk`` weightings (float64, one BLAS thread as in the real run), each chunk's scores thrown away: the least any
  Monte Carlo over weightings must do;
* robustness: :func:`matcher.robustness.rank_robustness` (score, rank every lead under
  every weighting, summarise the rank intervals and top-k shares).

Prints the best of ``--repeat`` wall times of each and the ratio robustness / baseline.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from matcher.config import load_sectors
from matcher.robustness import CHUNK_ITEMS, rank_robustness, sample_weights


def baseline(matrix: np.ndarray, weights: np.ndarray, n_samples: int, chunk: int) -> float:
    """Seconds for the chunked product alone (sampling included, as in the real run)."""
    start = time.perf_counter()
    samples = sample_weights(weights, n_samples, 0.2, 0)
    rows_t = np.ascontiguousarray(matrix.T)
    with threadpool_limits(1, user_api="blas"):
        for first in range(0, n_samples, chunk):
            samples[first : first + chunk] @ rows_t
    return time.perf_counter() - start


def robustness(matrix: np.ndarray, weights: np.ndarray, n_samples: int, chunk: int, jobs: int | None) -> float:
    start = time.perf_counter()
    result = rank_robustness(matrix, weights, n_samples=n_samples, random_state=0, chunk_size=chunk, n_jobs=jobs)
    seconds = time.perf_counter() - start
    assert result.rank_low.shape == (len(matrix),)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=None, help="weightings per chunk (default: as the library)")
    parser.add_argument("--jobs", type=int, default=None, help="threads (default: up to 2)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    weights = load_sectors().weights()
    matrix = np.random.default_rng(42).random((args.leads, len(weights)))
    args.chunk = args.chunk or max(8, CHUNK_ITEMS // args.leads)
    base = min(baseline(matrix, weights, args.samples, args.chunk) for _ in range(args.repeat))
    robust = min(robustness(matrix, weights, args.samples, args.chunk, args.jobs) for _ in range(args.repeat))
    print(
        f"{args.samples:,} weightings x {args.leads:,} leads x {len(weights)} criteria, chunk {args.chunk}, "
        f"{os.cpu_count()} CPUs, best of {args.repeat}"
    )
    print(f"baseline (chunked W @ S.T only): {base:.3f} s")
    print(f"rank_robustness:                 {robust:.3f} s")
    print(f"ratio robustness / baseline:     {robust / base:.1f}x")


if __name__ == "__main__":
    main()
