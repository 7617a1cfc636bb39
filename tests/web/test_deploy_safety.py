"""Issue 11, rows 1-3 and 7: no built-in secret key, sessions that end on logout, a hung database that
cannot freeze the app, and the login's redirect, timing and limits.
"""

from __future__ import annotations

import os
import stat
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import PASSWORDS, _pg_fresh_schema
from flask.sessions import SecureCookieSessionInterface
from test_db_outage import CuttableProxy

from web import ConfigError, create_app
from web.extensions import db
from web.models import LoginSession, User, utcnow

ROOT = Path(__file__).resolve().parents[2]


def forged_session(secret: str, user_id: str) -> str:
    """A session cookie for ``user_id`` signed with ``secret``, as an attacker who knows the key makes it."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secret,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "AUTO_UPGRADE": False,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.dumps({"_user_id": user_id, "_fresh": True})


def _bare_app(monkeypatch, tmp_path, **config):
    """The app as a production start makes it: no TESTING, no test key (environment as given)."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MATCHER_SECRET_KEY", raising=False)
    base = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.sqlite'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "BATCH_DIR": str(tmp_path / "batch"),
    }
    return base | config


# --- row 1: no built-in key ----------------------------------------------------------------------------


def test_no_secret_key_refuses_to_start(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app(_bare_app(monkeypatch, tmp_path))
    with pytest.raises(ConfigError, match="too short"):
        create_app(_bare_app(monkeypatch, tmp_path, SECRET_KEY="dev"))


def test_matcher_serve_keeps_a_random_key_in_the_instance_folder(monkeypatch, tmp_path):
    config = _bare_app(monkeypatch, tmp_path)
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    first = create_app(config, instance_key=True)
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key == key_file.read_text().strip() and len(first.secret_key) == 64
    assert first.secret_key != "dev"
    assert create_app(config, instance_key=True).secret_key == first.secret_key  # kept across restarts


def test_the_dev_cookie_opens_nothing(monkeypatch, tmp_path, make_app):
    """The attack of row 1: a cookie signed with "dev" for user 1 on the app as `matcher serve` runs it."""
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    app = make_app()  # users 1 (admin) and 2
    config = {key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "BATCH_DIR", "RATELIMIT_STORAGE_URI")}
    served = create_app(_bare_app(monkeypatch, tmp_path, **config), instance_key=True)
    for secret, user_id in (("dev", "1"), (served.secret_key, "1"), (served.secret_key, "1:not-a-session")):
        client = served.test_client()
        client.set_cookie("session", forged_session(secret, user_id))
        page = client.get("/admin/users")
        assert page.status_code == 302 and "/login" in page.headers["Location"], (secret == "dev", user_id)
    with served.app_context():
        db.session.remove()
        db.engine.dispose()


def test_flask_run_without_a_key_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "MATCHER_SECRET_KEY")}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "web", "run", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "Error: SECRET_KEY is not set" in done.stderr, done.stderr[-2000:]


# --- row 2: sessions end on logout, password change and deactivation ---------------------------------


def _logged_in(app, username="analyst", remember=True):
    client = app.test_client()
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORDS[username], **({"remember": "y"} if remember else {})},
    )
    assert answer.status_code == 302
    cookies = {
        name: client.get_cookie(name).value
        for name in ("session", "remember_token")
        if client.get_cookie(name) is not None
    }
    return client, cookies


def _with(app, **cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _in(client) -> bool:
    return client.get("/leads").status_code == 200


def test_a_copied_cookie_dies_with_logout(app):
    client, cookies = _logged_in(app)
    assert set(cookies) == {"session", "remember_token"}
    assert _in(_with(app, session=cookies["session"]))  # the copy works while the session lives
    assert _in(_with(app, remember_token=cookies["remember_token"]))
    other, _other_cookies = _logged_in(app)  # the same user in another browser
    assert client.post("/logout").status_code == 302
    assert not _in(client)
    assert not _in(_with(app, session=cookies["session"]))
    assert not _in(_with(app, remember_token=cookies["remember_token"]))
    assert not _in(_with(app, **cookies))
    assert _in(other)  # logging out here ends this session only


def test_password_change_and_deactivation_end_every_session(app):
    first, _ = _logged_in(app)
    second, cookies = _logged_in(app, remember=True)
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one()
        user.set_password("a-new-password-123", app.config["PASSWORD_HASH_METHOD"])
        db.session.commit()
    assert not _in(first) and not _in(second) and not _in(_with(app, remember_token=cookies["remember_token"]))

    admin, _ = _logged_in(app, "admin")
    analyst = app.test_client()
    analyst.post("/login", data={"username": "analyst", "password": "a-new-password-123"})
    assert _in(analyst)
    with app.app_context():
        analyst_id = db.session.execute(db.select(User.id).filter_by(username="analyst")).scalar_one()
    assert admin.post(f"/admin/users/{analyst_id}/active").status_code == 302  # the admin switches it off
    assert not _in(analyst) and _in(admin)
    with app.app_context():
        assert db.session.execute(db.select(LoginSession).filter_by(user_id=analyst_id)).first() is None


def test_sessions_expire_server_side(app):
    client, cookies = _logged_in(app)
    with app.app_context():
        for row in db.session.execute(db.select(LoginSession)).scalars():
            row.created_at = utcnow() - timedelta(days=15)
        db.session.commit()
    assert not _in(client) and not _in(_with(app, remember_token=cookies["remember_token"]))


# --- row 7: redirects, timing, limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["/%0D%0AX", "/%0aSet-Cookie:x=1", "/\\evil.example", "//evil.example/", "https://evil.example/"]
)
def test_login_next_never_leaves_the_site_or_breaks(app, target):
    client = app.test_client()
    answer = client.post(f"/login?next={target}", data={"username": "analyst", "password": PASSWORDS["analyst"]})
    assert answer.status_code == 302 and answer.headers["Location"] == "/leads"


