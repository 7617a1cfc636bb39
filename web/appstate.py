"""What one app keeps between requests: one :class:`AppState` per app, ``app.extensions["matcher"]``.

:func:`web.create_app` makes it; code reaches it through :func:`app_state` (the current app's) and
keeps nothing derived at module level, so two apps in one process (the tests make many) never
share a figure, a scorer or a cached answer. It holds:

- ``snapshot``: the current weights version and the admin settings (:class:`Current`), read from
  the database again after ``WEIGHTS_CACHE_SECONDS`` so a version saved by another process is
  used here within that time, and forgotten at once when this process commits a change;
- ``scorers``: sectors files with a version's weights applied, their fingerprints and the fitted
  scorers, keyed by sectors file and weights fingerprint (and the scaled commitments), so a new
  weights version is a new key and builds its own scorer;
- ``matchers``: the opportunity matcher of each scorer (:mod:`web.opportunities`);
- ``counts``: the lead list's totals and the sector facets per filter set (:mod:`web.listing`);
- ``figures``: the overview page's numbers, for one signature of the leads (:mod:`web.overview`);
- ``rows``: sub-score rows of leads per weights version (:mod:`web.ranking`);
- ``unknown_codes``: the unknown OKVED codes of a typed field (:mod:`web.scoring`);
- ``decoy_hashes``: the password hash checked for unknown accounts (:mod:`web.auth`);
- ``redis``: the Redis client per process, URL and timeout (:mod:`web.taskqueue`);
- ``labels``: the lead list's labels and message formats per language and weights version (:mod:`web.listview`);
- ``statements``: the lead list's page statements per shape of filters, sort and segment (:mod:`web.keyset`);
- ``snapshot_scorer``: the scorer of the kept snapshot, so that a scoring request finds it without
  looking up the settings, the sectors file and the ``scorers`` key (:mod:`web.versions`);
- ``mark_ranks``, ``ranks_asked``: the hook that asks for ranks after a commit, and when a list view
  last asked for them (:mod:`web.ranks`).

One eviction rule for every cache: a bounded least-recently-used map (:class:`LRU`). A key says
what its value was derived from (weights fingerprint, sectors file, filters, lead ids and update
times), so a change makes a new key and the old entry ages out once the map is full; figures read
from the database also carry when they were read, and their owner reads again after its time
(``LEADS_COUNT_SECONDS``, ``FACETS_CACHE_SECONDS``) or clears them when this process commits a change.

Thread and process pools (:mod:`web.dispatch`, :mod:`web.mail`, :mod:`web.ranks`) and the rate
limiter (``app.extensions["matcher_limiter"]``, :mod:`web.security`) are not derived state and stay
where they are. This module imports no other module of ``web`` (``lint-imports``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

T = TypeVar("T")

#: Extension key of the app's state.
KEY = "matcher"


class LRU:
    """A thread-safe map of at most ``maxsize`` entries that drops the least recently used first.

    Parameters
    ----------
    maxsize : int
        Entries kept at most; storing one more evicts the entry read or stored longest ago.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._claims: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value of ``key`` (now the most recently used), else ``default``."""
        with self._lock:
            try:
                self._data.move_to_end(key)
            except KeyError:
                return default
            return self._data[key]

    def get_many(self, keys: Iterable[Hashable]) -> dict[Hashable, Any]:
        """The values of those of ``keys`` that are kept, by key (one lock for all)."""
        found = {}
        with self._lock:
            for key in keys:
                if key in self._data:
                    self._data.move_to_end(key)
                    found[key] = self._data[key]
        return found

    def put(self, key: Hashable, value: Any) -> Any:
        """Keep ``value`` under ``key`` (evicting the least recently used entries beyond ``maxsize``)."""
        with self._lock:
            self._store(key, value)
        return value

    def put_many(self, items: Iterable[tuple[Hashable, Any]]) -> None:
        """Keep each ``(key, value)`` of ``items`` (one lock for all)."""
        with self._lock:
            for key, value in items:
                self._store(key, value)

    def _store(self, key: Hashable, value: Any) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        """The value of ``key``, built by ``build()`` and kept if missing.

        ``build`` runs outside the lock (it may take a second: a scorer is fitted); when two threads
        build the same key at once, both get the value stored first.
        """
        missing = object()
        value = self.get(key, missing)
        if value is not missing:
            return value
        value = build()
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            self._store(key, value)
        return value

    def pop(self, key: Hashable) -> Any:
        """Forget ``key``; its value, or ``None``."""
        with self._lock:
            return self._data.pop(key, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()

    def claim(self, key: Hashable) -> bool:
        """Whether this thread may build ``key`` again (no other thread claimed it): the others keep
        using the kept value meanwhile. :meth:`release` once done."""
        with self._lock:
            if key in self._claims:
                return False
            self._claims.add(key)
            return True

    def release(self, key: Hashable) -> None:
        """Give back the claim on ``key`` (a no-op if there is none)."""
        with self._lock:
            self._claims.discard(key)


class Current(Generic[T]):
    """One value read from the database (the weights snapshot), kept for a time, forgotten on a change.

    Another process's change is seen after ``ttl`` seconds; a change this process commits is seen at
    once (:meth:`forget_committed`), even by a thread that was reading the old value meanwhile.
    """

    def __init__(self) -> None:
        self._entry: tuple[float, T] | None = None
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, read: Callable[[], T], ttl: float) -> T:
        """The kept value if it was read at most ``ttl`` seconds ago, else ``read()`` (kept).

        One thread reads at a time; a value read while a change was committed is used, not kept.
        """
        now = time.monotonic()
        entry = self._entry
        if entry is None or now - entry[0] > ttl:
            with self._lock:
                entry = self._entry
                if entry is None or now - entry[0] > ttl:
                    generation = self._generation
                    entry = (time.monotonic(), read())
                    if self._generation == generation:  # no change committed while reading
                        self._entry = entry
        return entry[1]

    def forget(self) -> None:
        """Read again next time (this thread changed the value; its commit may follow)."""
        self._entry = None

    def forget_committed(self) -> None:
        """A change was committed: forget the value, and any value being read at this moment."""
        self._generation += 1
        self._entry = None


class AppState:
    """The derived state of one app: its weights snapshot, scorers and caches (see the module)."""

    def __init__(self, mark_ranks: Callable[[], None] | None = None) -> None:
        self.snapshot: Current[Any] = Current()
        self.scorers = LRU(128)
        self.matchers = LRU(4)
        self.counts = LRU(512)
        self.figures = LRU(1)
        self.rows = LRU(200_000)
        self.unknown_codes = LRU(4096)
        self.decoy_hashes = LRU(4)
        self.redis = LRU(8)
        self.labels = LRU(16)
        self.statements = LRU(512)
        self.mark_ranks = mark_ranks
        self.ranks_asked = float("-inf")
        #: ``(snapshot, scorer)``: the scorer of the snapshot kept last (:func:`web.versions.current_scorer`).
        self.snapshot_scorer: tuple[Any, Any] | None = None

    def caches(self) -> dict[str, LRU]:
        """Every cache of the app by name."""
        return {name: value for name, value in vars(self).items() if isinstance(value, LRU)}


def init_app(app: Flask, mark_ranks: Callable[[], None] | None = None) -> AppState:
    """Give ``app`` its own state (``mark_ranks``: what asks for ranks after a commit, :func:`web.ranks.mark`)."""
    app.extensions[KEY] = AppState(mark_ranks)
    return app.extensions[KEY]


def app_state(app: Flask | None = None) -> AppState:
    """The state of ``app`` (default: the current app)."""
    return (app or current_app).extensions[KEY]
