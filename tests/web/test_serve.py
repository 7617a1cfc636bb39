"""``matcher serve``: upgrades the database, loads the samples, creates the admin once, then serves."""

import threading

from flask import Flask

from matcher.cli import main
from web import create_app


def test_serve_first_start_and_restart(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(Flask, "run", lambda self, **kw: calls.append(kw))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.sqlite'}")
    monkeypatch.delenv("MATCHER_ADMIN_PASSWORD", raising=False)
    assert main(["serve", "--port", "5999"]) == 0
    err = capsys.readouterr().err
    assert "sample leads" in err and "user 'admin', password " in err
    assert calls == [{"host": "127.0.0.1", "port": 5999, "debug": False, "use_reloader": False, "threaded": True}]
    assert main(["serve"]) == 0  # second start: nothing loaded, no password printed
    err = capsys.readouterr().err
    assert "password" not in err and "sample leads" not in err
    assert calls[-1]["port"] == 5000


def test_app_processes_starting_together_upgrade_in_turn(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    errors = []

    def start():
        try:
            create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        except Exception as exc:  # noqa: BLE001 -- collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
