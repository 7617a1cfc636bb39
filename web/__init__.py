"""The web application of the Hanoi investor matcher: ``create_app`` builds it.

Public self-assessment (``/assess``), staff lead screening (``/leads``), batch upload
(``/batch``), user admin and a JSON API (``/api/v1``). Scoring is :mod:`matcher`'s; this
package stores profiles, results and the pipeline, and renders them. Its layers, the walk of a
profile to a database row and the files to touch for a new page: docs/architecture.md.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask
from werkzeug.routing import IntegerConverter

from matcher.fields import LANGS

from . import logs
from .extensions import babel, csrf, db, login_manager


def database_url(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: ``DATABASE_URL`` (``postgresql://`` means psycopg 3) or SQLite in ``instance/``."""
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "matcher.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs: at most 2**31 - 1, the largest id an INTEGER column holds.

    A bigger number would reach the database and fail there (a 500 on PostgreSQL); as a URL
    that matches no route it is a plain 404.
    """

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class ConfigError(click.ClickException):
    """The app cannot start with this configuration; the message says which setting and what to do.

    A click exception, so ``flask run`` and the ``flask`` commands print it as one ``Error:`` line.
    """


#: Shortest ``SECRET_KEY`` accepted outside tests: a short key can be guessed and cookies forged with it.
MIN_SECRET_KEY_LENGTH = 16
SECRET_KEY_FILE = "secret_key"


def instance_secret_key(instance_path: str) -> str:
    """The key kept in ``<instance>/secret_key``, created (random, mode 0600) on first use.

    ``matcher serve`` uses it, so a local install needs no set-up and never runs on a known key.
    """
    path = Path(instance_path) / SECRET_KEY_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if len(key) >= MIN_SECRET_KEY_LENGTH:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    partial = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.replace(partial, path)  # two first starts at once: the last one wins, both read the file below
    return path.read_text(encoding="ascii").strip()


def _flask_command_not_serving() -> bool:
    """Whether this process is a ``flask`` command other than ``flask run`` (it signs no cookies)."""
    return Path(sys.argv[0]).name == "flask" and "run" not in sys.argv[1:]


def check_secret_key(app: Flask, instance_key: bool, serving: bool = True) -> None:
    """Make sure the app signs its cookies with a secret nobody else knows, or refuse to start.

    ``SECRET_KEY`` (environment, ``MATCHER_SECRET_KEY``, ``instance/config.py`` or the test config)
    wins. Without one: ``matcher serve`` (``instance_key``) and ``flask`` commands other than ``run``
    use the key kept in the instance folder; tests get a random one; anything else (gunicorn,
    ``flask run``) refuses to start with one line saying what to set.
    """
    key = app.config.get("SECRET_KEY")
    if not key and not serving:  # e.g. `matcher worker`: it signs nothing, so any key will do
        key = app.config["SECRET_KEY"] = secrets.token_hex(32)
    elif not key and (instance_key or _flask_command_not_serving()):
        key = app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    elif not key and app.config.get("TESTING"):
        key = app.config["SECRET_KEY"] = secrets.token_hex(32)
    if not key:
        raise ConfigError(
            "SECRET_KEY is not set: set it to a long random value, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_hex(32))' (or start the app with "
            "`matcher serve`, which keeps one in its instance folder)"
        )
    if len(str(key)) < MIN_SECRET_KEY_LENGTH and not app.config.get("TESTING"):
        raise ConfigError(
            f"SECRET_KEY is too short ({len(str(key))} characters): use at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        )


def check_mail_links(config: Mapping[str, Any]) -> None:
    """Refuse to send e-mail without ``PUBLIC_URL``: its links would name whatever host the request said.

    A form sent with ``Host: evil.example`` (or ``X-Forwarded-Host`` behind a proxy) would have the
    confirmation and the staff notice link to that host: the firm's report token, the lead page. ``MAIL_*``
    settings not in ``config`` are read from the environment, as :func:`web.mail.init_app` reads them.
    """

    def setting(key: str) -> Any:
        return config[key] if key in config else os.environ.get(key)

    if setting("MAIL_SERVER") and setting("MAIL_DEFAULT_SENDER") and not config.get("PUBLIC_URL"):
        raise ConfigError(
            "MAIL_SERVER is set but MATCHER_PUBLIC_URL is not: set it to the address people open the app at "
            "(e.g. https://matcher.example.org), which the links in e-mails name; without it they would name "
            "whatever host a request says it was sent to"
        )


def load_config(app: Flask, test_config: dict | None = None) -> None:
    """The defaults, then ``instance/config.py`` and ``MATCHER_*`` variables (or ``test_config``)."""
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY") or None,
        SQLALCHEMY_DATABASE_URI=database_url(os.environ.get("DATABASE_URL"), app.instance_path),
        # Connect, statement, pool and busy timeouts, and a pre-use check of pooled connections
        # (web.database): merged under SQLALCHEMY_ENGINE_OPTIONS, which wins where it sets a key.
        SQLALCHEMY_ENGINE_OPTIONS={},
        SECTORS_PATH=os.environ.get("MATCHER_SECTORS") or None,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        BATCH_DIR=os.path.join(app.instance_path, "batch"),
        BATCH_PREVIEW_ROWS=20,
        LEADS_PER_PAGE=25,
        FACETS_CACHE_SECONDS=30,
        AUTO_UPGRADE=True,
        LANGUAGES=LANGS,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        PASSWORD_HASH_METHOD="scrypt",
        BATCH_WORKERS=2,
        BATCH_IMPORT_LIMIT=None,  # input rows one import goes through (None: all); the rest stays importable
        # Batch jobs go to RQ workers (`matcher worker`) on this Redis when set, else run in the app process.
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        REDIS_TIMEOUT=3.0,  # seconds to connect to Redis and for each command the app sends it
        BATCH_QUEUE="matcher-batch",
        BATCH_STALE_AFTER=30.0,  # seconds without a heartbeat before a queued/running job counts as stopped
        BATCH_HEARTBEAT_EVERY=2.0,
        BATCH_DB_RETRY=60.0,  # seconds the writes ending a job are retried while the database is away
        BATCH_JOB_TIMEOUT=6 * 3600,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("MATCHER")
    else:
        app.config.from_mapping(test_config)


def check_startup() -> Mapping[str, Any]:
    """Raise :class:`ConfigError` if ``create_app()`` would refuse this environment's configuration, else
    return the configuration it would read (before its extensions add their defaults).

    Cheap (no database, no extensions): gunicorn's master calls it before it forks any worker
    (``gunicorn.conf.py``), so a missing ``SECRET_KEY`` stops the server once, with one line.
    """
    app = Flask(__name__, instance_relative_config=True)
    load_config(app)
    check_secret_key(app, instance_key=False)
    check_mail_links(app.config)
    return app.config


def create_app(test_config: dict | None = None, *, instance_key: bool = False, serving: bool = True) -> Flask:
    """Create and configure the app; upgrade the database schema unless ``AUTO_UPGRADE`` is off.

    There is no built-in ``SECRET_KEY``: see :func:`check_secret_key` (``instance_key=True`` is how
    ``matcher serve`` starts it; ``serving=False``, for ``matcher worker``, an app that answers no
    request and so signs no cookie, takes a throw-away key when none is set).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter  # before any route: ids beyond the column are 404s
    load_config(app, test_config)
    logs.init_app(app)  # LOG_LEVEL, a request id and one log line per request (web/logs.py)
    check_secret_key(app, instance_key, serving)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + app.instance_path):
        os.makedirs(app.instance_path, exist_ok=True)  # the default SQLite file lives there
    configure_database(app)
    register_extensions(app)
    check_mail_links(app.config)
    register_blueprints(app)
    from . import appstate, ranks

    # The app's own scorers, caches and snapshot (web/appstate.py); services and versions ask for ranks through it
    appstate.init_app(app, mark_ranks=ranks.mark)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    if app.config["AUTO_UPGRADE"]:
        from .schema import upgrade

        upgrade(app, then=_first_version)
    return app


