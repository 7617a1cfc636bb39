"""``matcher db dump`` / ``matcher db restore``: every row round-trips between SQLite and PostgreSQL.

A populated database (leads with assessments, notes, evidence, two weights versions, settings, audit
entries, a batch job, users with password and token hashes) is dumped, restored into a fresh database
of the other kind, dumped again and restored back; every table is compared row by row each time.
Damaged dumps give one clear line and exit status 3, and change nothing.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from matcher.cli import main
from web import create_app, dbtools, ranks, services, versions
from web.extensions import db
from web.models import BatchJob, Lead, ReportLink, User, token_digest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")  # as conftest


@pytest.fixture
def fresh_db(db_url, tmp_path):
    """Factory: ``fresh_db(kind)`` an empty database URL of ``kind`` ("sqlite", "postgresql" or "other")."""
    source = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    schemas: list[str] = []
    made = iter(range(100))
    engine = create_engine(PG_URL)

    def make(kind: str) -> str:
        kind = {"other": "postgresql" if source == "sqlite" else "sqlite", "same": source}.get(kind, kind)
        name = f"restore{next(made)}"
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite')}"
        schemas.append(f"web_test_{os.getpid()}_{name}")
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schemas[-1]}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{schemas[-1]}"'))
        return f"{PG_URL}?options=-csearch_path%3D{schemas[-1]}"

    yield make
    with engine.begin() as connection:
        for schema in schemas:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def populated(app, make_lead, auth, client):
    """Rows in every table: leads, assessments, notes, evidence, 2 weights versions, settings, audit, a job, ranks."""
    ids = [
        make_lead(name="Волга Роботикс", tech_transfer="committed", extra_column="kept ✓"),
        make_lead(name="Hà Nội Green Tech", okved="38.32", green="committed", description=None),
        make_lead(name="NordChip", okved="26.11", investment_usd=""),
    ]
    auth.login("admin")
    client.post(f"/leads/{ids[0]}/status", data={"status-status": "meeting"})
    client.post(f"/leads/{ids[0]}/notes", data={"note-body": "Встреча в Ханое; «договор» next week"})
    client.post(
        f"/leads/{ids[0]}/evidence/training",
        data={"ev-training-status": "verified", "ev-training-note": "Contract seen"},
    )
    with app.app_context():
        admin = db.session.execute(select(User).filter_by(username="admin")).scalar_one()
        weights = versions.current_version().weights
        versions.save_version({**weights, "criteria": {**weights["criteria"], "green": 25.0}}, "green first", admin)
        versions.set_setting("unverified_factor", 0.75)
        versions.set_setting("top_k", 7)
        services.issue_token(admin)
        db.session.add(
            BatchJob(
                user_id=admin.id,
                filename="firms.csv",
                state="done",
                rows=10,
                scored=9,
                errors=1,
                progress=1.0,
                message=None,
                attempts=1,
                worker="w1",
            )
        )
        first = db.session.get(Lead, ids[0])
        db.session.add(ReportLink(token_hash=token_digest("a firm's report"), lead=first, assessment=first.latest))
        db.session.commit()
        services.rescore(list(db.session.execute(select(Lead)).scalars()))
        db.session.commit()
    ranks.wait()  # the stored ranks (a table too) are computed in the background: done before any snapshot
    return app.config["SQLALCHEMY_DATABASE_URI"]


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order, as Python values."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t.name: [tuple(row) for row in connection.execute(select(t).order_by(*t.primary_key.columns))]
                for t in dbtools.tables()
            }
    finally:
        engine.dispose()


def run(*args: str) -> int:
    return main(["db", *args])


def test_round_trip_sqlite_postgresql_and_back(populated, fresh_db, tmp_path, capsys):
    before = snapshot(populated)
    assert all(
        before[name]
        for name in (
            "users",
            "leads",
            "assessments",
            "notes",
            "evidence",
            "audit_log",
            "settings",
            "batch_jobs",
            "weights_versions",
            "report_links",
        )
    )
    assert len(before["weights_versions"]) == 2 and len(before["assessments"]) == 6

    other, back = fresh_db("other"), fresh_db("same")
    assert run("dump", str(tmp_path / "one.jsonl.gz"), "--database-url", populated) == 0
    assert "dumped" in capsys.readouterr().err
    assert run("restore", str(tmp_path / "one.jsonl.gz"), "--database-url", other) == 0
    assert snapshot(other) == before
    assert run("dump", str(tmp_path / "two.jsonl.gz"), "--database-url", other) == 0
    assert run("restore", str(tmp_path / "two.jsonl.gz"), "--database-url", back) == 0
    assert snapshot(back) == before
    one, two = (
        gzip.decompress((tmp_path / n).read_bytes()).decode("utf-8").splitlines()
        for n in ("one.jsonl.gz", "two.jsonl.gz")
    )
    assert one[1:] == two[1:]  # the same rows, written the same way, whichever database they came from
    assert json.loads(one[0])["alembic_revision"] == dbtools.head_revision()

    for url in (other, back):
        _restored_database_works(url, before)


def _restored_database_works(url: str, before: dict) -> None:
    """Logins, tokens and new rows work on a restored database (sequences are past the restored ids)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        client = app.test_client()
        assert client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"}).status_code == 302
        assert "Волга Роботикс" in client.get("/leads").get_data(as_text=True)
        with app.app_context():
            profile = {"name": "New after restore"}
            lead = services.create_lead(profile, services.score(profile), "api")
            db.session.commit()
            assert lead.id == max(row[0] for row in before["leads"]) + 1
            assert lead.latest.id == max(row[0] for row in before["assessments"]) + 1
            assert versions.current_version().reason == "green first"
    finally:
        ranks.wait()  # the new lead's background ranking ends before the engine goes
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_non_empty_database_needs_replace_and_replace_is_all_or_nothing(populated, tmp_path, capsys):
    before = snapshot(populated)
    dump = tmp_path / "dump.jsonl.gz"
    assert run("dump", str(dump), "--database-url", populated) == 0
    capsys.readouterr()
    assert run("restore", str(dump), "--database-url", populated) == 3
    err = capsys.readouterr().err
    assert "is not empty (" in err and "leads: 3" in err and "--replace" in err

    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(dump.read_bytes()[: len(dump.read_bytes()) * 2 // 3])
    assert run("restore", str(cut), "--replace", "--database-url", populated) == 3
    assert "damaged or truncated" in capsys.readouterr().err
    assert snapshot(populated) == before  # the deletes were rolled back with the rest

    assert run("restore", str(dump), "--replace", "--database-url", populated) == 0
    assert snapshot(populated) == before


@pytest.fixture(scope="module")
def good_dump(tmp_path_factory) -> bytes:
    """A small valid dump (of SQLite), as bytes to damage."""
    folder = tmp_path_factory.mktemp("dump")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'db.sqlite'}"})
    with app.app_context():
        for name in ("A", "B"):
            services.create_lead({"name": name}, services.score({"name": name}), "api")
        db.session.commit()
        dbtools.dump(folder / "dump.jsonl.gz")
        ranks.wait()
        db.session.remove()
        db.engine.dispose()
    return (folder / "dump.jsonl.gz").read_bytes()


def _lines(data: bytes) -> list[str]:
    return gzip.decompress(data).decode().splitlines()


def _pack(lines: list[str]) -> bytes:
    return gzip.compress(("\n".join(lines) + "\n").encode())


def _header(data: bytes, **changes) -> bytes:
    lines = _lines(data)
    return _pack([json.dumps({**json.loads(lines[0]), **changes}), *lines[1:]])


DAMAGE = {
    "truncated gzip": (lambda d: d[: len(d) // 2], "the file is damaged or truncated"),
    "flipped byte": (lambda d: d[:40] + bytes([d[40] ^ 0xFF]) + d[41:], "the file is damaged"),
    "not a dump": (lambda d: b"id,name\n1,ACME\n", "is not valid JSON"),
    "empty file": (lambda d: b"", "not a matcher dump"),
    "no closing line": (lambda d: _pack(_lines(d)[:-1]), "the dump is incomplete"),
    "short row": (
        lambda d: _pack(
            [
                (line[:-1] + "]" if line.startswith("[1,") and '"A"' in line else line).replace(',"A",', ",")
                for line in _lines(d)
            ]
        ),
        "values for the",
    ),
    "other revision": (lambda d: _header(d, alembic_revision="0002"), "the dump is of schema revision 0002"),
    "newer format": (lambda d: _header(d, format_version=99), "written by a newer matcher"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_dump_is_one_clear_line_and_restores_nothing(damage, good_dump, db_url, tmp_path, capsys):
    mangle, expected = DAMAGE[damage]
    path = tmp_path / "damaged.jsonl.gz"
    path.write_bytes(mangle(good_dump))
    assert run("restore", str(path), "--database-url", db_url) == 3
    err = capsys.readouterr().err
    assert err.startswith("matcher: error: ") and err.count("\n") == 1, err
    assert expected in err and "Traceback" not in err
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            has_leads = connection.dialect.has_table(connection, "leads")
            assert not has_leads or connection.execute(text("SELECT count(*) FROM leads")).scalar_one() == 0
    finally:
        engine.dispose()


def test_command_line_error_without_traceback(tmp_path):
    """As a user runs it: a truncated dump is one line on stderr and exit status 3, and no database is made."""
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(b'{"format": "hanoi-matcher-dump"')[:20])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher.cli",
            "db",
            "restore",
            "cut.jsonl.gz",
            "--database-url",
            f"sqlite:///{tmp_path / 'new.sqlite'}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr.startswith("matcher: error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "cut.jsonl.gz: the file is damaged or truncated" in done.stderr
    assert not (tmp_path / "new.sqlite").exists()


def test_dump_of_a_missing_database_file(tmp_path, capsys):
    missing = tmp_path / "missing.sqlite"
    assert run("dump", str(tmp_path / "out.jsonl.gz"), "--database-url", f"sqlite:///{missing}") == 3
    assert capsys.readouterr().err == f"matcher: error: no database file at {missing}\n"
    assert not missing.exists() and not (tmp_path / "out.jsonl.gz").exists()
