"""How transactions end on PostgreSQL (web/database.py): one that only read ends with COMMIT, so that psycopg
keeps its prepared statements (it forgets them on every ROLLBACK); anything else is rolled back as asked."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from web.extensions import db

# PostgreSQL only (SQLite has no prepared statements to keep): run there alone, never skipped.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.fixture
def pg_app(make_app):
    return make_app()


def prepared(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def test_a_transaction_that_only_read_keeps_the_prepared_statements(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        for _ in range(6):  # psycopg prepares a statement at its fifth run
            assert conn.execute(text("SELECT 1 + :x"), {"x": 1}).scalar() == 2
            conn.rollback()
        assert prepared(conn) >= 1


def test_a_transaction_that_wrote_is_rolled_back(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        for _ in range(6):
            conn.execute(text("SELECT 1 + :x"), {"x": 1})
            conn.rollback()
        conn.execute(text("UPDATE users SET username = 'renamed' WHERE username = 'admin'"))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM users WHERE username = 'admin'")).scalar() == 1
        assert prepared(conn) == 0  # a real ROLLBACK: psycopg forgot them


def test_a_failed_transaction_is_rolled_back(pg_app):
    with pg_app.app_context(), db.engine.connect() as conn:
        with pytest.raises(exc.ProgrammingError):
            conn.execute(text("SELECT no_such_column FROM users"))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 2
