"""The WSGI entry point for servers such as gunicorn: ``gunicorn web.wsgi:app`` (``gunicorn.conf.py`` uses it).

A configuration the app refuses (no ``SECRET_KEY``, a bad timeout) becomes gunicorn's "app failed
to load" with the reason on one line, instead of a traceback from every worker. The app is warmed up
before the worker takes requests (:func:`web.warm_up`), so the first page after a restart is as fast
as the next ones.
"""

from __future__ import annotations

from . import ConfigError, create_app, warm_up

try:
    app = create_app()
except ConfigError as error:
    try:
        from gunicorn.errors import AppImportError
    except ImportError:  # another server: the plain one-line error
        raise SystemExit(f"error: {error.message}") from None
    raise AppImportError(f"error: {error.message}") from None

warm_up(app)
