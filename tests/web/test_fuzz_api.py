"""Schema-driven fuzzing of the JSON API: schemathesis reads ``/api/v1/openapi.json`` and calls the app in-process.

Every operation is called with requests generated from its schema (valid ones) and with requests
that break it (wrong types, missing fields, garbage bodies), on SQLite and on PostgreSQL. Checks:

- no 5xx, and no Python traceback in any body;
- every response's status, content type, headers and body conform to the document;
- every request the document calls valid is accepted (2xx): the document does not promise more than the
  readers take;
- every 4xx body is JSON with a non-empty ``error``; a profile that cannot be read names its ``field``.

The readers are lenient on purpose ("YES", "Да", " office ", extra keys), so a request outside the
schema may still be scored: schemathesis' ``negative_data_rejection`` check does not apply and is not run.
Generation is derandomized (the same examples on every run) and bounded to keep the file near 15 s per database.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.profile import FIELDS
from matcher.values import clean_text
from web.extensions import db
from web.models import Lead, User
from web.services import create_lead, issue_token, score

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    positive_data_acceptance,
    ignored_auth,
]
#: Examples per operation and generation mode; the scoring calls cost most, the rest are cheap.
EXAMPLES = {
    "POST /score": 30,
    "POST /score/batch": 20,
    "GET /leads": 20,
    "GET /leads/{lead_id}": 20,
    "GET /health": 5,
    "GET /ready": 5,
    "GET /okved": 20,
    "POST /match": 15,
}
TRACEBACK_MARKS = ("Traceback (most recent call last)", 'File "/', "site-packages")


@pytest.fixture
def api(make_app):
    """An app with three scored leads and an API token; yields (schemathesis schema, token)."""
    app = make_app(ASSESS_RATE_LIMIT="100000 per minute")
    with app.app_context():
        for name, okved in (("Volga Robotics", "28.99"), ("=SUM(A1)", "62.01"), ("Кама Софт", "")):
            profile = {"name": name, "okved": okved, "training": "committed"}
            create_lead(profile, score(profile), "assess", consent=True)
        user = db.session.execute(db.select(User).where(User.username == "analyst")).scalar_one()
        token = issue_token(user)
        db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), token


def _own_checks(case, response) -> list[str]:
    """The project's rules the document cannot state: no tracebacks; 4xx bodies say what and which field."""
    text = response.text
    problems = [f"traceback in the body: {text[:200]!r}" for mark in TRACEBACK_MARKS if mark in text][:1]
    if 400 <= response.status_code < 500:
        try:
            body = json.loads(text)
        except ValueError:
            return [*problems, f"{response.status_code} body is not JSON: {text[:200]!r}"]
        if not (isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"].strip()):
            problems.append(f"{response.status_code} body has no 'error' message: {body!r}"[:300])
        elif (
            response.status_code == 400
            and case.operation.label == "POST /score"
            and isinstance(case.body, dict)
            and body.get("field") not in FIELDS
        ):
            # the body is an object, so the only reason to refuse it is a field that cannot be read
            problems.append(f"400 without the field at fault: {body!r}"[:300])
    if response.status_code == 200 and case.operation.label == "POST /score/batch":
        for item in json.loads(text)["results"]:
            if "error" in item and item.get("field") not in FIELDS:
                problems.append(f"batch item error without the field at fault: {item!r}"[:300])
    return problems


def _fuzz(operation, mode: GenerationMode, headers: dict, failures: list[str]) -> None:
    label = operation.label

    @settings(
        max_examples=EXAMPLES[label],
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseExceptionGroup as group:  # schemathesis' FailureGroup: one entry per failed check
            failures.extend(f"{label} [{mode.value}] {type(e).__name__}: {str(e)[:600]}" for e in group.exceptions)
        except AssertionError as exc:
            failures.append(f"{label} [{mode.value}]: {str(exc)[:600]}")
        failures.extend(f"{label} [{mode.value}]: {p}" for p in _own_checks(case, response))

    try:
        run()
    except Unsatisfiable:  # an operation with nothing to break (GET /health) has no negative examples
        assert mode is GenerationMode.NEGATIVE


def test_api_survives_schema_driven_fuzzing(api):
    schema, token = api
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == set(EXAMPLES)
    for operation in operations:
        headers = {"Authorization": f"Bearer {token}"} if "leads" in operation.label else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers, failures)
    unique = list(dict.fromkeys(failures))
    assert not unique, f"{len(unique)} distinct problems:\n" + "\n\n".join(unique[:10])


# --- bodies found hostile by fuzzing, kept as plain examples ---------------------------------------------


HOSTILE_BODIES = [  # (body, status, field at fault)
    (b"[" * 100_000, 400, None),  # nested too deep for the JSON reader
    (b'{"name": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", 400, None),
    (b'{"name": "\\ud800 Volga"}', 200, None),  # an unpaired surrogate: JSON allows it, UTF-8 does not
    (b'{"name": "Volga", "investment_usd": 1e20}', 200, None),  # Python writes 1e+20
    (b'{"name": "Volga", "investment_usd": 1.234}', 200, None),  # not 1234 (a dot grouping thousands)
    (b'{"name": "Volga", "employees": 1.234}', 400, "employees"),
    (b'{"name": "Volga", "investment_usd": -5}', 400, "investment_usd"),
    (b'{"name": "Volga", "okved": ["62.01", "26.3"]}', 200, None),
    (b'{"name": NaN}', 400, None),  # no JSON: NaN and Infinity are refused, not read as missing
    (b'{"name": "Volga", "investment_usd": NaN}', 400, None),
    (b'{"name": "Volga", "employees": -Infinity}', 400, None),
    (b"\xff\xfe\x00", 400, None),
    (b'{"name": "Volga\\u0000 Robotics", "description": "\\u0000"}', 200, None),  # PostgreSQL text holds no NUL
    (b'{"name\\u0000": "x", "name": "Volga", "city": "\\u001b[31mKazan"}', 200, None),
    (b'{"name": "\\u0000\\u0007"}', 400, "name"),  # nothing left of the name once cleaned
    (b'{"name": "\\u200b\\u200b"}', 400, "name"),  # zero-width spaces, a Hangul filler: no name one can see
    (b'{"name": "\\u3164"}', 400, "name"),
]


def test_hostile_json_bodies(make_app):
    client = make_app(users=False).test_client()
    for body, status, field in HOSTILE_BODIES:
        response = client.post("/api/v1/score", data=body, content_type="application/json")
        assert response.status_code == status, body[:60]
        data = response.get_json()
        assert (data.get("field") if status != 200 else None) == field, body[:60]
        if status == 200:
            assert data["score"] >= 0 and data["name"]
    # a JSON number is the amount it says: 999.999 is not 999999 (a dot grouping thousands in text)
    small = client.post("/api/v1/score", json={"name": "A", "investment_usd": 999.999}).get_json()
    large = client.post("/api/v1/score", json={"name": "A", "investment_usd": 999999}).get_json()
    assert small["score"] < large["score"]


def test_a_lead_id_beyond_32_bits_is_404_not_500(make_app):
    app = make_app()
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.username == "analyst")).scalar_one()
        token = issue_token(user)
        db.session.commit()
    response = app.test_client().get(f"/api/v1/leads/{2**31}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404 and response.get_json()["error"]


@settings(max_examples=40, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.text(min_size=1, max_size=30), description=st.text(max_size=60))
def _submit_any_text(client, app, name, description):
    response = client.post(
        "/assess/submit",
        data={"name": name, "description": description, "contact_email": "a@example.org", "consent": "y"},
    )
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:  # stored: as cleaned, never lost
        with app.app_context():
            lead = db.session.execute(db.select(Lead).order_by(Lead.id.desc()).limit(1)).scalar_one()
            assert lead.name == clean_text(name).strip()


def test_public_submission_of_any_text_is_stored_or_refused(make_app):
    """Any text (NUL, controls, any script) in the self-assessment: stored cleaned or a 400, never a 500."""
    app = make_app(users=False)
    _submit_any_text(app.test_client(), app)
