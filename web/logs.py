"""Logging: the level from ``LOG_LEVEL``, one line per request, and a request id on every line.

``init_app(app)`` (called by ``create_app``) does three things:

- the app's loggers (``web`` and below, e.g. ``web.access``, ``web.jobs``) log at ``LOG_LEVEL``
  (environment or app config; default ``INFO``); other libraries keep Python's default (warnings);
- every log record carries ``request_id`` (``%(request_id)s`` in any format; ``-`` outside requests);
- one handler on the root logger writes to stderr as
  ``2026-01-31 12:00:00,123 INFO web.access [3f9c...] GET /leads?page 200 12.5 ms``
  (added once per process; if the root logger already writes to the console, that handler is kept
  instead);
- a WSGI middleware gives every request an id (a valid incoming ``X-Request-ID``, else a new
  one), returns it in the ``X-Request-ID`` response header, and logs one ``web.access`` line:
  method, path with the *names* of the query parameters only (their values may be secrets or
  personal data), status, milliseconds. Every log line written while the request runs, such as
  the traceback of a 500, carries the same id.

The werkzeug development server (``matcher serve``, ``flask run``) logs each request too; those
lines are dropped, so that each request is logged once, here. gunicorn's access log is off in
``gunicorn.conf.py`` for the same reason.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from urllib.parse import parse_qsl, quote

from flask import Flask
from flask.logging import default_handler

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
#: An incoming request id is kept only if it is short and plain (it is echoed and logged).
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: Shown outside requests (start-up, batch jobs, commands).
NO_REQUEST = "-"
MAX_PATH = 512

request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
access_log = logging.getLogger("web.access")


class RequestIdFilter(logging.Filter):
    """Make sure a record has ``request_id`` before a handler formats it (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


def add_request_id_to_records() -> None:
    """Every log record gets ``request_id``, whichever logger makes it and whichever handler writes it."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "adds_request_id", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.request_id = request_id.get()
        return record

    factory.adds_request_id = True
    logging.setLogRecordFactory(factory)


class StderrHandler(logging.StreamHandler):
    """A handler on whatever ``sys.stderr`` is when a record is written (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        """Ignored: ``StreamHandler.__init__`` sets it; the property always reads ``sys.stderr``."""


def log_level(value: object) -> int:
    """The ``logging`` level named by ``value`` (``info``, ``WARNING``, ``10``...); ValueError if none."""
    text = str(value).strip().upper()
    if text.isdigit():
        return int(text)
    level = logging.getLevelName(text)
    if not isinstance(level, int):
        raise ValueError(f"LOG_LEVEL = {value!r} is not a log level: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def _console_handlers(logger: logging.Logger) -> list[logging.Handler]:
    streams = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return [
        h
        for h in logger.handlers
        if isinstance(h, StderrHandler)
        or (isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in streams)
    ]


def configure_root() -> None:
    """Write log records to stderr with the time, level, logger and request id (once per process)."""
    root = logging.getLogger()
    handlers = _console_handlers(root)
    if not handlers:
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
        handlers = [handler]
    for handler in handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


def is_dev_server_access_line(record: logging.LogRecord) -> bool:
    """Whether ``record`` is the werkzeug development server's own line for a request."""
    return record.levelno == logging.INFO and isinstance(record.msg, str) and '"%s" %s %s' in record.msg


def drop_dev_server_access_lines(record: logging.LogRecord) -> bool:
    """Logging filter: keep werkzeug's records except its per-request lines (``web.access`` has them)."""
    return not is_dev_server_access_line(record)


def incoming_id(environ: dict) -> str:
    """The client's (or proxy's) ``X-Request-ID`` if it is valid, else a new random id."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if VALID_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def shown_path(environ: dict) -> str:
    """The path as sent (percent-encoded, so no control characters), with the query's parameter names only."""
    raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace")
    path = quote(raw, safe="/:@!$&'()*+,;=-._~")[:MAX_PATH]
    query = environ.get("QUERY_STRING", "")
    if query:
        names = dict.fromkeys(name for name, _value in parse_qsl(query, keep_blank_values=True))
        path += "?" + "&".join(quote(name, safe="") for name in names)[:MAX_PATH]
    return path


class RequestLog:
    """WSGI middleware: a request id for the request's log lines and response, and one access line."""

    def __init__(self, wsgi_app) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        rid = incoming_id(environ)
        token = request_id.set(rid)
        started, status = time.perf_counter(), ["500"]

        def start_with_id(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"] + [("X-Request-ID", rid)]
            return start_response(status_line, headers, exc_info)

        try:
            return self.wsgi_app(environ, start_with_id)
        finally:
            self.log(environ, int(status[0]) if status[0].isdigit() else 0, time.perf_counter() - started)
            request_id.reset(token)

    @staticmethod
    def log(environ: dict, status: int, seconds: float) -> None:
        """One ``web.access`` line (the request id is still set); its fields are also on the record."""
        if not access_log.isEnabledFor(logging.INFO):
            return
        method = quote(environ.get("REQUEST_METHOD", "-"), safe="")[:16]
        path, ms = shown_path(environ), round(seconds * 1000, 1)
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            path,
            status,
            ms,
            extra={"method": method, "path": path, "status": status, "duration_ms": ms},
        )


def init_app(app: Flask) -> None:
    """Set the app's log level from ``LOG_LEVEL``, log to stderr, and log every request once."""
    level = log_level(app.config.get("LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO")
    add_request_id_to_records()
    configure_root()
    app_logger = logging.getLogger(app.import_name.split(".")[0])
    app_logger.setLevel(level)
    app_logger.removeHandler(default_handler)  # the root handler writes these lines, with the request id
    werkzeug = logging.getLogger("werkzeug")
    if drop_dev_server_access_lines not in werkzeug.filters:
        werkzeug.addFilter(drop_dev_server_access_lines)
    app.wsgi_app = RequestLog(app.wsgi_app)
