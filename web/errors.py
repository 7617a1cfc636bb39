"""Error responses: one JSON helper for the API, one HTML renderer for pages."""

from __future__ import annotations

import sqlite3
from contextlib import nullcontext

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout

from .extensions import db, login_manager


def error_response(status: int, message: str, field: str | None = None, /, **extra):
    """A JSON error body ``{"error": message, "field": field}`` with an HTTP status."""
    response = jsonify({"error": message, "field": field, **extra})
    response.status_code = status
    return response


def wants_json() -> bool:
    """Whether this request is for the JSON API."""
    return request.path.startswith("/api/")


def api_english():
    """Messages of the JSON API are English, whatever language a browser session chose."""
    return force_locale("en") if wants_json() else nullcontext()


def _title(code: int, default: str) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Login required"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        408: _("Request timed out"),
        413: _("Form too large") if _form_text_too_large() else _("File too large"),
        500: _("Server error"),
    }
    return titles.get(code, default)


def _form_text_too_large() -> bool:
    """Whether a 413 is for a form's text (more than Flask reads into memory), not for the upload limit."""
    return (request.content_length or 0) <= (request.max_content_length or 0)


def _message(error: HTTPException) -> str:
    """What the page says of an error, in the user's language: the view's own words when it gave some
    (``abort(404, _("No lead with this number."))``), else a sentence for the status. Werkzeug's default
    descriptions are English only."""
    own = error.description if error.description != type(error).description else None
    if own:
        return own
    if error.code == 413 and _form_text_too_large():
        # under the upload limit: a form holding more text than Flask reads into memory (MAX_FORM_MEMORY_SIZE)
        return _(
            "The form holds more text than it may (at most %(limit)s kB). Shorten the longest fields.",
            limit=f"{(request.max_form_memory_size or 0) / 1000:.3g}",
        )
    if error.code == 413:
        limit = (request.max_content_length or 0) / (1024 * 1024)
        return _(
            "The file is too large: the upload limit is %(limit)s MB. Split the file into "
            "smaller parts, or score it with the command line (matcher score).",
            limit=f"{limit:.3g}",
        )
    messages = {
        400: _("The request could not be read. Go back, reload the page and try again."),
        401: _("Please log in."),
        403: _("You do not have permission to see this page."),
        404: _("This page does not exist."),
        405: _("This address cannot be used this way. Use the links and buttons of the app."),
        408: _("What was sent did not arrive in time: the connection is too slow or was cut. Please try again."),
        500: _("Something went wrong on our side. The error has been logged."),
    }
    return messages.get(error.code, error.description or error.name)


def render_error(error: HTTPException):
    """An HTML page (or a JSON body under /api/) for an HTTP error, with the error's ``Allow`` header (405)."""
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    allow = {name: value for name, value in error.get_headers() if name == "Allow"}
    if wants_json():  # the API speaks English whatever language the browser session chose
        with api_english():
            message = _message(error)
        response = error_response(code, message if code in (404, 413, 500) else (error.description or message))
        response.headers.update(allow)
        return response
    message = _message(error)
    return render_template("error.html", code=code, title=_title(code, error.name), message=message), code, allow


def render_unreadable_body(error: Exception):
    """400 when the server cannot read a request's body (a malformed chunked encoding), not a 500; 408 when
    the body stopped coming (the worker's ``BodyTimeout``, whose ``code`` says so: :mod:`web.serving`)."""
    if getattr(error, "code", None) == 408:  # the API says how slow, in English; a page says it in its language
        return render_error(RequestTimeout(str(error)) if wants_json() else RequestTimeout())
    return render_error(BadRequest(f"the request body could not be read: {type(error).__name__}"))


def render_csrf(error: CSRFError):
    """A clear page when a form's CSRF token is missing or stale."""
    if wants_json():
        return error_response(400, error.description)
    message = _("The form has expired or was not sent from this site. Please go back, reload the page and try again.")
    return render_template("error.html", code=400, title=_("Form expired"), message=message), 400


def render_too_many(error: HTTPException):
    """429 when a rate limit is hit: when to try again, in ``Retry-After`` and in words (JSON under /api/)."""
    from .security import retry_after

    seconds = retry_after()
    if wants_json():
        response = error_response(
            429, f"too many requests (limit: {error.description}); try again in {seconds} seconds"
        )
    else:
        message = _(
            "Too many attempts in a short time. Please wait %(seconds)s seconds and try again.", seconds=seconds
        )
        page = render_template("error.html", code=429, title=_("Too many requests"), message=message)
        response = make_response(page, 429)
    response.headers["Retry-After"] = str(seconds)
    return response


def _drop_session() -> None:
    """Roll back this request's work; render the error page without touching the database again."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 -- the connection is already gone; the pool discards it
        current_app.logger.debug("rollback after a database error failed", exc_info=True)
    # The rollback expired the logged-in user (reading it would query the database): show the page anonymously.
    g._login_user = login_manager.anonymous_user()


#: SQLite's words for a file it cannot use right now (its other OperationalErrors, such as "no such column", are bugs).
SQLITE_UNREACHABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly")


def database_unreachable(error: Exception) -> bool:
    """Whether a database error means the database cannot be reached (rather than a bad query)."""
    if isinstance(error, PoolTimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error.orig, sqlite3.Error):
        return any(word in str(error.orig).lower() for word in SQLITE_UNREACHABLE)
    return isinstance(error, (OperationalError, InterfaceError))


def render_db_unavailable(error: Exception):
    """503 when the database cannot be reached (down, restarting, network cut, SQLite file locked).

    Other database errors are bugs and stay 500s. Nothing of the request was committed; the
    pool's pre-ping replaces dead connections, so the app recovers by itself when the database is back.
    """
    if not database_unreachable(error):
        raise error
    current_app.logger.warning("database unavailable: %s", str(error).splitlines()[0])
    _drop_session()
    with api_english():
        message = _(
            "The database is not reachable right now. Nothing was saved from this request. "
            "Please try again in a minute."
        )
    if wants_json():
        response = error_response(503, message)
    else:
        response = make_response(
            render_template("error.html", code=503, title=_("Database unavailable"), message=message), 503
        )
    response.headers["Retry-After"] = "60"
    return response


def render_stale(error: StaleDataError):
    """409 when two saves of the same record raced and this one lost: nothing of it was saved."""
    db.session.rollback()
    with api_english():
        message = _(
            "Someone else saved this record at the same moment. Your change was not saved: "
            "reload the page to see theirs, then try again."
        )
    if wants_json():
        return error_response(409, message, "row_version")
    return render_template("error.html", code=409, title=_("Edit conflict"), message=message), 409


def register(app: Flask) -> None:
    """Register the handlers on the app."""
    app.register_error_handler(CSRFError, render_csrf)
    app.register_error_handler(DBAPIError, render_db_unavailable)
    app.register_error_handler(PoolTimeoutError, render_db_unavailable)
    app.register_error_handler(StaleDataError, render_stale)
    app.register_error_handler(429, render_too_many)
    for code in (400, 401, 403, 404, 405, 413, 500):
        app.register_error_handler(code, render_error)
    try:  # gunicorn's reader raises its own errors for a body it cannot parse
        from gunicorn.http.errors import NoMoreData, ParseException
    except ImportError:  # served otherwise
        return
    app.register_error_handler(ParseException, render_unreadable_body)
    app.register_error_handler(NoMoreData, render_unreadable_body)