def warm_up(app: Flask) -> None:
    """Do before the first request what it would otherwise wait for: the scorer, the templates, the translations.

    Reads the fitted vocabulary from its cache (or fits it), compiles every template and loads
    each language's catalogue; touches no lead. A failure is logged and left to the first request.
    """
    import gc
    import logging

    from flask_babel import force_locale, get_translations

    try:
        with app.app_context():
            from .scoring import get_scorer

            get_scorer()
            db.session.remove()
        for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
            app.jinja_env.get_template(name)
        with app.test_request_context():
            for lang in app.config["LANGUAGES"]:
                with force_locale(lang):
                    get_translations()
    except Exception:  # noqa: BLE001 -- a cold start is slower, not broken
        logging.getLogger(__name__).warning("warm-up failed; the first request does it", exc_info=True)
    # What the process holds for its whole life (the scorer, templates, catalogues: some 250,000 objects) is
    # moved out of the garbage collector's sight: a full collection then walks what requests made, in ~15 ms,
    # where it took 70-330 ms, which one list request in a hundred waited for (the list's p99 at 16 clients).
    gc.collect()
    gc.freeze()


def _first_version() -> None:
    """On first start the sectors file becomes weights version 1 (run under the upgrade lock)."""
    from sqlalchemy.exc import IntegrityError

    from .versions import ensure_first_version

    try:
        ensure_first_version()
        db.session.commit()
    except IntegrityError:  # belt and braces: another process made it first
        db.session.rollback()


