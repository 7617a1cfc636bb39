"""The gunicorn worker class of ``gunicorn.conf.py``: gthread, with connections spread evenly over the workers
(and gunicorn's own error pages with the app's security headers: :func:`write_error`).

gunicorn's threaded worker accepts every connection it is offered, however many it already holds (gunicorn
issues #908, #2817 and #3433), and a kept-alive connection stays with the worker that accepted it. Which
worker wins each accept is up to the kernel's scheduler. Measured on the lead list (2 workers x 4 threads,
16 keep-alive clients, PostgreSQL, 100,000 leads), three starts of the same server split the 16
connections 8/8, 7/9 and 4/12; the clients of the fuller worker waited three times as long (p50 103 ms
against 32 ms), and the list's p99 went from 110 ms to 171 ms.

:class:`BalancedThreadWorker` listens for new connections only while it holds no more open connections than
any other worker of the same server. The counts are in memory shared by the workers (:class:`SharedCounts`,
made in the gunicorn master before it forks them). Ties listen together, so some worker always listens:
the one holding the fewest takes the connection. A worker that stopped listening checks again every
:data:`RECHECK_SECONDS`, so a connection waits that long at most when the counts change under it. A worker
on its way out (a reload) leaves the counts as it stops listening, and the master frees the count of one
that died. Requests on the connections a worker holds are served as before.

Built on gunicorn 27's ``ThreadWorker`` (``set_accept_enabled``, ``wait_for_and_dispatch_events`` and
``nr_conns``, all used on the worker's main thread); ``setup.cfg`` pins that series. With ``reuse_port``
each worker has a listening socket of its own that the kernel fills regardless, so there the worker
behaves as plain gthread.
"""

from __future__ import annotations

import ctypes
import html
import multiprocessing
import os

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

RECHECK_SECONDS = 0.02  # how often a worker that stopped listening looks at the counts again
SLOTS = 256  # workers of one server at most (more: the others behave as plain gthread)


class SharedCounts:
    """Each live worker's number of open connections, in shared memory inherited by the forked workers."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._pids = multiprocessing.RawArray(ctypes.c_int, slots)  # 0: a free slot
        self._counts = multiprocessing.RawArray(ctypes.c_int, slots)
        self._used = multiprocessing.RawValue(ctypes.c_int, 0)  # slots below this may be held
        self._lock = multiprocessing.Lock()

    def claim(self, pid: int) -> int | None:
        """A slot for the worker ``pid``, the lowest free one (None if none is)."""
        with self._lock:
            for slot, held in enumerate(self._pids):
                if held in (0, pid):
                    self._counts[slot] = 0
                    self._pids[slot] = pid
                    self._used.value = max(self._used.value, slot + 1)
                    return slot
        return None

    def release(self, pid: int) -> None:
        """Free the slot of the worker ``pid`` (the worker on its way out, or the master once it has died)."""
        with self._lock:
            for slot in range(self._used.value):
                if self._pids[slot] == pid:
                    self._pids[slot] = 0
                    self._counts[slot] = 0

    def fair(self, slot: int, count: int) -> bool:
        """Record ``count`` for ``slot``; whether no other live worker holds fewer connections.

        Reads without the lock (whole ints, at worst a moment old). A worker that holds fewer but is gone
        (killed before the master freed its slot) loses its slot instead of keeping everyone else waiting.
        """
        pids, counts = self._pids, self._counts
        counts[slot] = count
        for other in range(self._used.value):
            pid = pids[other]
            if other != slot and pid and counts[other] < count:
                if _alive(pid):
                    return False
                self.release(pid)
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: it exists
        return True
    return True


COUNTS = SharedCounts()  # made on import, in the master (gunicorn loads the worker class before forking)


def worker_exited(pid: int) -> None:
    """``child_exit`` hook of ``gunicorn.conf.py``: a worker that died without freeing its slot frees it now."""
    COUNTS.release(pid)


#: The protections of the app's own answers (:data:`web.security.HEADERS`, and no caching) for the error pages
#: gunicorn writes itself, which hold no script, style or image: a CSP that allows nothing.
ERROR_PAGE_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` (its answer to a request it refuses before the app sees it: a request
    line or headers too long (414, 431), no HTTP at all (400)...), with :data:`ERROR_PAGE_HEADERS`."""
    body = (
        f"<!doctype html>\n<html><head><title>{status_int} {html.escape(reason)}</title></head>\n"
        f"<body><h1>{status_int} {html.escape(reason)}</h1>\n<p>{html.escape(mesg)}</p></body></html>\n"
    ).encode()
    head = [f"HTTP/1.1 {status_int} {reason}", "Connection: close", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in ERROR_PAGE_HEADERS]
    util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


class BalancedThreadWorker(ThreadWorker):
    """A gthread worker that listens only while it holds no more connections than the other workers, and
    whose own error pages carry the app's security headers (:func:`write_error`)."""

    slot: int | None = None

    def init_process(self) -> None:
        # gunicorn's workers call util.write_error by its module attribute: in this worker process, ours.
        util.write_error = write_error
        if not self.cfg.reuse_port:
            self.slot = COUNTS.claim(os.getpid())
        try:
            super().init_process()
        finally:
            COUNTS.release(os.getpid())

    def _fair(self) -> bool:
        return self.slot is None or COUNTS.fair(self.slot, self.nr_conns)

    def set_accept_enabled(self, enabled: bool) -> None:
        """Listen only when gthread has room for a connection and the counts say this worker is the one.

        A worker on its way out (a reload, SIGTERM) leaves the counts at once: it takes no more connections,
        and the others must not wait for it as the one holding the fewest.
        """
        if not self.alive and self.slot is not None:
            COUNTS.release(os.getpid())
            self.slot = None
        super().set_accept_enabled(enabled and (not self.alive or self._fair()))

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """Before each wait: start or stop listening as the counts say, and look again soon while stopped."""
        if self.alive and self.slot is not None:
            fair = self._fair()
            super().set_accept_enabled(fair and self.nr_conns < self.worker_connections)
            if not fair:
                timeout = min(timeout, RECHECK_SECONDS)
        super().wait_for_and_dispatch_events(timeout)
