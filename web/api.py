"""JSON API ``/api/v1``: score one profile or a batch and look up OKVED codes (public), list and get leads
(Bearer token)."""

from __future__ import annotations

import json
import re
import sys
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import Select, select

import matcher
from matcher.messages import Reason, reason_text
from matcher.profile import field_for, to_cell

from . import listing, services
from .errors import error_response
from .extensions import db, one_of, read_rows
from .i18n import lang_arg
from .inputs import API_FIELD_LIMIT, batch_profiles, int_arg
from .leads import filtered_query, filters_from, list_statement, sector_facets
from .models import Lead, LeadSector, User
from .openapi import document
from .scoring import okved_index, okved_warnings, weights_version

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_BATCH = 1000
MAX_OKVED = 50  # suggestions per lookup
MAX_ID = 2**31 - 1  # ids are 32-bit integers in PostgreSQL


def token_required(view):
    """Let a view through only with ``Authorization: Bearer <token>`` of an active user."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = services.user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if user is None:
            response = error_response(401, "a valid API token is required: Authorization: Bearer <token>")
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        g.api_user = user
        return view(*args, **kwargs)

    return wrapped


def api_lang() -> str:
    """Language of labels and explanations: ``?lang=``, else Accept-Language, else English.

    A request without a query string or without the header (most API clients) skips parsing it.
    """
    langs = current_app.config["LANGUAGES"]
    environ = request.environ
    lang = lang_arg() if environ.get("QUERY_STRING") else None
    if lang in langs:
        return lang
    if not environ.get("HTTP_ACCEPT_LANGUAGE"):
        return "en"
    return request.accept_languages.best_match(langs) or "en"


def result_json(result: matcher.ScoreResult, version: str | None = None) -> dict:
    """A result as JSON, with the weights version (``version``, else the current one) instead of internal
    parameters. Its lists are the result's own: serialise it, do not change it."""
    data = result.json_data(skip=("params",))
    data["weights_version"] = version or weights_version()
    return data


def invalid_json(exc: matcher.InvalidValue, lang: str) -> dict:
    """What an error body says of a value that cannot be read, besides ``error`` and ``field``: ``reason``
    (English, as ``error`` words it), ``reason_code`` (a key of :data:`matcher.messages.REASONS`, for
    clients to branch on) and ``message`` (the reason in ``lang``, worded by its code)."""
    return {"reason": exc.reason, "reason_code": exc.code or None, "message": reason_text(exc.reason, lang)}


#: Why a body was not read as JSON, when the reason is not in its bytes (kept on ``flask.g``).
_TOO_DEEP = "it is nested too deep to read"


def json_body():
    """The request's JSON body, or None if it is not JSON (or nested too deep to read)."""
    try:
        return request.get_json(silent=True) if request.is_json or request.data else None
    except RecursionError:
        g.json_problem = _TOO_DEEP
        return None


#: Python's types of parsed JSON and JSON's names for them (bool before int: True is an int too).
_JSON_KINDS = ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), ((int, float), "number"))


def json_kind(value: object) -> str:
    """What a parsed JSON value is, in JSON's words ("an array", "a string"...)."""
    kind = next((name for cls, name in _JSON_KINDS if isinstance(value, cls)), "null")
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def object_expected(body: object):
    """The 400 for a body that is no JSON object, saying what it is instead (empty, not JSON, an array...)."""
    if body is None:
        data = request.get_data(cache=True).strip()
        what = "the body is empty" if not data else "it is null" if data == b"null" else "the body is not valid JSON"
        digits = sys.get_int_max_str_digits()
        if data and re.search(rb"\d{%d}" % (digits + 1), data):  # valid JSON, but Python reads no such number
            what = f"a number in it has more than {digits:,} digits"
        what = g.get("json_problem") or what
        if not request.is_json and (data or request.form):  # a form or text/plain: JSON is not read from it
            what = f"it is sent as {request.mimetype or 'no type'}: send JSON with Content-Type: application/json"
    else:
        what = f"it is {json_kind(body)}"
    return error_response(400, f"the body must be a JSON object with at least a 'name': {what}")


def as_cells(profile: dict) -> dict:
    """A JSON profile's values as CSV text (lists joined with ';', numbers without exponent), like the library.

    Raises :class:`matcher.InvalidValue` (``too_long``) for the first contract field longer than
    :data:`web.inputs.API_FIELD_LIMIT`; keys that name no field pass through as they are, of any length.
    """
    cells = {key: to_cell(value) for key, value in profile.items()}
    for key, cell in cells.items():
        if cell is not None and len(cell) > API_FIELD_LIMIT and (name := field_for(str(key))) is not None:
            raise matcher.InvalidValue(name, cell, Reason("too_long", limit=API_FIELD_LIMIT, actual=len(cell)))
    return cells


