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
import re
import selectors
import socket
import threading
import time
from contextlib import suppress
from functools import partial

from gunicorn import util
from gunicorn.http.errors import ParseException
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

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


# -- Slow clients -------------------------------------------------------------------------------------
# gthread gives a connection a thread as soon as it has a byte to read, and the thread then waits for the
# rest of the request: eight clients sending their headers a byte a second held all the threads of a
# 2 x 4 server, and /api/v1/health timed out for as long as they kept at it. Here a connection gets a thread
# only once its request head, and its body when that is small, is in the socket's buffer (read without
# taking it: MSG_PEEK); a head that takes longer than HEAD_SECONDS to arrive closes the connection. A larger
# body is read on the thread, but must keep coming: it may take BODY_GRACE_SECONDS plus a second per
# MIN_BODY_RATE bytes (a 20 MB upload: 2,005 s at the least), and no read waits longer than IO_SECONDS.
# Twelve clients sending a 100 kB body a byte a second then held the threads of a 2 x 4 server for 5 s,
# not for good. A buffering reverse proxy in front (README, "Operations") still does this best.

#: Seconds a request head (the request line and headers) may take to arrive, from its first byte.
HEAD_SECONDS = float(os.environ.get("GUNICORN_HEAD_TIMEOUT") or 10)
#: Seconds a worker thread waits at most on one read or write of a connection.
IO_SECONDS = float(os.environ.get("GUNICORN_IO_TIMEOUT") or 20)
#: Bytes a second a request body must arrive at, on average, after its first BODY_GRACE_SECONDS.
MIN_BODY_RATE = 10_000
BODY_GRACE_SECONDS = 5.0
#: What one look at a socket's buffer sees: a body up to this size is waited for before a thread is used.
PEEK_BYTES = 65_536
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,12})[ \t]*(?=\r\n|$)", re.IGNORECASE)
_EXPECT = re.compile(rb"\r\nexpect:", re.IGNORECASE)


