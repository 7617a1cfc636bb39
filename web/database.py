"""Database connections that never wait forever: connect, statement, pool and busy timeouts.

A database that accepts connections but never answers (a hung server, a network path that drops
packets, a proxy that stalls) used to freeze every request thread that touched it, and the worker
stayed stuck after the database came back. Here every wait is bounded:

- connecting: ``DB_CONNECT_TIMEOUT`` seconds (libpq's ``connect_timeout``);
- a statement on a server that answers: ``DB_STATEMENT_TIMEOUT`` seconds (PostgreSQL's own
  ``statement_timeout``, and ``lock_timeout``), so the server cancels it and says so;
- a statement on a server that does not answer at all: a watchdog thread shuts down the socket
  of a statement that has run ``DB_STATEMENT_TIMEOUT`` + ``DB_WATCHDOG_GRACE`` seconds. psycopg
  then fails at once with a connection error, SQLAlchemy throws the connection away, the request
  gets the usual 503 page, and the next request opens a fresh connection (recovery without a restart);
- COMMIT, ROLLBACK and the pool's reset of a returned connection: the same limit, the same watchdog;
- the check of a pooled connection before use (the "pre-ping"): ``DB_PING_TIMEOUT`` seconds, by the
  same watchdog;
- a free connection in the pool: ``DB_POOL_TIMEOUT`` seconds;
- SQLite: ``DB_BUSY_TIMEOUT`` seconds waiting on a lock held by another process.

All are app config, so ``MATCHER_DB_*`` environment variables set them.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url

DEFAULTS = {
    "DB_CONNECT_TIMEOUT": 4.0,
    "DB_PING_TIMEOUT": 2.0,
    "DB_STATEMENT_TIMEOUT": 15.0,
    "DB_WATCHDOG_GRACE": 2.0,
    "DB_POOL_TIMEOUT": 5.0,
    "DB_BUSY_TIMEOUT": 5.0,
}


def _seconds(app: Flask, key: str) -> float:
    """A timeout from the config, as a positive number of seconds (a bad value names its key)."""
    value = app.config.get(key, DEFAULTS[key])
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} = {value!r} is not a number of seconds") from None
    if not 0 < seconds < 86400:
        raise ValueError(f"{key} = {value!r} must be more than 0 and less than a day (seconds)")
    return seconds


def engine_options(app: Flask, url: str) -> dict:
    """SQLAlchemy engine options for ``url`` with every timeout set (merged under the app's own)."""
    options: dict = {"pool_pre_ping": False}  # pre-ping is done by `_ping` below, under the watchdog
    if url.startswith("postgresql"):
        statement_ms = int(_seconds(app, "DB_STATEMENT_TIMEOUT") * 1000)
        server = (
            f"-c statement_timeout={statement_ms} -c lock_timeout={statement_ms} "
            f"-c idle_in_transaction_session_timeout={max(60000, 4 * statement_ms)}"
        )
        given = make_url(url).query.get("options")  # e.g. a search_path in the URL: keep it
        if isinstance(given, tuple):
            given = " ".join(given)
        options["connect_args"] = {
            "connect_timeout": max(2, round(_seconds(app, "DB_CONNECT_TIMEOUT"))),
            "options": f"{given} {server}" if given else server,
            # the kernel notices a peer that vanished without closing (no FIN) within about a minute
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    elif url.startswith("sqlite"):
        options["connect_args"] = {"timeout": _seconds(app, "DB_BUSY_TIMEOUT")}
    if not url.startswith("sqlite") or url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        options["pool_timeout"] = _seconds(app, "DB_POOL_TIMEOUT")  # QueuePool: PostgreSQL and SQLite files
    return options


class Watchdog:
    """One thread that shuts down the sockets of database calls past their deadline.

    ``with watchdog.watch(fileno, seconds):`` around a call; a call that ends in time costs a heap
    push and a dict delete. A call that does not end has its socket shut down (not closed: the
    driver still owns the descriptor), so the blocked read returns at once with an error.
    """

    def __init__(self, tick: float = 0.25) -> None:
        self._tick = tick
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, tuple[int, int]] = {}  # watch id -> (fileno, inode)
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None
        self.fired = 0

    def start(self, fileno: int | None, seconds: float) -> int | None:
        """Watch ``fileno`` for ``seconds``; returns the id to :meth:`stop` it with (None: nothing to watch)."""
        if fileno is None or fileno < 0:
            return None
        try:
            inode = os.fstat(fileno).st_ino  # fired later, the descriptor must still be this socket
        except OSError:
            return None
        watch_id = next(self._ids)
        with self._lock:
            self._live[watch_id] = (fileno, inode)
            heapq.heappush(self._heap, (time.monotonic() + seconds, watch_id))
            self._start()
        return watch_id

    def stop(self, watch_id: int | None) -> None:
        """The watched call ended in time."""
        if watch_id is not None:
            with self._lock:
                self._live.pop(watch_id, None)

    @contextmanager
    def watch(self, fileno: int | None, seconds: float):
        """``with watchdog.watch(fileno, seconds):`` around one call."""
        watch_id = self.start(fileno, seconds)
        try:
            yield
        finally:
            self.stop(watch_id)

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="db-watchdog", daemon=True)
            self._thread.start()

    def _expired(self) -> list[tuple[int, int]]:
        now = time.monotonic()
        due = []
        with self._lock:
            while self._heap and (self._heap[0][0] <= now or self._heap[0][1] not in self._live):
                _deadline, watch_id = heapq.heappop(self._heap)
                watched = self._live.pop(watch_id, None)
                if watched is not None:
                    due.append(watched)
        return due

    def _run(self) -> None:
        while True:
            for fileno, inode in self._expired():
                self.fired += 1
                _shutdown(fileno, inode)
            time.sleep(self._tick)