@pytest.mark.parametrize(("target", "location"), [("/[", "/%5B"), ("/%00", "/"), ("/x%7F", "/x")])  # control
# characters are cleaned out of every request argument (web.inputs) before safe_next sees them
def test_login_next_with_odd_but_local_paths(app, target, location):
    answer = app.test_client().post(
        f"/login?next={target}", data={"username": "analyst", "password": PASSWORDS["analyst"]}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == location


def test_login_next_keeps_a_path_on_this_site(app):
    answer = app.test_client().post(
        "/login?next=/leads/%3Fq%3Dx", data={"username": "analyst", "password": PASSWORDS["analyst"]}
    )
    assert answer.headers["Location"] == "/leads/?q=x"


def test_unknown_and_known_names_answer_in_the_same_time(make_app):
    app = make_app(PASSWORD_HASH_METHOD="scrypt")
    client = app.test_client()

    def timed(name):
        start = time.perf_counter()
        assert client.post("/login", data={"username": name, "password": "wrong"}).status_code == 200
        return time.perf_counter() - start

    timed("analyst"), timed("nobody")  # warm up
    known = statistics.median(timed("analyst") for _ in range(5))
    unknown = statistics.median(timed(f"nobody{i}") for i in range(5))
    assert 0.5 < unknown / known < 2, (known, unknown)  # before: 4 ms against 185 ms


def test_login_limit_counts_an_account_once_and_caps_an_address(make_app):
    app = make_app(LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert client.post("/login", data={"username": "analyst", "password": "x"}).status_code == 200
    assert client.post("/login", data={"username": "ANALYST@example.org", "password": "x"}).status_code == 200
    assert client.post("/login", data={"username": "analyst@example.org", "password": "x"}).status_code == 429

    app = make_app(users=False, LOGIN_ADDRESS_RATE_LIMIT="3 per minute")
    client = app.test_client()
    assert [client.post("/login", data={"username": f"name{i}", "password": "x"}).status_code for i in range(4)] == [
        200,
        200,
        200,
        429,
    ]


# --- row 3: a database that hangs --------------------------------------------------------------------


@pytest.fixture
def hanging_app(make_app, tmp_path):
    url = _pg_fresh_schema()
    target = urlsplit(url)
    proxy = CuttableProxy((target.hostname, target.port or 5432))
    app = make_app(
        SQLALCHEMY_DATABASE_URI=url.replace(target.netloc.split("@")[-1], f"127.0.0.1:{proxy.port}", 1),
        DB_STATEMENT_TIMEOUT=2,
        DB_WATCHDOG_GRACE=0.5,
        DB_PING_TIMEOUT=1,
        DB_CONNECT_TIMEOUT=2,
        DB_POOL_TIMEOUT=2,
    )
    yield app, proxy
    proxy.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=False)
def test_a_hung_database_gives_503s_in_seconds_and_recovers(hanging_app, serving):
    app, proxy = hanging_app
    with serving(app) as base:
        browser = requests.Session()
        browser.post(f"{base}/login", data={"username": "analyst", "password": PASSWORDS["analyst"]}, timeout=10)
        assert browser.get(f"{base}/leads", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/v1/ready", timeout=10).status_code == 200
        proxy.hung = True
        results: list[tuple[int, float]] = []

        def stuck_request():
            start = time.monotonic()
            status = requests.get(f"{base}/leads", cookies=browser.cookies, timeout=30).status_code
            results.append((status, time.monotonic() - start))

        threads = [threading.Thread(target=stuck_request) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        start = time.monotonic()
        assert requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200  # liveness never waits
        assert time.monotonic() - start < 1
        for thread in threads:
            thread.join(30)
        assert [status for status, _ in results] == [503, 503], results
        assert max(seconds for _, seconds in results) < 8, results
        start = time.monotonic()
        ready = requests.get(f"{base}/api/v1/ready", timeout=30)
        assert ready.status_code == 503 and ready.json()["checks"]["database"] == "unreachable"
        assert time.monotonic() - start < 8

        proxy.hung = False  # the database answers again: no restart needed
        assert browser.get(f"{base}/leads", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/v1/ready", timeout=10).json()["status"] == "ready"


def test_a_statement_the_server_runs_too_long_is_cancelled(make_app):
    from sqlalchemy import text

    app = make_app(DB_STATEMENT_TIMEOUT=1, PROPAGATE_EXCEPTIONS=False)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["timeout"] == 5.0  # busy timeout
        return
    app.add_url_rule("/_slow", "slow", lambda: str(db.session.execute(text("SELECT pg_sleep(5)")).all()))
    start = time.monotonic()
    assert app.test_client().get("/_slow").status_code == 503
    assert time.monotonic() - start < 3


def test_readiness_reports_redis(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", REDIS_TIMEOUT=1)
    answer = app.test_client().get("/api/v1/ready")
    assert answer.status_code == 503 and answer.json["checks"] == {"database": "ok", "redis": "unreachable"}
    app = make_app(users=False, REDIS_URL="redis://127.0.0.1:6379/0")
    answer = app.test_client().get("/api/v1/ready")
    assert answer.status_code == 200 and answer.json == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


def test_the_worker_needs_no_key_and_writes_none(monkeypatch, tmp_path):
    """`matcher worker` answers no request: without SECRET_KEY it runs on a throw-away key, keeps no file."""
    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    config = _bare_app(monkeypatch, tmp_path)
    first, second = (create_app(config, serving=False) for _ in range(2))
    assert len(first.secret_key) == 64 and first.secret_key != second.secret_key
    assert not (tmp_path / "instance" / "secret_key").exists()