def with_key(data: dict, profile: dict) -> dict:
    """``data`` with the profile's own ``id`` (its caller key, passed through as the data contract says), if
    it gave a non-empty one under that exact name: a string as it is, any other JSON value as its JSON text
    (``42`` -> ``"42"``, ``1.25`` -> ``"1.25"``, ``true`` -> ``"true"``)."""
    key = profile.get("id")
    if key is not None and key != "":
        data["id"] = key if isinstance(key, str) else json.dumps(key, ensure_ascii=False)
    return data


def score_answer(profile: dict, lang: str) -> dict:
    """What ``POST /score`` answers for a JSON profile: its result, the warnings and the caller's ``id`` (the
    API page's example is scored by it too); raises :class:`matcher.InvalidValue`."""
    cells = as_cells(profile)
    data = result_json(services.score(cells, lang))
    data["warnings"] = okved_warnings(cells.get("okved"), lang)
    return with_key(data, profile)


@bp.post("/score")
def score():
    """Score one profile (a JSON object)."""
    body = json_body()
    if not isinstance(body, dict):
        return object_expected(body)
    lang = api_lang()
    try:
        return jsonify(score_answer(body, lang))
    except matcher.InvalidValue as exc:
        return error_response(400, str(exc), exc.field, **invalid_json(exc, lang))


@bp.get("/okved")
def okved():
    """OKVED 2 codes for a typed code prefix or title words, with their title in ``lang`` and sector."""
    lang = api_lang()
    query = request.args.get("q", "")[:200]
    found = okved_index().search(query, lang, int_arg("limit", 10, 1, MAX_OKVED))
    return jsonify(results=[{"code": e.code, "title": e.titles[lang], "sector": e.sector} for e in found])


def _cells_or_error(profile: dict) -> dict | matcher.InvalidValue:
    try:
        return as_cells(profile)
    except matcher.InvalidValue as exc:
        return exc


@bp.post("/score/batch")
def score_batch():
    """Score a list of profiles; each item is a result or an error naming its field."""
    body = json_body()
    profiles = batch_profiles(body)
    if not isinstance(profiles, list):
        return error_response(400, 'the body must be a JSON array of profile objects (or {"profiles": [...]})')
    wrong = next((i for i, p in enumerate(profiles) if not isinstance(p, dict)), None)
    if wrong is not None:
        return error_response(
            400, f"item {wrong} of the list is {json_kind(profiles[wrong])}, not a profile object", None, index=wrong
        )
    if len(profiles) > MAX_BATCH:
        return error_response(413, f"at most {MAX_BATCH} profiles per request; use /batch for files")
    if not profiles:
        return jsonify(results=[], scored=0, errors=0)
    lang = api_lang()
    cells = [_cells_or_error(p) for p in profiles]
    scored = iter(services.assess_many([c for c in cells if isinstance(c, dict)], lang))
    results = [next(scored) if isinstance(c, dict) else c for c in cells]
    version = weights_version()
    items = [
        with_key(
            {**result_json(r, version), "warnings": okved_warnings(c.get("okved"), lang)}
            if isinstance(r, matcher.ScoreResult)
            else {"index": i, "error": str(r), "field": r.field, **invalid_json(r, lang)},
            p,
        )
        for i, (r, c, p) in enumerate(zip(results, cells, profiles, strict=True))
    ]
    errors = sum(1 for r in results if isinstance(r, matcher.InvalidValue))
    return jsonify(results=items, scored=len(items) - errors, errors=errors)


#: The columns of a lead the list's JSON shows (with every sort column, for its cursors: :mod:`web.keyset`).
LIST_COLUMNS = tuple(
    getattr(Lead, c)
    for c in (
        *("id", "name", "score", "band", "sector", "completeness", "status", "source", "created_at", "updated_at"),
        "sort_score",
    )
)


def _list_rows(leads: Select) -> Select:
    """Rows of :data:`LIST_COLUMNS` and the assignee's name (``assignee``) for the leads ``leads`` selects:
    at 20 leads a page, loading :class:`Lead` objects (every column, the JSON profile) and their sector rows
    through the ORM cost twice the CPU of the rest of the request."""
    return leads.with_only_columns(
        *LIST_COLUMNS, User.username.label("assignee"), maintain_column_froms=True
    ).outerjoin(User, User.id == Lead.assigned_to_id)


#: The detected sectors of the leads ``ids``, as :attr:`Lead.sector_rows` orders them (main first, then by
#: sector); built once per process.
_SECTORS = (
    select(LeadSector.lead_id, LeadSector.sector, LeadSector.share, LeadSector.main)
    .where(one_of(LeadSector.lead_id, "ids"))
    .order_by(LeadSector.lead_id, LeadSector.main.desc(), LeadSector.sector)
)