def _shutdown(fileno: int, inode: int) -> None:
    """Shut down the socket behind ``fileno`` without closing the descriptor its owner holds."""
    try:
        if os.fstat(fileno).st_ino != inode:
            return  # closed meanwhile and the number reused: not the socket we watched
        sock = socket.socket(fileno=fileno)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # already shut down by its peer: nothing left to do
            sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.detach()


WATCHDOG = Watchdog()
_WATCH = "matcher_watch"  # key of the running statement's watch in a connection's info


def _fileno(dbapi_connection) -> int | None:
    """The socket of a psycopg connection (None for drivers without one, e.g. SQLite)."""
    try:
        return dbapi_connection.fileno()
    except Exception:  # noqa: BLE001 -- closed or broken: nothing to watch
        return None


def install(app: Flask, engine: Engine) -> None:
    """Watch every statement and every pre-use check of ``engine``'s PostgreSQL connections."""
    if engine.dialect.name != "postgresql":
        return  # SQLite answers from a local file: its waits are the busy timeout
    limit = _seconds(app, "DB_STATEMENT_TIMEOUT") + _seconds(app, "DB_WATCHDOG_GRACE")
    ping_limit = _seconds(app, "DB_PING_TIMEOUT")

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        info = conn.info  # one dict per pooled DBAPI connection
        WATCHDOG.stop(info.pop(_WATCH, None))
        info[_WATCH] = WATCHDOG.start(_fileno(conn.connection.dbapi_connection), limit)
        if not info.get(_WROTE) and statement.lstrip()[:6].upper() != "SELECT":
            info[_WROTE] = True  # anything but a SELECT may have written (see _end_read_only)

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        WATCHDOG.stop(conn.info.pop(_WATCH, None))

    @event.listens_for(engine, "handle_error")
    def _error(context):
        conn = context.connection
        if conn is None or conn.closed or conn.invalidated:
            return  # a watch left behind fires harmlessly: it checks the socket is still the one it watched
        with contextlib.suppress(exc.SQLAlchemyError):  # the connection broke with this very error
            WATCHDOG.stop(conn.info.pop(_WATCH, None))

    def _watch_transaction_end(conn):
        """COMMIT and ROLLBACK are no cursor calls: watched until the next statement or the check-in."""
        if conn.invalidated:
            return  # a broken connection's rollback sends nothing
        with contextlib.suppress(exc.SQLAlchemyError):  # broken meanwhile: nothing will be sent
            WATCHDOG.stop(conn.info.pop(_WATCH, None))
            conn.info[_WATCH] = WATCHDOG.start(_fileno(conn.connection.dbapi_connection), limit)

    event.listen(engine, "commit", _watch_transaction_end)
    event.listen(engine, "rollback", _watch_transaction_end)
    event.listen(engine, "begin", _note_begin)
    event.listen(engine, "rollback", _end_read_only)  # after the watch of the rollback: the commit is watched

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection, connection_record, reset_state):
        """The pool's rollback of a returned connection, watched until check-in."""
        WATCHDOG.stop(connection_record.info.pop(_WATCH, None))
        connection_record.info[_WATCH] = WATCHDOG.start(_fileno(dbapi_connection), limit)

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, connection_record):
        WATCHDOG.stop(connection_record.info.pop(_WATCH, None))

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, connection_record, connection_proxy):
        """SQLAlchemy's documented pessimistic ping, with a deadline: a dead or hung connection is
        replaced by a fresh one (``DisconnectionError`` makes the pool retry)."""
        with WATCHDOG.watch(_fileno(dbapi_connection), ping_limit):
            try:
                autocommit = dbapi_connection.autocommit
                dbapi_connection.autocommit = True  # the check must leave no transaction open
                try:
                    with dbapi_connection.cursor() as cursor:
                        cursor.execute("SELECT 1")
                finally:
                    dbapi_connection.autocommit = autocommit
            except Exception as error:  # noqa: BLE001 -- any failure means: throw this connection away
                raise exc.DisconnectionError(f"database connection failed its check: {error}") from error