def request_waiting(sock: socket.socket) -> bool:
    """Whether a thread should read from ``sock`` now: the socket's buffer holds a whole request head, and the
    whole body it announces when that fits in :data:`PEEK_BYTES` (with no ``Expect: 100-continue``, for
    which the client waits for an answer first); or something only the thread should deal with (the client
    closed, an error, more than a look takes in)."""
    try:
        data = sock.recv(PEEK_BYTES, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    if not data or len(data) >= PEEK_BYTES:
        return True
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = data[:end]
    length = _LENGTH.search(head)
    if length is None or _EXPECT.search(head):
        return True
    total = end + 4 + int(length[1])
    return total <= len(data) or total > PEEK_BYTES


class BodyTimeout(ParseException):
    """A request that stopped coming. Read by the app (a body), it answers 408 (``code``:
    :func:`web.errors.render_unreadable_body`); read by gunicorn (a head over TLS), :meth:`handle_error` does.
    Not an ``OSError``: Werkzeug would take one for a client gone and answer a vague 400."""

    code = 408

    def __str__(self) -> str:
        return f"the request body did not arrive in time (at {MIN_BODY_RATE:,} bytes a second at least)"


class PacedReads:
    """The socket gunicorn's request reader reads from (:class:`~gunicorn.http.unreader.SocketUnreader`): reads
    stop once a request has taken longer than :data:`BODY_GRACE_SECONDS` plus a second per
    :data:`MIN_BODY_RATE` bytes read, and none waits longer than :data:`IO_SECONDS`."""

    def __init__(self, sock) -> None:
        self.sock = sock
        self.begin()

    def begin(self) -> None:
        """A new request starts (its head is already in the socket's buffer)."""
        self.since, self.got = time.monotonic(), 0

    def recv(self, size: int) -> bytes:
        left = self.since + BODY_GRACE_SECONDS + self.got / MIN_BODY_RATE - time.monotonic()
        if left <= 0:
            raise BodyTimeout()
        try:
            self.sock.settimeout(min(left, IO_SECONDS))
            data = self.sock.recv(size)
        except TimeoutError:
            raise BodyTimeout() from None
        self.got += len(data)
        return data


#: Seconds a closed connection's socket is read (and what comes thrown away) after the last answer, before it
#: is closed: so that a request the client was still sending does not make the kernel reset the connection
#: and lose that answer (RFC 9112, section 9.6).
LINGER_SECONDS = 2.0
_gunicorn_init = TConn.init
_gunicorn_close = TConn.close
#: The worker of this process: its main thread lingers on closed connections in its event loop.
_worker: BalancedThreadWorker | None = None


def _close(conn: TConn, graceful: bool = False) -> None:
    """``TConn.close``, but a graceful close on the worker's main thread lingers in its event loop: gunicorn's
    ``util.close_graceful`` waits there for up to 2 s for the client to close its side, and meanwhile the
    worker answers nobody (a client that sent ``Connection: close`` and kept its socket open stalled it)."""
    if graceful and _worker is not None and threading.current_thread() is threading.main_thread():
        _worker.linger(conn.sock)
    else:
        _gunicorn_close(conn, graceful)


def _paced_init(conn: TConn) -> None:
    """``TConn.init`` (called by the thread before each request), then the read and write timeouts above."""
    _gunicorn_init(conn)
    if conn.is_http2 or not isinstance(getattr(conn.parser, "unreader", None), SocketUnreader):
        return
    conn.sock.settimeout(IO_SECONDS)
    unreader = conn.parser.unreader
    if not isinstance(unreader.sock, PacedReads):
        unreader.sock = PacedReads(unreader.sock)
    unreader.sock.begin()


class BalancedThreadWorker(ThreadWorker):
    """A gthread worker that listens only while it holds no more connections than the other workers, and
    whose own error pages carry the app's security headers (:func:`write_error`)."""

    slot: int | None = None

    def init_process(self) -> None:
        # gunicorn's workers call util.write_error, TConn.init and TConn.close by their module and class
        # attributes: in this worker process, ours.
        global _worker
        util.write_error = write_error
        TConn.init, TConn.close, _worker = _paced_init, _close, self
        self.heading: dict[TConn, float] = {}  # connections whose request is on its way: its deadline
        self.lingering: dict[socket.socket, tuple[float, int]] = {}  # closed ones: deadline, bytes read
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
        """Before each wait: start or stop listening as the counts say, and look again soon while stopped.
        After it: close the connections whose request head did not arrive in time."""
        if self.alive and self.slot is not None:
            fair = self._fair()
            super().set_accept_enabled(fair and self.nr_conns < self.worker_connections)
            if not fair:
                timeout = min(timeout, RECHECK_SECONDS)
        deadlines = [*self.heading.values(), *(deadline for deadline, _ in self.lingering.values())]
        if deadlines:
            timeout = min(timeout, max(0.0, min(deadlines) - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)
        self._close_late_heads()
        now = time.monotonic()
        for sock in [s for s, (deadline, _) in self.lingering.items() if deadline <= now]:
            self._closed(sock)

    def linger(self, sock: socket.socket) -> None:
        """gunicorn's graceful close (``util.close_graceful``: end the sending side, read and drop what still
        comes for :data:`LINGER_SECONDS` or 64 KiB, then close) without waiting: the poller reads."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, self._drain)
        except (OSError, ValueError, KeyError):
            util.close(sock)
            return
        self.lingering[sock] = (time.monotonic() + LINGER_SECONDS, 0)

    def _drain(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        deadline, drained = self.lingering[sock]
        if data and drained + len(data) < 65536:
            self.lingering[sock] = (deadline, drained + len(data))
        else:
            self._closed(sock)

    def _closed(self, sock: socket.socket) -> None:
        del self.lingering[sock]
        with suppress(OSError, KeyError, ValueError):
            self.poller.unregister(sock)
        util.close(sock)

    def enqueue_req(self, conn: TConn) -> None:
        """Give ``conn`` a thread once its request is in the socket's buffer (:func:`request_waiting`), or
        bytes of it already read are (read ahead by the previous request's thread); until then the poller
        watches it, for :data:`HEAD_SECONDS` at most. Over TLS the bytes cannot be looked at: at once."""
        unreader = getattr(conn.parser, "unreader", None)
        buffered = unreader is not None and unreader.buf.getvalue()
        if self.cfg.is_ssl or conn.is_http2 or buffered or request_waiting(conn.sock):
            self.heading.pop(conn, None)
            super().enqueue_req(conn)
            return
        self.heading.setdefault(conn, time.monotonic() + HEAD_SECONDS)
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._more_of_request, conn))

    def handle_error(self, req, client, addr, exc) -> None:
        """gunicorn's answer to a request it cannot read, but a 408 (no 500 and traceback) for a slow one."""
        if not isinstance(exc, BodyTimeout):
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Request from %s timed out: %s", (addr or ("",))[0], exc)
        with suppress(OSError):
            write_error(client, 408, "Request Timeout", str(exc))

    def _more_of_request(self, conn: TConn, sock) -> None:
        self.poller.unregister(sock)
        self.enqueue_req(conn)

    def _close_late_heads(self) -> None:
        now = time.monotonic()
        for conn in [c for c, deadline in self.heading.items() if deadline <= now]:
            del self.heading[conn]
            with suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            conn.close()
