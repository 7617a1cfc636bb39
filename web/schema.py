"""Create or upgrade the database schema with the Alembic migrations in ``web/migrations/``."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from importlib.resources import files

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import text

from .extensions import db

#: Any fixed number: PostgreSQL advisory lock so that several app processes upgrade one at a time.
LOCK_ID = 48_120_301


def alembic_config() -> Config:
    """Alembic configuration pointing at the ``migrations/`` folder inside this package."""
    config = Config()
    config.set_main_option("script_location", str(files(__package__) / "migrations"))
    return config


@contextmanager
def _file_lock(database: str | None):
    """Hold an exclusive lock beside a SQLite file, so app processes starting together upgrade in turn."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover -- not on POSIX: no lock
        fcntl = None
    if fcntl is None or not database or database == ":memory:":
        yield
        return
    with open(database + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade(app: Flask, revision: str = "head", then: Callable[[], None] | None = None) -> None:
    """Bring the app's database to ``revision`` in one transaction, then run ``then``.

    Both steps run under one lock (a file beside a SQLite database, a session advisory lock
    on PostgreSQL), so app processes starting together do them one at a time: the second
    finds the schema and whatever ``then`` created (weights version 1) already there.
    """
    with app.app_context():
        engine = db.engine
        sqlite_file = engine.url.database if engine.dialect.name == "sqlite" else None
        postgres = engine.dialect.name == "postgresql"
        with _file_lock(sqlite_file), engine.connect() as lock:
            if postgres:
                lock.execute(text("SELECT pg_advisory_lock(:id)"), {"id": LOCK_ID})
                lock.commit()
            try:
                with engine.begin() as connection:
                    config = alembic_config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                if then is not None:
                    then()
            finally:
                if postgres:
                    lock.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": LOCK_ID})
                    lock.commit()
