"""Scoring chunks in worker processes: what :func:`matcher.batch.score_file` uses for large files.

Threads share one interpreter lock, and the Python parts of scoring a chunk (building columns,
the sector detector's per-token bookkeeping) hold it: two threads on two cores did the work of
about 1.3. Worker processes forked from the one that fitted the scorer share its tables
(copy-on-write, nothing pickled), each scores whole chunks, and writes the scored rows to an
Arrow file of its own; only the chunk's input, its scores and its errors cross a pipe.

The workers are forked before the CSV reader starts its threads (a fork copies no thread), and
only where ``fork`` exists and more than one core is usable.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

#: Files at least this large are scored in processes (smaller ones are done before a fork pays off).
MIN_BYTES = 32 << 20

# What the forked workers inherit: (score_chunk, scorer, fields, lang, headers, part_dir).
_JOB: tuple | None = None


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_processes(size: int) -> int:
    """Worker processes for a file of ``size`` bytes: one per usable core for a large file, else 0 (threads)."""
    if size < MIN_BYTES or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    cores = usable_cores()
    return cores if cores > 1 else 0


class ChunkPool:
    """Forked workers scoring chunks into Arrow part files of ``part_dir``, in submission order.

    ``score_chunk(scorer, batch, fields, rows, lang, headers)`` is :func:`matcher.batch._score_chunk`;
    each future gives ``(part path or None, rows written, score tenths, errors, results table)``.
    """

    def __init__(self, processes: int, score_chunk, scorer, fields: dict[int, str], lang: str,
                 headers: list[str] | None, part_dir: Path) -> None:
        global _JOB
        _JOB = (score_chunk, scorer, fields, lang, headers, str(part_dir))
        self._count = 0
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        try:
            self._pool.submit(_ready).result()  # forks every worker now, before any reader thread
        finally:
            _JOB = None  # the parent keeps no second reference to the scorer

    def submit(self, batch: pa.RecordBatch, rows) -> Future:
        self._count += 1
        return self._pool.submit(_score_part, self._count, batch, rows)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _ready() -> bool:
    return _JOB is not None


def _score_part(number: int, batch: pa.RecordBatch, rows):
    """In a worker: score one chunk, write its scored rows to a part file of their own."""
    score_chunk, scorer, fields, lang, headers, part_dir = _JOB
    table, score, errors, results = score_chunk(scorer, batch, fields, rows, lang, headers)
    path = None
    if table.num_rows:
        path = os.path.join(part_dir, f"{number:08d}.arrow")
        with ipc.new_file(path, table.schema) as writer:
            writer.write_table(table)
    return path, table.num_rows, score, errors, results
