"""Hardening of the web app: who reaches what, CSRF on every form, rate limits, headers, cookies, passwords.

Endpoints are enumerated from ``app.url_map``, so a new route is checked without touching this file: it
is a staff endpoint unless it is on the public allow-list below.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import inspect
from werkzeug.routing.converters import AnyConverter, IntegerConverter

from web import create_app
from web.extensions import db
from web.models import User
from web.services import create_lead, score

# Endpoints anyone may call. Everything else needs a staff login (pages) or an API token (/api/).
PUBLIC = {
    "assess.index",  # / -> /assess
    "assess.form",  # the self-assessment form and its result (POST)
    "assess.submit",  # send the assessed profile as a lead (GET: that firm's thanks page again, from its session)
    "assess.print_report",  # the printable report of posted answers, nothing stored
    "assess.report",  # a sent self-assessment's report, behind its random token
    "auth.login",
    "auth.logout",  # harmless without a session: back to the public form
    "static",
    "api.score",
    "api.score_batch",
    "api.match",  # a profile against Hanoi's opportunities (public like api.score, same rate limit), nothing stored
    "api.openapi",
    "api.health",
    "api.okved",  # OKVED code suggestions: the public code list, nothing stored
    "api.ready",  # readiness for load balancers: says only "ok" or "unreachable" per service
    "apidocs.index",  # the API's page for people: the OpenAPI document as a page, and an example scored
}
# Admin-only: whole blueprints, plus single admin-only actions elsewhere (none today).
ADMIN_BLUEPRINTS = {"admin", "weights"}
ADMIN_ELSEWHERE: set[str] = set()
SAMPLES = {"field": "training", "filename": "style.css"}
PASSWORDS = {"admin": "admin-pass-123", "analyst": "analyst-pass-123"}  # the accounts conftest.make_app creates
FORM_EXPIRED = "Form expired"
TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"
PAYLOADS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>')


def rule_url(rule, int_value: int = 1) -> str:
    """A concrete URL of a rule: ints become ``int_value``, ``any(...)`` its first choice, others a sample."""
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[name] = int_value
        else:
            values[name] = SAMPLES.get(name, "x")
    return rule.build(values)[1]


def rules(app, keep=lambda rule: True):
    """The app's rules, in a stable order."""
    return sorted((r for r in app.url_map.iter_rules() if keep(r)), key=lambda r: (r.rule, r.endpoint))


def is_admin_only(endpoint: str) -> bool:
    return endpoint.split(".")[0] in ADMIN_BLUEPRINTS or endpoint in ADMIN_ELSEWHERE


#: Derived tables the background rank computation writes whenever it runs (web/ranks.py), whatever
#: the request: they hold no data a request could change.
DERIVED = {"lead_ranks", "rank_state"}


def snapshot(app) -> dict:
    """Every row of every table (but the derived ranks), to show that a refused request changed nothing."""
    with app.app_context():
        present = set(inspect(db.engine).get_table_names()) - DERIVED
        rows = {
            t.name: sorted(repr(tuple(r)) for r in db.session.execute(t.select()))
            for t in db.metadata.sorted_tables
            if t.name in present
        }
        db.session.remove()
    return rows


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.execute(db.select(User.id).filter_by(username=username)).scalar_one()


def store_lead(app, **fields) -> int:
    """A scored lead in the app's database (for apps not made by the ``app`` fixture)."""
    profile = {"name": "Volga Robotics", "okved": "28.99", "training": "committed", **fields}
    with app.app_context():
        lead = create_lead(profile, score(profile), "assess", consent=True)
        db.session.commit()
        return lead.id


def csrf_token(client, url="/login") -> str:
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


# --- 1. anonymous visitors --------------------------------------------------------------------------


