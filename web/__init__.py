"""The web application of the Hanoi investor matcher: ``create_app`` builds it.

Public self-assessment (``/assess``), staff lead screening (``/leads``), batch upload
(``/batch``), user admin and a JSON API (``/api/v1``). Scoring is :mod:`matcher`'s; this
package stores profiles, results and the pipeline, and renders them.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from .extensions import babel, csrf, db, login_manager

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def database_url(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: ``DATABASE_URL`` (``postgresql://`` means psycopg 3) or SQLite in ``instance/``."""
    if not url:
        return "sqlite:///" + os.path.join(instance_path, "matcher.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs: at most 2**31 - 1, the largest id an INTEGER column holds.

    A bigger number would reach the database and fail there (a 500 on PostgreSQL); as a URL
    that matches no route it is a plain 404.
    """

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; upgrade the database schema unless ``AUTO_UPGRADE`` is off."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter  # before any route: ids beyond the column are 404s
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev"),
        SQLALCHEMY_DATABASE_URI=database_url(os.environ.get("DATABASE_URL"), app.instance_path),
        # Test each pooled connection before use: after a database restart or a network cut the app
        # reconnects by itself instead of failing on a dead connection.
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SECTORS_PATH=os.environ.get("MATCHER_SECTORS") or None,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        BATCH_DIR=os.path.join(app.instance_path, "batch"),
        BATCH_PREVIEW_ROWS=20,
        LEADS_PER_PAGE=25,
        AUTO_UPGRADE=True,
        LANGUAGES=("en", "ru", "vi"),
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
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///" + app.instance_path):
        os.makedirs(app.instance_path, exist_ok=True)  # the default SQLite file lives there
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_hooks(app)
    if app.config["AUTO_UPGRADE"]:
        from .schema import upgrade

        upgrade(app, then=_first_version)
    return app


def _first_version() -> None:
    """On first start the sectors file becomes weights version 1 (run under the upgrade lock)."""
    from sqlalchemy.exc import IntegrityError

    from .versions import ensure_first_version

    try:
        ensure_first_version()
        db.session.commit()
    except IntegrityError:  # belt and braces: another process made it first
        db.session.rollback()


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    from . import i18n

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    i18n.init_app(app)


def register_blueprints(app: Flask) -> None:
    """One blueprint per area; the API is CSRF-exempt because it authenticates by token."""
    from . import admin, api, assess, auth, batch, leads, weights

    for module in (assess, auth, leads, batch, admin, weights):
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
    from . import security

    security.init_app(app)
