"""Performance machinery, kept out of the domain code: process settings for a big batch (allocator,
garbage collector, BLAS threads), Arrow buffers read as numpy views, and worker processes.

Worker processes: threads share one interpreter lock, and the Python parts of scoring a chunk
(building columns, the sector detector's per-token bookkeeping) hold it. Worker processes forked
from the one that fitted the scorer share its tables (copy-on-write, nothing pickled); each scores
whole chunks, handed over in files it maps (:meth:`ChunkPool.hand_over`), and writes the scored rows
to an Arrow part file of its own, so only scores and errors cross a pipe. In pass 2 the workers
write each part's CSV text straight into the output file, in order (:class:`Turns`), so the parent
copies none of it. They are forked before the CSV reader starts its threads (a fork copies no
thread), and only where ``fork`` exists and more than one core is usable.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
from numpy.typing import NDArray

# --- process settings for one big batch -------------------------------------------------------------


@contextmanager
def tuned_for_batch() -> Iterator[None]:
    """Process settings while ``matcher score`` scores one big file; restored afterwards.

    Measured with ``bench/bench_score.py`` on 1,000,000 rows (wall 7.2-7.7 s -> 6.8 s;
    CPU samples with perf: kernel time 3.3 s -> 2.3 s):

    * glibc serves arrays up to 32 MiB from its heap and keeps freed memory, instead of
      mapping fresh pages, which the kernel must zero, for every large numpy array;
    * the cyclic garbage collector leaves alone the million objects that exist before
      scoring (most from importing scikit-learn and SciPy), instead of walking them all
      in every full collection;
    * BLAS keeps no spinning threads: scoring uses none of it.
    """
    import gc

    from threadpoolctl import threadpool_limits

    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    gc.freeze()
    limits = threadpool_limits(1, user_api="blas")
    try:
        yield
    finally:
        limits.restore_original_limits()
        gc.unfreeze()
        if libc is not None:  # glibc's defaults
            libc.mallopt(_M_MMAP_THRESHOLD, 128 << 10)
            libc.mallopt(_M_TRIM_THRESHOLD, 128 << 10)
            libc.malloc_trim(0)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _glibc():
    """The C library when it is glibc (its ``mallopt`` is known), else None."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


# --- Arrow buffers ----------------------------------------------------------------------------------


def string_buffers(column: pa.Array) -> tuple[NDArray[np.int32], NDArray[np.uint8]] | None:
    """The offsets and bytes of a string array without nulls as numpy views (no copy); None otherwise.

    Value ``i`` is ``data[offsets[i]:offsets[i + 1]]`` (a sliced array's offsets need not start at 0).
    """
    if column.type != pa.string() or column.null_count:
        return None
    _, offsets, data = column.buffers()
    offsets = np.frombuffer(offsets, np.int32, len(column) + 1, column.offset * 4)
    return offsets, (np.frombuffer(data, np.uint8) if data is not None else np.zeros(0, np.uint8))


# --- worker processes -------------------------------------------------------------------------------

#: Files at least this large are scored in processes (smaller ones are done before a fork pays off).
MIN_BYTES = 32 << 20

# What the forked workers inherit (the scorer and the run's settings); None in the parent.
_STATE: dict[str, Any] | None = None
# The pool's Turns, inherited by its workers (a lock shared between processes cannot be pickled).
_TURNS: Turns | None = None


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


def worker_state() -> dict[str, Any]:
    """In a worker: the ``state`` its :class:`ChunkPool` was made with."""
    if _STATE is None:
        raise RuntimeError("not in a ChunkPool worker")
    return _STATE


