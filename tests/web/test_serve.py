"""``matcher serve``: upgrades the database, loads the samples, creates the admin once, then serves."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from matcher.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_serve_first_start_and_restart(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(Flask, "run", lambda self, **kw: calls.append(kw))
    # the instance folder (where serve keeps its secret key) in the test's own folder, not the checkout
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    monkeypatch.delenv("MATCHER_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert main(["serve", "--port", "5999"]) == 0
    assert len((tmp_path / "instance" / "secret_key").read_text().strip()) == 64  # made on first start
    err = capsys.readouterr().err
    assert "sample leads" in err and "user 'admin', password " in err
    assert calls == [{"host": "127.0.0.1", "port": 5999, "debug": False, "use_reloader": False, "threaded": True}]
    assert main(["serve"]) == 0  # second start: nothing loaded, no password printed
    err = capsys.readouterr().err
    assert "password" not in err and "sample leads" not in err
    assert calls[-1]["port"] == 5000


def test_app_processes_starting_together_upgrade_in_turn(tmp_path):
    """Four app processes start on one new database at once: each upgrades it in turn (one at a time
    under the schema lock) and every one starts. Real processes, not threads: CPython 3.11 can fail
    building ASTs in several threads at once (gh-106905), which a traceback's caret line does."""
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    code = f"from web import create_app; create_app({{'TESTING': True, 'SQLALCHEMY_DATABASE_URI': {url!r}}})"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_KEY": "test-key-for-the-race-test"}
    starts = [
        subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [start.communicate(timeout=120)[1] for start in starts]  # waits, and closes the pipes
    assert [start.returncode for start in starts] == [0, 0, 0, 0], [err[-2000:] for err in errors]


def matcher_command(*argv: str, **env: str | None) -> subprocess.CompletedProcess:
    """``python -m matcher.cli ARGV`` of this tree with ``env`` changed (None removes a variable)."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "SECRET_KEY": "test-key-for-the-cli-tests"}
    for key, value in env.items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    return subprocess.run(
        [sys.executable, "-m", "matcher.cli", *argv], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


CLOSED = "postgresql://postgres:s3cret@127.0.0.1:1/test"  # nothing listens on port 1


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (
            ["serve"],
            {"DATABASE_URL": CLOSED},
            "cannot reach the database at postgresql://postgres:***@127.0.0.1:1/test: connection refused",
        ),
        (
            ["worker", "--burst"],
            {"DATABASE_URL": CLOSED, "REDIS_URL": "redis://127.0.0.1:6379/0"},
            "cannot reach the database at postgresql://postgres:***@127.0.0.1:1/test: connection refused",
        ),
        (
            ["worker", "--burst"],
            {"REDIS_URL": None, "MATCHER_REDIS_URL": None},
            "REDIS_URL is not set: the worker needs Redis",
        ),
        (
            ["worker", "--burst"],
            {"REDIS_URL": "redis://:s3cret@127.0.0.1:1/0"},
            "cannot reach Redis at redis://:***@127.0.0.1:1/0: connection refused",
        ),
        (
            ["db", "dump", "x.jsonl.gz", "--database-url", CLOSED],
            {},
            "cannot reach the database at postgresql://postgres:***@127.0.0.1:1/test: connection refused",
        ),
    ],
    ids=["serve-no-database", "worker-no-database", "worker-no-redis-url", "worker-redis-closed", "db-no-database"],
)
def test_unreachable_service_is_one_line_and_status_5(tmp_path, argv, env, message):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite'}", "MATCHER_BATCH_DIR": str(tmp_path), **env}
    if argv[0] == "db":
        argv = [*argv[:2], str(tmp_path / argv[2]), *argv[3:]]
    proc = matcher_command(*argv, **env)
    assert proc.returncode == 5, proc.stderr[-2000:]
    assert proc.stderr.startswith("matcher: error: ") and proc.stderr.count("\n") == 1, proc.stderr[-2000:]
    assert message in proc.stderr
    assert "s3cret" not in proc.stderr and "Traceback" not in proc.stderr
