"""Error responses: one JSON helper for the API, one HTML renderer for pages."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db


def error_response(status: int, message: str, field: str | None = None, **extra):
    """A JSON error body ``{"error": message, "field": field}`` with an HTTP status."""
    response = jsonify({"error": message, "field": field, **extra})
    response.status_code = status
    return response


def wants_json() -> bool:
    """Whether this request is for the JSON API."""
    return request.path.startswith("/api/")


def _title(code: int, default: str) -> str:
    titles = {400: _("Bad request"), 401: _("Login required"), 403: _("Forbidden"), 404: _("Not found"),
              405: _("Method not allowed"), 413: _("File too large"), 500: _("Server error")}
    return titles.get(code, default)


def _message(error: HTTPException) -> str:
    if error.code == 413:
        limit = (request.max_content_length or 0) / (1024 * 1024)
        return _("The file is too large: the upload limit is %(limit)s MB. Split the file into "
                 "smaller parts, or score it with the command line (matcher score).", limit=f"{limit:g}")
    if error.code == 404:
        return _("This page does not exist.")
    if error.code == 403:
        return _("You do not have permission to see this page.")
    if error.code == 401:
        return _("Please log in.")
    if error.code == 500:
        return _("Something went wrong on our side. The error has been logged.")
    return error.description or error.name


def render_error(error: HTTPException):
    """An HTML page (or a JSON body under /api/) for an HTTP error."""
    code = error.code or 500
    if code >= 500:
        db.session.rollback()
    message = _message(error)
    if wants_json():
        return error_response(code, message if code in (404, 413, 500) else (error.description or message))
    return render_template("error.html", code=code, title=_title(code, error.name), message=message), code


def render_csrf(error: CSRFError):
    """A clear page when a form's CSRF token is missing or stale."""
    if wants_json():
        return error_response(400, error.description)
    message = _("The form has expired or was not sent from this site. Please go back, reload the page "
                "and try again.")
    return render_template("error.html", code=400, title=_("Form expired"), message=message), 400


def register(app: Flask) -> None:
    """Register the handlers on the app."""
    app.register_error_handler(CSRFError, render_csrf)
    for code in (400, 401, 403, 404, 405, 413, 500):
        app.register_error_handler(code, render_error)