class ChunkPool:
    """``processes`` forked workers that inherit ``state`` (see :func:`worker_state`) and write their
    files into ``part_dir`` (the folder and its files are removed by :meth:`close`), or the parts of one
    file in order with :attr:`turns`."""

    def __init__(self, processes: int, part_dir: Path, **state: Any) -> None:
        global _STATE, _TURNS
        self.processes = processes
        self.part_dir = Path(part_dir)
        self.part_dir.mkdir()
        self._names = itertools.count(1)
        context = multiprocessing.get_context("fork")
        self.turns = _TURNS = Turns(context)
        _STATE = state
        try:
            self._pool = ProcessPoolExecutor(processes, mp_context=context)
            self._pool.submit(_ready).result()  # forks every worker now, before any reader thread
        except BaseException:
            shutil.rmtree(self.part_dir, ignore_errors=True)
            raise
        finally:
            _STATE = None  # the parent keeps no second reference to the scorer

    def submit(self, fn, *args: Any) -> Future:
        """Run the module-level function ``fn(*args)`` in a worker."""
        return self._pool.submit(fn, *args)

    def part_name(self, suffix: str = ".arrow") -> str:
        """A new file name in the part folder (names sort in the order they were given)."""
        return str(self.part_dir / f"{next(self._names):08d}{suffix}")

    def hand_over(self, batch: pa.RecordBatch) -> str:
        """Put ``batch`` in a file of the part folder for a worker to :func:`take`; the file's path.

        Cheaper than pickling it through the pool's pipe: one copy into the file, none out of it
        (the worker maps the file). Pickled, a chunk of 9.5 MB cost 10-15 ms of CPU between the two
        processes (copies and fresh pages at each end), 0.4-0.6 s for 1M rows.
        """
        path = self.part_name(".in")
        with pa.OSFile(path, "w") as sink, ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        return path

    def clear(self) -> None:
        """Remove every part file (a second attempt at the same input starts afresh)."""
        for path in self.part_dir.iterdir():
            path.unlink(missing_ok=True)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.part_dir, ignore_errors=True)


def take(path: str) -> pa.RecordBatch:
    """In a worker: the batch :meth:`ChunkPool.hand_over` put at ``path``, mapped from the file (no copy;
    the mapping lasts while the batch's buffers do). The file is removed."""
    with pa.memory_map(path) as source:
        batch = ipc.open_stream(source).read_next_batch()
    os.unlink(path)
    return batch


def _ready() -> bool:
    return _STATE is not None


class Turns:
    """The parts of one file written by several processes straight into it, in their order.

    Part ``n`` takes its place (the file's next ``size`` bytes) once parts ``0 .. n-1`` have taken
    theirs, then writes there while the next part takes its place. A part that fails must still take
    a place (of 0 bytes), or the later ones wait for ever. Made before the workers are forked: they
    share it by inheritance (:func:`worker_turns`).
    """

    def __init__(self, context) -> None:
        self._changed = context.Condition()
        self._next = context.RawValue("q", 0)  # the part whose turn it is
        self._end = context.RawValue("q", 0)  # where that part goes

    def start(self, offset: int) -> None:
        """In the parent, before the parts are handed out: part 0 goes at ``offset``."""
        with self._changed:
            self._next.value, self._end.value = 0, offset

    def place(self, number: int, size: int) -> int:
        """In a worker: the offset of part ``number`` (``size`` bytes), once every earlier part has its own."""
        with self._changed:
            self._changed.wait_for(lambda: self._next.value == number)
            offset = self._end.value
            self._end.value, self._next.value = offset + size, number + 1
            self._changed.notify_all()
        return offset


def worker_turns() -> Turns:
    """In a worker: the :class:`Turns` of its pool."""
    if _TURNS is None:
        raise RuntimeError("not in a ChunkPool worker")
    return _TURNS


def write_at(path: str, offset: int, data) -> None:
    """Write the bytes ``data`` into the existing file ``path`` at ``offset``."""
    view = memoryview(data)
    fd = os.open(path, os.O_WRONLY)
    try:
        while view:
            written = os.pwrite(fd, view, offset)
            view, offset = view[written:], offset + written
    finally:
        os.close(fd)


def append_file(out: BinaryIO, path: str) -> None:
    """Copy the file ``path`` to the end of the open binary file ``out`` (in the kernel when it can)."""
    with open(path, "rb") as source:
        try:
            out_fd = out.fileno()
        except (AttributeError, OSError):  # not a real file: copied through Python
            shutil.copyfileobj(source, out, 1 << 20)
            return
        out.flush()
        size = os.fstat(source.fileno()).st_size
        offset = 0
        while offset < size:
            sent = os.sendfile(out_fd, source.fileno(), offset, size - offset)
            if sent == 0:
                break
            offset += sent