_WROTE = "matcher_wrote"  # key in a connection's info: its transaction ran a statement other than a SELECT
_IN_TRANSACTION = 2  # psycopg.pq.TransactionStatus.INTRANS: in a transaction that has not failed


def _note_begin(conn) -> None:
    conn.info[_WROTE] = False


def _end_read_only(conn) -> None:
    """A transaction that ran SELECTs only is ended with COMMIT rather than the ROLLBACK asked for (the same
    for a transaction that wrote nothing; the rollback that follows finds no transaction and sends nothing).

    psycopg forgets its prepared statements on every ROLLBACK, and every request ends with one: so it never
    prepared any, and PostgreSQL parsed and planned each statement of every request anew. A read-only
    request ending with COMMIT keeps them: the lead list's statements, run prepared, cost the database
    half the CPU. A transaction that failed (or whose connection broke) is rolled back as asked.
    """
    if conn.invalidated:
        return  # a broken connection's rollback sends nothing
    try:
        if conn.info.get(_WROTE, True):
            return
        dbapi_connection = conn.connection.dbapi_connection
        if dbapi_connection.info.transaction_status == _IN_TRANSACTION:
            dbapi_connection.commit()
    except Exception:  # noqa: BLE001 -- the rollback that follows ends the transaction, or finds the connection broken
        return


def check_database() -> str:
    """``ok`` if the app's database answers ``SELECT 1`` within its timeouts, else ``unreachable``."""
    from flask import current_app
    from sqlalchemy import text

    from .extensions import db

    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as error:  # noqa: BLE001 -- any failure means: not ready; the reason goes to the log
        current_app.logger.warning(
            "readiness: database unreachable: %s", str(error).splitlines()[0] if str(error) else type(error).__name__
        )
        return "unreachable"
