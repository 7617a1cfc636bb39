"""Score single profiles arriving from many threads together, in one batch.

A server handling many requests at once hands each profile to a :class:`MicroBatcher`,
whose one scoring thread takes every profile waiting at that moment and scores them in one
:func:`matcher.assess_many` call (the row-wise path for small batches, see
:mod:`matcher.rowwise`). Scoring then runs on one thread per process instead of competing
for the GIL from every request thread. It never waits for a batch to fill: an idle server
answers at once, a busy one batches naturally. The results are exactly those of
:func:`matcher.assess`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from .errors import InvalidValue
from .result import ScoreResult, assess_many
from .scoring import Scorer


class MicroBatcher:
    """Collect profiles submitted from any thread and score them in batches.

    Parameters
    ----------
    scorer : Scorer
        A fitted scorer.
    max_batch : int
        The most profiles scored in one call.

    Examples
    --------
    >>> from matcher.result import default_scorer
    >>> batcher = MicroBatcher(default_scorer())
    >>> batcher.assess({"name": "A", "okved": "62.01"}).sector
    'software'
    """

    def __init__(self, scorer: Scorer, max_batch: int = 64, idle_seconds: float = 30.0) -> None:
        self.scorer = scorer
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds  # a batcher nobody uses (an old weights version) lets its thread end
        self._queue: queue.SimpleQueue[tuple[Mapping[str, Any], str, Future]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # how many scoring calls ran (for tests and monitoring)
        self.profiles = 0

    def assess(self, profile: Mapping[str, Any], lang: str = "en", timeout: float | None = 30.0) -> ScoreResult:
        """Score one profile like :func:`matcher.assess` (raises :class:`InvalidValue` likewise)."""
        future: Future = Future()
        with self._lock:  # queued and started together, so an ending idle thread cannot miss it
            self._queue.put((profile, lang, future))
            self._start()
        return future.result(timeout)

    def _start(self) -> None:
        # Started on first use (under the lock), so a server that forks workers starts one thread per worker.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="matcher-batcher", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=self.idle_seconds)]
            except queue.Empty:
                with self._lock:  # idle: end the thread; the next assess() starts a new one
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._score(batch)

    def _score(self, batch: list[tuple[Mapping[str, Any], str, Future]]) -> None:
        by_lang: dict[str, list[tuple[Mapping[str, Any], Future]]] = {}
        for profile, lang, future in batch:
            by_lang.setdefault(lang, []).append((profile, future))
        for lang, items in by_lang.items():
            try:
                results = assess_many([p for p, _ in items], self.scorer, lang)
            except Exception as exc:  # noqa: BLE001 - hand any failure to every waiting caller
                for _, future in items:
                    future.set_exception(exc)
                continue
            self.batches += 1
            self.profiles += len(items)
            for (_, future), result in zip(items, results, strict=True):
                if isinstance(result, InvalidValue):
                    future.set_exception(result)
                else:
                    future.set_result(result)