def configure_database(app: Flask) -> None:
    """Timeouts on every database wait (see :mod:`web.database`), under the app's own engine options."""
    from . import database

    for key, value in database.DEFAULTS.items():
        app.config.setdefault(key, value)
    options = database.engine_options(app, app.config["SQLALCHEMY_DATABASE_URI"])
    given = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if "connect_args" in given and "connect_args" in options:
        given["connect_args"] = {**options["connect_args"], **given["connect_args"]}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, **given}


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from . import database, i18n, mail, sessions

    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            database.install(app, engine)
    sessions.install(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    i18n.init_app(app)
    mail.init_app(app)  # MAIL_* settings; off unless MAIL_SERVER and MAIL_DEFAULT_SENDER are set


def register_blueprints(app: Flask) -> None:
    """One blueprint per area; the API is CSRF-exempt because it authenticates by token."""
    # api_match adds POST /api/v1/match to the API blueprint: imported before that is registered
    from . import (  # noqa: F401
        admin,
        api,
        api_match,
        apidocs,
        assess,
        auth,
        batch,
        duplicates,
        editing,
        erasure,
        followup,
        leads,
        opportunities,
        overview,
        weights,
        workspace,
    )

    for module in (
        assess,
        auth,
        leads,
        duplicates,
        editing,
        erasure,
        workspace,
        followup,
        overview,
        batch,
        admin,
        weights,
        opportunities,
        apidocs,
    ):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)


def register_errorhandlers(app: Flask) -> None:
    """HTML error pages for people, JSON errors under ``/api/``."""
    from . import errors

    errors.register(app)


def register_commands(app: Flask) -> None:
    """``flask --app web`` commands: upgrade the database, seed it, create users."""
    from . import commands

    commands.register(app)


def register_hooks(app: Flask) -> None:
    """Rate limits on login and public scoring, and security headers on every response (see ``web.security``)."""
    from . import inputs, security

    inputs.init_app(app)  # cleaned text in every request and row: no NUL reaches the database
    security.init_app(app)
