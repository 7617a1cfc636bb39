"""The database going away: a clear 503 (HTML in the user's language, JSON under /api/), nothing half-saved,
and the app recovers by itself when the database is back.

PostgreSQL runs behind a small TCP proxy the test can cut (every connection dropped, new ones refused)
and restore. SQLite's outage is its file locked by another process (a long write or a backup) past the
busy timeout.
"""

from __future__ import annotations

import contextlib
import select
import socket
import sqlite3
import threading
import time
from urllib.parse import urlsplit

import pytest

from web import services
from web.extensions import db
from web.models import AuditLog, Lead, User

MESSAGE = "The database is not reachable right now. Nothing was saved from this request."


class CuttableProxy:
    """A TCP proxy on 127.0.0.1 to ``target`` that a test can cut and restore.

    Cut: every open connection is shut down and new ones are closed as soon as they arrive (what
    a client sees when the database server restarts or the network drops). Restore: new
    connections go through again. Hang (``hung = True``): connections stay open but nothing is
    forwarded either way, and new ones are accepted and then ignored (a server that never answers).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = True
        self.hung = False
        self._held: list[socket.socket] = []
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            if self.hung:
                self._held.append(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.add((client, upstream))
            thread = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        other = {client: upstream, upstream: client}
        try:
            while not self._closed.is_set():
                if self.hung:
                    time.sleep(0.05)
                    continue
                readable, _w, _x = select.select([client, upstream], [], [], 0.5)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    other[sock].sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._pairs.discard((client, upstream))
            client.close()
            upstream.close()

    def cut(self) -> None:
        """Drop every connection and refuse new ones; returns once the connections are closed."""
        self.up = False
        with self._lock:
            pairs = list(self._pairs)
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        while self._pairs and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not self._pairs, "the proxy could not drop its connections"

    def restore(self) -> None:
        """Let new connections through again."""
        self.up = True

    def close(self) -> None:
        self.hung = False
        for sock in self._held:
            sock.close()
        self.cut()
        self._closed.set()
        for thread in self._threads:
            thread.join(5)
        self._listener.close()


class SQLiteLock:
    """Another process holding an exclusive lock on the SQLite file: readers and writers wait, then fail."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._connection: sqlite3.Connection | None = None

    def cut(self) -> None:
        self._connection = sqlite3.connect(self.path, isolation_level=None)
        self._connection.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        if self._connection is not None:
            self._connection.execute("ROLLBACK")
            self._connection.close()
            self._connection = None

    close = restore


@pytest.fixture
def outage(db_url, make_app):
    """(app, database outage switch): the app's database can be cut and restored by the test."""
    if db_url.startswith("sqlite"):
        switch = SQLiteLock(db_url.removeprefix("sqlite:///"))
        # a short busy timeout, so a locked file fails a request in 0.3 s instead of 5 s
        app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "connect_args": {"timeout": 0.3}})
    else:
        target = urlsplit(db_url)
        switch = CuttableProxy((target.hostname, target.port or 5432))
        app = make_app(
            SQLALCHEMY_DATABASE_URI=db_url.replace(target.netloc.split("@")[-1], f"127.0.0.1:{switch.port}", 1)
        )
    yield app, switch
    switch.close()


@pytest.fixture
def staff(outage):
    """A logged-in admin client, an API token and a lead, all made while the database is up."""
    app, _switch = outage
    profile = {"name": "Volga Robotics", "okved": "28.99", "training": "committed"}
    with app.app_context():
        lead_id = services.create_lead(profile, services.score(profile), "assess").id
        token = services.issue_token(db.session.execute(db.select(User).filter_by(username="admin")).scalar_one())
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "admin-pass-123"})
    assert client.get("/leads").status_code == 200  # the pool holds live connections now
    return client, token, lead_id


def lead_state(app, lead_id: int) -> tuple:
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        audits = db.session.execute(db.select(db.func.count(AuditLog.id))).scalar_one()
        return lead.status, lead.row_version, audits


def test_outage_gives_503_then_the_app_recovers(outage, staff):
    app, switch = outage
    client, token, lead_id = staff
    before = lead_state(app, lead_id)
    switch.cut()
    page = client.get("/leads")
    html = page.get_data(as_text=True)
    assert page.status_code == 503 and MESSAGE in html and "Traceback" not in html
    assert page.headers["Retry-After"] == "60" and "503 · Database unavailable" in html
    saved = client.post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": "1"})
    assert saved.status_code == 503 and MESSAGE in saved.get_data(as_text=True)
    page = client.get(f"/leads/{lead_id}?lang=ru")  # the page speaks the session's language from now on
    assert page.status_code == 503 and '<html lang="ru">' in page.get_data(as_text=True)
    answer = client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"})  # the API stays English
    assert answer.status_code == 503 and answer.is_json and answer.json["error"].startswith(MESSAGE)

    switch.restore()  # no restart, no new app: the next request just works, still logged in
    page = client.get("/leads")
    assert page.status_code == 200 and "Volga Robotics" in page.get_data(as_text=True)
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).json["total"] == 1
    assert lead_state(app, lead_id) == before  # nothing of the refused save was stored
    assert client.post(f"/leads/{lead_id}/status", data={"status-status": "meeting"}).status_code == 302
    assert lead_state(app, lead_id)[0] == "meeting"


def test_outage_in_the_middle_of_a_save(outage, staff, monkeypatch):
    """The database goes away after the lead was read, before the change is written: 503, nothing saved."""
    app, switch = outage
    client, _token, lead_id = staff
    before = lead_state(app, lead_id)
    original = services.set_status

    def set_status_as_the_database_goes(lead, status):
        switch.cut()
        return original(lead, status)

    monkeypatch.setattr(services, "set_status", set_status_as_the_database_goes)
    saved = client.post(f"/leads/{lead_id}/status", data={"status-status": "meeting", "row_version": "1"})
    assert saved.status_code == 503 and MESSAGE in saved.get_data(as_text=True)
    switch.restore()
    assert lead_state(app, lead_id) == before
    assert client.get(f"/leads/{lead_id}").status_code == 200


def test_a_restart_between_requests_goes_unnoticed(outage, staff):
    """The pre-use check: connections that died while nobody asked are replaced before use, not failed on."""
    app, switch = outage
    client, _token, lead_id = staff
    switch.cut()
    switch.restore()
    assert client.get(f"/leads/{lead_id}").status_code == 200


def test_other_database_errors_stay_500(make_app):
    """Only an unreachable database is a 503: a bug in a query is still a server error."""
    from sqlalchemy import text

    app = make_app(PROPAGATE_EXCEPTIONS=False)

    def bad_query():
        return str(db.session.execute(text("SELECT no_such_column FROM leads")).all())

    app.add_url_rule("/_bad_query", "bad_query", bad_query)
    page = app.test_client().get("/_bad_query")  # SQLite calls it an OperationalError too
    assert page.status_code == 500 and MESSAGE not in page.get_data(as_text=True)