def test_public_allow_list_names_real_endpoints(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert PUBLIC <= endpoints, f"allow-list names endpoints that do not exist: {PUBLIC - endpoints}"
    assert ADMIN_ELSEWHERE <= endpoints
    client = app.test_client()
    assert client.get("/assess").status_code == 200 and client.get("/login").status_code == 200
    assert client.get("/api/v1/health").status_code == 200 and client.get("/api/v1/openapi.json").status_code == 200
    assert client.post("/api/v1/score", json={"name": "Volga"}).status_code == 200
    assert client.post("/api/v1/score/batch", json=[{"name": "Volga"}]).status_code == 200
    assert client.get("/api/v1/okved?q=62.01").status_code == 200


def test_okved_lookup_is_limited_per_address_apart_from_scoring(make_app):
    app = make_app(OKVED_RATE_LIMIT="2 per minute", ASSESS_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert client.post("/api/v1/score", json={"name": "Volga"}).status_code == 200
    assert [client.get("/api/v1/okved?q=26").status_code for _ in range(3)] == [200, 200, 429]
    _retry_after(client.get("/api/v1/okved?q=26"))


def test_anonymous_reaches_no_staff_endpoint(app, make_lead):
    lead_id = make_lead()
    client = app.test_client()
    before = snapshot(app)
    failures, checked = [], 0
    for rule in rules(app, lambda r: r.endpoint not in PUBLIC):
        url = rule_url(rule, lead_id)
        for method in sorted(rule.methods):
            response = client.open(url, method=method, data={"name": "X", "body": "note", "status": "won"})
            checked += 1
            status, body = response.status_code, response.get_data(as_text=True)
            if method == "OPTIONS":  # answered by Flask itself: the allowed methods, never the view's data
                ok = status in (200, 302, 401, 403) and (status != 200 or body == "")
            elif rule.rule.startswith("/api/"):
                ok = (
                    status == 401
                    and response.is_json
                    and "Bearer" in response.headers["WWW-Authenticate"]
                    and (method == "HEAD" or (response.get_json()["error"] and response.get_json()["field"] is None))
                )
            else:
                ok = status == 302 and response.headers["Location"].startswith("/login?next=")
            if not ok:
                failures.append(f"{method} {url} ({rule.endpoint}): {status} {response.headers.get('Location')}")
    assert not failures, "anonymous request not refused:\n" + "\n".join(failures)
    assert checked >= 50  # every rule, every method
    assert snapshot(app) == before


def test_api_refuses_bad_and_revoked_tokens(app, client, auth):
    auth.login("analyst")
    token = re.search(r'<pre class="token">([^<]+)</pre>', client.post("/account").get_data(as_text=True)).group(1)
    api = app.test_client()
    assert api.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    for header in (f"Bearer {token}x", f"Basic {token}", token, "Bearer "):
        assert api.get("/api/v1/leads", headers={"Authorization": header}).status_code == 401, header
    with app.app_context():
        db.session.get(User, user_id(app, "analyst")).active = False
        db.session.commit()
    assert api.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_deactivated_user_loses_open_session(app, client, auth):
    auth.login("analyst")
    assert client.get("/leads").status_code == 200
    with app.app_context():
        db.session.get(User, user_id(app, "analyst")).active = False
        db.session.commit()
    response = client.get("/leads")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# --- 2. analysts and admin actions ------------------------------------------------------------------


def test_admin_endpoints_are_enumerated(app):
    admin_rules = {r.endpoint for r in rules(app, lambda r: r.rule.startswith("/admin"))}
    assert admin_rules and all(is_admin_only(e) for e in admin_rules), admin_rules
    assert {"admin.users", "admin.change", "weights.index", "weights.rescore", "weights.settings"} <= admin_rules


def test_analyst_gets_403_on_every_admin_action(app, client, auth, make_lead):
    make_lead()
    admin_id = user_id(app, "admin")
    data = {
        "email": "mole@example.org",
        "username": "mole",
        "role": "admin",
        "password": "mole-pass-123",
        "confirm": "mole-pass-123",
        "reason": "analyst says so",
        "spread": "0.5",
        "top_k": "3",
        "unverified_factor": "0.1",
        "w-criteria-green": "100",
    }
    auth.login("analyst")
    before = snapshot(app)
    failures, checked = [], 0
    for rule in rules(app, lambda r: is_admin_only(r.endpoint)):
        url = rule_url(rule, admin_id)
        for method in sorted(rule.methods - {"OPTIONS"}):
            response = client.open(url, method=method, data=data)
            checked += 1
            if response.status_code != 403:
                failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert not failures, "analyst not refused:\n" + "\n".join(failures)
    assert checked >= 10
    assert snapshot(app) == before
    # and the same requests from an admin do get through (the 403 is about the role, not the request)
    auth.logout()
    auth.login("admin")
    assert client.get("/admin/users").status_code == 200 and client.get("/admin/weights").status_code == 200


# --- 3. CSRF ----------------------------------------------------------------------------------------


def test_every_form_endpoint_enforces_csrf(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client)
    assert (
        client.post(
            "/login", data={"csrf_token": token, "username": "admin", "password": PASSWORDS["admin"]}
        ).status_code
        == 302
    )
    analyst_id = user_id(app, "analyst")
    posts = rules(app, lambda r: "POST" in r.methods and not r.rule.startswith("/api/"))
    posts.sort(key=lambda r: r.endpoint == "auth.logout")  # log out last
    expected = {"assess.form", "assess.submit", "auth.login", "auth.logout", "leads.add_note", "admin.change"}
    assert expected <= {r.endpoint for r in posts}
    failures = []
    for rule in posts:
        url = rule_url(rule, analyst_id)
        before = snapshot(app)
        for label, extra in (
            ("missing", {}),
            ("wrong", {"csrf_token": "not-the-token"}),
            ("other session", {"csrf_token": csrf_token(app.test_client())}),
        ):
            response = client.post(url, data={"name": "X", "body": "a note", **extra})
            if response.status_code != 400 or FORM_EXPIRED not in response.get_data(as_text=True):
                failures.append(f"{url} with {label} token: {response.status_code}")
        if snapshot(app) != before:
            failures.append(f"{url}: a refused request changed the database")
        response = client.post(url, data={"name": "X", "body": "a note", "csrf_token": token})
        if FORM_EXPIRED in response.get_data(as_text=True):
            failures.append(f"{url} refused the right token")
    assert not failures, "\n".join(failures)


def test_right_token_does_the_work_and_api_is_exempt(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    lead_id = store_lead(app)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"csrf_token": token, "username": "analyst", "password": PASSWORDS["analyst"]})
    response = client.post(f"/leads/{lead_id}/notes", data={"note-csrf_token": token, "note-body": "Met them"})
    assert response.status_code == 302
    assert "Met them" in client.get(f"/leads/{lead_id}").get_data(as_text=True)
    # the API authenticates by token: no CSRF token needed
    api = app.test_client()
    assert api.post("/api/v1/score", json={"name": "Volga", "okved": "62.01"}).status_code == 200
    assert api.post("/api/v1/score/batch", json=[{"name": "Volga"}]).status_code == 200


# --- 5. rate limits ---------------------------------------------------------------------------------


def _login(client, username, password="wrong", lang=None, **kwargs):
    return client.post(
        "/login" + (f"?lang={lang}" if lang else ""), data={"username": username, "password": password}, **kwargs
    )


def _retry_after(response) -> int:
    value = response.headers["Retry-After"]
    assert value.isdigit() and 1 <= int(value) <= 61, value
    return int(value)


def test_login_is_limited_per_address_and_user(make_app):
    app = make_app(LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    assert client.get("/login").status_code == 200
    for _ in range(3):
        assert _login(client, "analyst").status_code == 200  # wrong password, page again
    response = _login(client, "Analyst ", PASSWORDS["analyst"])  # the right password does not help now
    assert response.status_code == 429
    seconds = _retry_after(response)
    html = response.get_data(as_text=True)
    assert "429" in html and f"Please wait {seconds} seconds" in html and 'lang="en"' in html
    assert client.get("/leads").status_code == 302  # not logged in
    assert client.get("/login").status_code == 200  # the form itself is not limited
    assert _login(client, "admin").status_code == 200  # another user name from the same address
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert _login(other, "analyst", PASSWORDS["analyst"]).status_code == 302  # the same user elsewhere
    response = _login(client, "analyst", lang="ru")
    assert response.status_code == 429 and '<html lang="ru">' in response.get_data(as_text=True)


def test_a_batch_counts_one_request_per_hundred_profiles(make_app):
    """Scoring 1,000 profiles costs a worker about 500 times one: a batch counts as a request per 100 of them
    (up to 10), so the public limit bounds the work an address can ask for, not only its requests."""
    app = make_app(ASSESS_RATE_LIMIT="15 per minute")
    client = app.test_client()
    assert client.post("/api/v1/score/batch", json={"profiles": [{"name": "Volga"}] * 1000}).status_code == 200
    assert client.post("/api/v1/score/batch", json=[{"name": "Volga"}] * 201).status_code == 200  # 3 more: 13
    assert client.post("/api/v1/score", json={"name": "Volga"}).status_code == 200  # 14
    assert client.post("/api/v1/score/batch", json=[{"name": "Volga"}] * 201).status_code == 429  # 17 > 15
    other = {"REMOTE_ADDR": "192.0.2.7"}  # a list over the batch's 1,000 counts 10, and is refused for its size
    assert client.post("/api/v1/score/batch", json=[{"name": "Volga"}] * 5000, environ_base=other).status_code == 413


def test_public_scoring_is_limited_per_address(make_app):
    app = make_app(ASSESS_RATE_LIMIT="3 per minute")
    client = app.test_client()
    assert client.post("/assess", data={"name": "Volga", "okved": "62.01"}).status_code == 200
    assert client.post("/api/v1/score", json={"name": "Volga"}).status_code == 200
    assert client.post("/api/v1/score/batch", json=[{"name": "Volga"}]).status_code == 200
    response = client.post("/api/v1/score", json={"name": "Volga"})
    assert response.status_code == 429 and response.is_json
    body = response.get_json()
    assert set(body) == {"error", "field"} and body["field"] is None and "too many requests" in body["error"]
    _retry_after(response)
    response = client.post("/assess?lang=vi", data={"name": "Volga", "okved": "62.01"})
    assert response.status_code == 429 and '<html lang="vi">' in response.get_data(as_text=True)
    _retry_after(response)
    assert (
        client.post(
            "/assess/submit", data={"name": "Volga", "contact_email": "a@b.example", "consent": "y"}
        ).status_code
        == 429
    )
    assert client.get("/assess").status_code == 200  # reading the form is free
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.4"
    assert other.post("/api/v1/score", json={"name": "Volga"}).status_code == 200
    assert _login(client, "analyst", PASSWORDS["analyst"]).status_code == 302  # login counts apart


def test_behind_a_proxy_each_client_has_its_own_count(make_app):
    app = make_app(LOGIN_RATE_LIMIT="1 per minute", TRUSTED_PROXIES=1)
    client = app.test_client()
    for address in ("203.0.113.1", "203.0.113.2"):
        assert _login(client, "analyst", headers={"X-Forwarded-For": address}).status_code == 200
    assert _login(client, "analyst", headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429
    direct = make_app(users=False, LOGIN_RATE_LIMIT="1 per minute").test_client()  # no proxy: header ignored
    assert _login(direct, "analyst", headers={"X-Forwarded-For": "203.0.113.3"}).status_code == 200
    assert _login(direct, "analyst", headers={"X-Forwarded-For": "203.0.113.4"}).status_code == 429


def test_rate_limits_can_be_switched_off(make_app):
    app = make_app(RATELIMIT_ENABLED=False, LOGIN_RATE_LIMIT="1 per minute", ASSESS_RATE_LIMIT="1 per minute")
    client = app.test_client()
    assert all(_login(client, "analyst").status_code == 200 for _ in range(5))
    assert all(client.post("/api/v1/score", json={"name": "V"}).status_code == 200 for _ in range(5))


def test_limits_come_from_matcher_environment(db_url, tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret-key-of-32-characters")
    monkeypatch.setenv("MATCHER_BATCH_DIR", str(tmp_path / "batch"))
    monkeypatch.setenv("MATCHER_WTF_CSRF_ENABLED", "false")
    monkeypatch.setenv("MATCHER_LOGIN_RATE_LIMIT", "2 per minute")
    apps = [create_app()]
    monkeypatch.setenv("MATCHER_RATELIMIT_ENABLED", "false")  # what the benchmarks set
    apps.append(create_app())
    try:
        limited, free = (a.test_client() for a in apps)
        assert [_login(limited, "nobody").status_code for _ in range(3)] == [200, 200, 429]
        assert [_login(free, "nobody").status_code for _ in range(3)] == [200, 200, 200]
        assert apps[0].config["RATELIMIT_STORAGE_URI"] == "memory://"
    finally:
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def test_bad_limit_is_a_clear_startup_error(make_app):
    with pytest.raises(ValueError, match="ASSESS_RATE_LIMIT = 'lots' is not a rate limit"):
        make_app(users=False, ASSESS_RATE_LIMIT="lots")


def test_redis_shares_counts_between_processes(make_app):
    import redis

    prefix = f"matcher-test-{uuid.uuid4().hex}"
    config = {
        "RATELIMIT_STORAGE_URI": "",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "RATELIMIT_KEY_PREFIX": prefix,
        "LOGIN_RATE_LIMIT": "2 per minute",
    }
    first, second = make_app(**config), make_app(users=False, **config)
    server = redis.Redis.from_url(config["REDIS_URL"])
    try:
        assert first.config["RATELIMIT_STORAGE_URI"] == config["REDIS_URL"]
        one, two = first.test_client(), second.test_client()
        assert [_login(c, "analyst").status_code for c in (one, two, one)] == [200, 200, 429]
        assert list(server.scan_iter(f"*{prefix}*"))  # the count lives in Redis
    finally:
        keys = list(server.scan_iter(f"*{prefix}*"))
        if keys:
            server.delete(*keys)
        server.close()
        for app in (first, second):
            app.extensions["matcher_limiter"].storage.storage.close()


def test_redis_down_falls_back_to_memory(make_app):
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()  # nothing listens on port 1: logins still work, and are still limited
    assert [_login(client, "analyst").status_code for _ in range(3)] == [200, 200, 429]


# --- 6. headers and inline code ---------------------------------------------------------------------


def _check_headers(response, what: str) -> list[str]:
    csp = response.headers.get("Content-Security-Policy", "")
    problems = []
    if "script-src 'self'" not in csp or "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"{what}: CSP {csp!r}")
    if "frame-ancestors 'none'" not in csp or response.headers.get("X-Frame-Options") != "DENY":
        problems.append(f"{what}: framing allowed")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{what}: no nosniff")
    if response.headers.get("Referrer-Policy") not in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"):
        problems.append(f"{what}: Referrer-Policy {response.headers.get('Referrer-Policy')}")
    return problems


def test_security_headers_on_every_kind_of_response(make_app):
    app = make_app(WTF_CSRF_ENABLED=True, LOGIN_RATE_LIMIT="1 per minute", PROPAGATE_EXCEPTIONS=False)

    def boom():
        raise RuntimeError("test error")

    app.add_url_rule("/boom", "boom", boom)
    client = app.test_client()
    token = csrf_token(client)
    responses = {
        "page": client.get("/assess"),
        "api": client.get("/api/v1/health"),
        "api 401": client.get("/api/v1/leads"),
        "api 404": client.get("/api/v1/nothing"),
        "page 404": client.get("/nothing"),
        "405": client.get("/logout"),
        "redirect": client.get("/leads"),
        "static": client.get("/static/style.css"),
        "csrf 400": client.post("/login", data={"username": "x"}),
        "login": client.post("/login", data={"csrf_token": token, "username": "x", "password": "y"}),
        "429": client.post("/login", data={"csrf_token": token, "username": "x", "password": "y"}),
        "500": client.get("/boom"),
    }
    assert [responses[k].status_code for k in ("api 401", "csrf 400", "429", "500")] == [401, 400, 429, 500]
    problems = [p for what, response in responses.items() for p in _check_headers(response, what)]
    responses["static"].close()
    assert not problems, problems
    assert "Strict-Transport-Security" not in responses["page"].headers  # plain HTTP in development


class InlineCode(HTMLParser):
    """Collects inline scripts, ``on...=`` handlers, ``style=`` attributes and ``javascript:`` links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script" and not names.get("src"):
            self.found.append(self.get_starttag_text())
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_templates_have_no_inline_code():
    found = {}
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        hits = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:", text, re.I)
        if hits:
            found[str(path.relative_to(TEMPLATES))] = hits
    assert not found, found


def _finished_job(client) -> int:
    data = {"file": (io.BytesIO(b"name,okved\nVolga,28.99\n"), "firms.csv"), "lang": "en"}
    response = client.post("/batch", data=data, content_type="multipart/form-data")
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    deadline = time.monotonic() + 30
    while client.get(f"/batch/{job_id}/status.json").get_json()["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, "batch job did not finish"
        time.sleep(0.1)
    return job_id


def test_rendered_pages_have_no_inline_code(app, client, auth, make_lead):
    lead_id = make_lead(name=PAYLOADS[0], description=PAYLOADS[1], city=PAYLOADS[2])
    auth.login("admin")
    job_id = _finished_job(client)
    ids = {"lead_id": lead_id, "job_id": job_id, "version_id": 1, "user_id": user_id(app, "analyst")}
    pages = []
    for rule in rules(app, lambda r: "GET" in r.methods and not r.arguments - set(ids)):
        url = rule.build({name: ids[name] for name in rule.arguments})[1]
        if not url.startswith(("/api/", "/static/")):
            pages.append(url)
    pages += ["/nothing"]
    found, seen = {}, 0
    for lang in ("en", "ru", "vi"):
        for url in pages:
            response = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}", follow_redirects=True)
            if response.mimetype == "text/html":
                seen += 1
                hits = inline_code(response.get_data(as_text=True))
                if hits:
                    found[f"{lang} {url}"] = hits
        posted = {
            "result": client.post(f"/assess?lang={lang}", data={"name": PAYLOADS[0], "okved": "62.01"}),
            "thanks": client.post(
                f"/assess/submit?lang={lang}",
                data={"name": PAYLOADS[1], "okved": "62.01", "contact_email": "a@b.example", "consent": "y"},
            ),
            "token": client.post(f"/account?lang={lang}"),
        }
        for what, response in posted.items():
            assert response.status_code == 200, what
            seen += 1
            hits = inline_code(response.get_data(as_text=True))
            if hits:
                found[f"{lang} {what}"] = hits
    assert seen >= 3 * 15
    assert not found, found


# --- cookies, passwords, logout ---------------------------------------------------------------------


def _cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def test_session_cookie_flags_and_secure_when_configured(make_app):
    plain = _cookies(
        make_app().test_client().post("/login", data={"username": "analyst", "password": PASSWORDS["analyst"]})
    )
    assert "HttpOnly" in plain["session"] and "SameSite=Lax" in plain["session"] and "Secure" not in plain["session"]
    secure_app = make_app(users=False, SESSION_COOKIE_SECURE=True)
    client = secure_app.test_client()
    response = client.post("/login", data={"username": "analyst", "password": PASSWORDS["analyst"], "remember": "y"})
    cookies = _cookies(response)
    for name in ("session", "remember_token"):
        assert all(flag in cookies[name] for flag in ("Secure", "HttpOnly", "SameSite=Lax")), cookies[name]
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_passwords_are_stored_hashed(make_app):
    app = make_app(PASSWORD_HASH_METHOD="scrypt")
    client = app.test_client()
    _login(client, "admin", PASSWORDS["admin"])
    client.post(
        "/admin/users",
        data={
            "email": "new@example.org",
            "username": "newbie",
            "role": "analyst",
            "password": "new-pass-123",
            "confirm": "new-pass-123",
        },
    )
    with app.app_context():
        hashes = dict(db.session.execute(db.select(User.username, User.password_hash)).all())
    assert set(hashes) == {"admin", "analyst", "newbie"}
    for username, stored in hashes.items():
        plain = "new-pass-123" if username == "newbie" else PASSWORDS[username]
        assert plain not in stored and stored.startswith("scrypt:"), (username, stored)
    default = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "AUTO_UPGRADE": False})
    assert default.config["PASSWORD_HASH_METHOD"] == "scrypt"  # the tests use a fast hash; the app does not


def test_logout_is_post_only(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"csrf_token": token, "username": "analyst", "password": PASSWORDS["analyst"]})
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: a forged cross-site logout fails
    assert client.get("/leads").status_code == 200
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/leads").status_code == 302
