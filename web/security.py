"""Rate limits on the login and the public scoring forms, and security headers on every response.

Limits are app config, so ``MATCHER_*`` environment variables change them:

- ``LOGIN_RATE_LIMIT`` (default ``10 per minute``): ``POST /login`` per client address and account (a user
  name and the account's e-mail address count as one);
- ``LOGIN_ADDRESS_RATE_LIMIT`` (default ``30 per minute``): ``POST /login`` per client address, whatever
  names it tries;
- ``ASSESS_RATE_LIMIT`` (default ``60 per minute``): ``POST /assess``, ``/assess/submit`` and the public
  API scoring calls, counted together per client address;
- ``OKVED_RATE_LIMIT`` (default ``300 per minute``): ``GET /api/v1/okved``, the code suggestions the
  self-assessment form asks for as one types, per client address;
- ``RATELIMIT_ENABLED`` (Flask-Limiter's switch, default on; benchmarks turn it off);
- ``RATELIMIT_STORAGE_URI``: ``memory://`` (one count per process) unless ``REDIS_URL`` is set, so that
  several app processes share one count;
- ``TRUSTED_PROXIES`` (default 0): how many reverse proxies stand in front of the app; their
  ``X-Forwarded-For`` then gives the client's address (else every client would share the proxy's count).

Flask-Limiter keeps its state on the extension object, so each app gets a limiter of its own
(``app.extensions["matcher_limiter"]``): several apps in one process (tests) never share counts.
"""

from __future__ import annotations

import math
import os
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from .inputs import batch_profiles

DEFAULTS = {
    "LOGIN_RATE_LIMIT": "10 per minute",
    "LOGIN_ADDRESS_RATE_LIMIT": "30 per minute",
    "ASSESS_RATE_LIMIT": "60 per minute",
    "OKVED_RATE_LIMIT": "300 per minute",
    "RATELIMIT_ENABLED": True,
    # X-RateLimit-* (and a Retry-After even on 200) on every limited response: off; a 429 has Retry-After
    "RATELIMIT_HEADERS_ENABLED": False,
    "RATELIMIT_KEY_PREFIX": "matcher",
    # Redis down: count in this process's memory meanwhile rather than refuse logins and assessments
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
}
# the public endpoints that score a profile; they share one count per client address
PUBLIC_SCORING = ("assess.form", "assess.submit", "assess.print_report", "api.score", "api.score_batch", "api.match")
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def login_key() -> str:
    """Count login attempts per client address and account: the user name and the e-mail of one account
    count together; a name that opens no account counts as typed (case-insensitive)."""
    from sqlalchemy import func, or_

    from .extensions import db
    from .models import User

    name = (request.form.get("username") or "").strip()[:254].lower()
    try:
        user = (
            db.session.execute(
                db.select(User.id)
                .where(or_(func.lower(User.username) == name, func.lower(User.email) == name))
                .order_by(User.id)
                .limit(1)
            ).scalar()
            if name and "\x00" not in name
            else None
        )
    except Exception:  # noqa: BLE001 -- the database is down: the view answers 503; count the name as typed
        db.session.rollback()
        user = None
    account = f"user:{user}" if user is not None else f"name:{name}"
    return f"{get_remote_address()}|{account}"


def _check_limits(app: Flask) -> None:
    """Refuse to start with a limit that Flask-Limiter cannot read, naming the setting."""
    for key in ("LOGIN_RATE_LIMIT", "LOGIN_ADDRESS_RATE_LIMIT", "ASSESS_RATE_LIMIT", "OKVED_RATE_LIMIT"):
        try:
            parse_many(str(app.config[key]))
        except ValueError as exc:
            raise ValueError(
                f"{key} = {app.config[key]!r} is not a rate limit such as '10 per minute' or '5/second;100/hour': {exc}"
            ) from None


def init_limiter(app: Flask) -> Limiter:
    """Give the app its own limiter and put the limits on the login and the public scoring endpoints."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    timeout = float(app.config.get("REDIS_TIMEOUT", 3.0))  # a hung Redis must not hold up a login
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": timeout, "socket_connect_timeout": timeout})
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or os.environ.get("REDIS_URL") or "memory://"
    _check_limits(app)
    limiter = Limiter(get_remote_address)
    limiter.init_app(app)
    app.extensions["matcher_limiter"] = limiter
    if not limiter.enabled:
        return limiter
    login = limiter.limit(lambda: app.config["LOGIN_RATE_LIMIT"], key_func=login_key, methods=["POST"])
    address = limiter.limit(
        lambda: app.config["LOGIN_ADDRESS_RATE_LIMIT"],
        key_func=get_remote_address,
        methods=["POST"],
        scope="login-address",
    )
    app.view_functions["auth.login"] = address(login(app.view_functions["auth.login"]))
    public = limiter.shared_limit(
        lambda: app.config["ASSESS_RATE_LIMIT"], scope="public-scoring", methods=["POST"], cost=scoring_cost
    )
    for endpoint in PUBLIC_SCORING:
        app.view_functions[endpoint] = public(app.view_functions[endpoint])
    lookup = limiter.limit(lambda: app.config["OKVED_RATE_LIMIT"], scope="okved-lookup")
    app.view_functions["api.okved"] = lookup(app.view_functions["api.okved"])
    return limiter


#: A batch counts against the public scoring limit as one request per this many profiles (rounded up), up to
#: the batch's 1,000: scoring 1,000 long profiles takes a worker about 2 s, one takes a few milliseconds.
PROFILES_PER_REQUEST = 100
MAX_BATCH_COST = 10


def scoring_cost() -> int:
    """What a public scoring request counts against ``ASSESS_RATE_LIMIT``: 1, and a batch of the JSON API
    one per :data:`PROFILES_PER_REQUEST` profiles (a list, or a ``{"profiles": [...]}`` object)."""
    if request.endpoint != "api.score_batch":
        return 1
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deep: the view says so
        return 1
    profiles = batch_profiles(body)
    count = len(profiles) if isinstance(profiles, list) else 0
    return max(1, min(MAX_BATCH_COST, math.ceil(count / PROFILES_PER_REQUEST)))


def retry_after() -> int:
    """Whole seconds until the limit this request broke lets it through again (at least 1)."""
    limiter = current_app.extensions.get("matcher_limiter")
    limit = limiter.current_limit if limiter is not None else None
    if limit is None:
        return 60
    return max(1, math.ceil(limit.reset_at - time.time()))


def register_headers(app: Flask) -> None:
    """Security headers on every response: a strict CSP (no inline script or style), no framing, no sniffing."""
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE", False))

    @app.after_request
    def security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        # Pages, API answers and downloads hold a user's leads, tokens or a firm's report: no cache keeps
        # them (send_file's "no-cache" would let a shared cache store a download). Static files keep theirs.
        if request.endpoint != "static" and response.headers.get("Cache-Control", "no-cache") == "no-cache":
            response.headers["Cache-Control"] = "no-store"
        if app.config.get("SESSION_COOKIE_SECURE"):  # served over HTTPS only: tell browsers to stay there
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def trust_proxies(app: Flask) -> None:
    """Read the client's address (and scheme) from the ``TRUSTED_PROXIES`` reverse proxies in front."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def init_app(app: Flask) -> None:
    """Rate limits and security headers (call after the blueprints are registered)."""
    trust_proxies(app)
    init_limiter(app)
    register_headers(app)