def _sectors_of(ids: list[int]) -> dict[int, list[dict]]:
    """Per lead id among ``ids``: its detected sectors as the JSON shows them (one statement)."""
    found: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        for lead_id, sector, share, main in read_rows(_SECTORS, {"ids": ids}).all():
            found[lead_id].append({"sector": sector, "share": share, "main": main})
    return found


def _summary(lead, assignee: str | None, sectors: list[dict]) -> dict:
    """What the JSON of a lead always shows (``lead``: a :class:`Lead` or a row of :data:`LIST_COLUMNS`)."""
    return {
        "id": lead.id,
        "name": lead.name,
        "score": lead.score,
        "band": lead.band,
        "sector": lead.sector,
        "completeness": lead.completeness,
        "status": lead.status,
        "source": lead.source,
        "assigned_to": assignee,
        "sectors": sectors,
        "created_at": lead.created_at.isoformat() + "Z",
        "updated_at": lead.updated_at.isoformat() + "Z",
    }


def lead_json(lead: Lead, full: bool = False) -> dict:
    """A lead as JSON; ``full`` adds the profile, latest breakdown, history and notes."""
    data = _summary(
        lead,
        lead.assigned_to.username if lead.assigned_to else None,
        [{"sector": row.sector, "share": row.share, "main": row.main} for row in lead.sector_rows],
    )
    if full:
        latest = lead.latest
        data["profile"] = lead.profile()
        data["assessment"] = _assessment_json(latest) if latest else None
        data["history"] = [
            {
                "score": a.score,
                "band": a.band,
                "weights_version": a.weights_version,
                "created_at": a.created_at.isoformat() + "Z",
            }
            for a in lead.assessments
        ]
        data["notes"] = [
            {
                "body": n.body,
                "author": n.author.username if n.author else None,
                "created_at": n.created_at.isoformat() + "Z",
            }
            for n in lead.notes
        ]
    return data


def _assessment_json(a) -> dict:
    return {
        "score": a.score,
        "band": a.band,
        "sector": a.sector,
        "contributions": a.contributions,
        "sectors": a.matched_sectors,
        "completeness": a.completeness,
        "missing": a.missing,
        "improvements": a.improvements,
        "explanation": a.explanation,
        "lang": a.lang,
        "texts": a.texts,
        "weights_version": a.weights_version,
        "created_at": a.created_at.isoformat() + "Z",
    }


@bp.get("/leads")
@token_required
def leads():
    """The lead list with the same filters as the staff page."""
    f = filters_from(request.args)
    rows_of = list_statement("api.rows", f, _list_rows)
    page = listing.paginate(rows_of, f, request.args, int_arg("per_page", 20, 1, 200), lambda: filtered_query(f))
    extra = {"facets": {"sector": sector_facets(f, filtered_query)}} if request.args.get("facets") == "sector" else {}
    sectors = _sectors_of([row.id for row in page.items])
    return jsonify(
        leads=[_summary(row, row.assignee, sectors[row.id]) for row in page.items],
        page=page.page,
        pages=page.pages,
        per_page=page.per_page,
        total=page.total,
        next=page.next_cursor,
        prev=page.prev_cursor,
        **extra,
    )


@bp.get(f"/leads/<int(max={MAX_ID}):lead_id>")  # a larger number is no id (PostgreSQL would refuse it): 404
@token_required
def lead(lead_id: int):
    """One lead with its breakdown, score history and notes."""
    item = db.session.get(Lead, lead_id)
    if item is None:
        return error_response(404, f"no lead with id {lead_id}")
    return jsonify(lead_json(item, full=True))


@bp.get("/health")
def health():
    """Liveness: the process answers. Never touches the database or Redis (a hung database must not
    make a load balancer restart healthy processes); readiness is :func:`ready`."""
    return jsonify(status="ok")


@bp.get("/ready")
def ready():
    """Readiness: the database answers a query, and Redis a ping when ``REDIS_URL`` is set.

    200 ``{"status": "ready", "checks": {...}}`` or 503 ``{"status": "unavailable", ...}``; each check
    is ``ok``, ``not configured`` or ``unreachable``, within the database and Redis timeouts.
    """
    from .database import check_database
    from .taskqueue import check_redis

    checks = {"database": check_database(), "redis": check_redis()}
    ok = all(value in ("ok", "not configured") for value in checks.values())
    response = jsonify(status="ready" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    if not ok:
        response.headers["Retry-After"] = "10"
    return response


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(document())
