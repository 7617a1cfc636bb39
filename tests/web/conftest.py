"""Fixtures of the web tests: ``app`` on SQLite and on PostgreSQL, ``client``, ``runner``, ``auth``.

The PostgreSQL database is 127.0.0.1:5432/test. The tests use a schema of their own (dropped
and re-created for each test), so they never touch other tables there. An unreachable server
fails the PostgreSQL tests: they are not skipped.
"""

from __future__ import annotations

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `web` is a top-level package of the repository
    sys.path.insert(0, str(ROOT))

from web import create_app, dispatch, ranks  # noqa: E402
from web.extensions import db  # noqa: E402
from web.services import create_lead, create_user, score  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = f"web_test_{os.getpid()}"
PASSWORDS = {"admin": "admin-pass-123", "analyst": "analyst-pass-123"}


def _pg_fresh_schema() -> str:
    """Drop and re-create this run's schema; return a URL whose search_path is that schema."""
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schema():
    yield
    if "postgresql" in PG_URL:
        try:
            engine = create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            engine.dispose()
        except Exception:  # noqa: BLE001 -- the tests themselves already reported a dead server
            pass


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'web.sqlite'}"
    return _pg_fresh_schema()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file at the schema's head revision and nothing else, migrated once per test process: a
    test's fresh SQLite database starts as a copy of it (0.04 s) instead of being migrated (0.12 s)."""
    from alembic import command

    from web.schema import alembic_config

    path = tmp_path_factory.mktemp("migrated") / "head.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()
    return path


@pytest.fixture
def make_app(db_url, tmp_path, migrated_sqlite):
    """Factory: an app on the test database with ``**overrides`` in its config.

    A SQLite database that does not exist yet starts as a copy of :func:`migrated_sqlite`, the schema the
    app would create (the app then finds nothing to upgrade and adds weights version 1 from its own
    sectors file), unless the test turns the upgrade off or names a database of its own.
    """
    apps = []

    def make(users=True, **overrides):
        if (
            db_url.startswith("sqlite:///")
            and overrides.get("AUTO_UPGRADE", True)
            and "SQLALCHEMY_DATABASE_URI" not in overrides
            and not Path(db_url.removeprefix("sqlite:///")).exists()
        ):
            shutil.copyfile(migrated_sqlite, db_url.removeprefix("sqlite:///"))
        config = {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "WTF_CSRF_ENABLED": False,
            "BATCH_DIR": str(tmp_path / "batch"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "REDIS_URL": None,
            # rate limits stay on but high (the suite logs in and assesses often); a test of its own
            # sets low ones. In-memory counts, even when REDIS_URL is set in the environment.
            "RATELIMIT_STORAGE_URI": "memory://",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
            "ASSESS_RATE_LIMIT": "1000 per minute",
            "RANKS_MIN_INTERVAL": 0,  # new leads ranked at once, not gathered for a few seconds
            "LEADS_COUNT_SECONDS": 0,  # the list's total counted on every request
            # A pooled connection's check before use may wait on a busy machine (two test processes,
            # a background import): 2 s made requests fail with 503 there. The outage tests set
            # their own short limits.
            "DB_PING_TIMEOUT": 10.0,
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        if users:
            with app.app_context():
                create_user("admin@example.org", "admin", PASSWORDS["admin"], "admin")
                create_user("analyst@example.org", "analyst", PASSWORDS["analyst"], "analyst")
                db.session.commit()
        return app

    yield make
    # the batch runs and rank computations of this test end before its database goes: one still running
    # would keep a connection of the disposed engine that nothing closes (a ResourceWarning, later)
    try:
        dispatch.wait()
        ranks.wait()
    finally:  # the engines go even when a background run failed
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def migration():
    """``with migration(app) as (connection, config):`` Alembic's config on one connection of ``app``'s database.

    The app's background rank computations end first: one still reading the leads while a downgrade drops
    ``lead_ranks`` deadlocks on PostgreSQL (each waits for a lock the other holds).
    """
    from web.schema import alembic_config

    @contextmanager
    def open_(app):
        ranks.wait()
        with app.app_context(), db.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            yield connection, config

    return open_


@pytest.fixture
def app(make_app):
    """The app with an admin and an analyst account, and no leads."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Log in and out through the real pages."""

    def __init__(self, client):
        self._client = client

    def login(self, username="analyst", password=None):
        return self._client.post(
            "/login", data={"username": username, "password": password or PASSWORDS.get(username, "")}
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


PROFILE = {
    "name": "Volga Robotics",
    "description": "Industrial robots and automation lines",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": "2m",
    "city": "Kazan",
}


@pytest.fixture
def headers(app):
    """``Authorization: Bearer`` headers of a fresh API token of the analyst."""
    from web.models import User
    from web.services import issue_token

    with app.app_context():
        token = issue_token(db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one())
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_lead(app):
    """Factory: ``make_lead(**fields)`` stores a scored lead and returns its id."""

    def make(source="assess", status=None, **fields):
        profile = {**PROFILE, **fields}
        with app.app_context():
            lead = create_lead(profile, score(profile), source, consent=True)
            if status:
                lead.status = status
            db.session.commit()
            return lead.id

    return make


# --- a real browser and a live server for the browser tests ------------------------------------------

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium, driven by Playwright
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def in_browser():
    """``in_browser(fn)`` calls ``fn(browser)`` on the one thread that drives chromium and returns its result.

    Playwright's sync API belongs to the thread that started it; a thread of its own lets these
    tests run beside ``test_browser.py``'s main-thread Playwright in one session.
    """
    from concurrent.futures import ThreadPoolExecutor

    from playwright.sync_api import sync_playwright

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
    state = {}

    def start():
        state["playwright"] = sync_playwright().start()
        state["browser"] = state["playwright"].chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)

    def stop():
        state["browser"].close()
        state["playwright"].stop()

    pool.submit(start).result()
    try:
        yield lambda fn: pool.submit(fn, state["browser"]).result()
    finally:
        pool.submit(stop).result()
        pool.shutdown()


@pytest.fixture(scope="session")
def serving():
    """``with serving(app) as base_url:`` serves ``app`` on a random port of 127.0.0.1 for the block."""
    return _serving


@contextmanager
def _serving(app):
    """Serve ``app`` on a random port of 127.0.0.1 for the ``with`` block; yields the base URL."""
    import gc
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        gc.collect()
