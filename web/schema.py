"""Create or upgrade the database schema with the Alembic migrations in ``migrations/``."""

from __future__ import annotations

from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import text

from . import PROJECT_ROOT
from .extensions import db

#: Any fixed number: PostgreSQL advisory lock so that several app processes upgrade one at a time.
LOCK_ID = 48_120_301


def alembic_config() -> Config:
    """Alembic configuration pointing at the project's ``migrations/`` folder."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
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


def upgrade(app: Flask, revision: str = "head") -> None:
    """Bring the app's database to ``revision`` in one transaction (one process at a time)."""
    with app.app_context():
        engine = db.engine
        sqlite_file = engine.url.database if engine.dialect.name == "sqlite" else None
        with _file_lock(sqlite_file), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": LOCK_ID})
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
