"""JSON API: score one, score a batch, staff lead endpoints with Bearer tokens, OpenAPI document."""

import pytest

from web.extensions import db
from web.models import User
from web.services import issue_token

PROFILE = {
    "name": "Volga Robotics",
    "description": "Industrial robots and automation lines",
    "okved": "28.99",
    "training": "committed",
    "investment_usd": 2000000,
}


@pytest.fixture
def token(app):
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one()
        value = issue_token(user)
        db.session.commit()
    return value


def test_score_one(client):
    response = client.post("/api/v1/score?lang=ru", json=PROFILE)
    assert response.status_code == 200
    data = response.get_json()
    assert data["sector"] == "automation" and data["lang"] == "ru" and 0 <= data["score"] <= 100
    assert sum(c["points"] for c in data["contributions"]) == pytest.approx(data["score"], abs=0.05)
    assert data["weights_version"].startswith("v1 ") and "params" not in data


def test_score_one_language_from_header(client):
    data = client.post("/api/v1/score", json=PROFILE, headers={"Accept-Language": "vi"}).get_json()
    assert data["lang"] == "vi"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PROFILE, "employees": "lots"}, "employees"),
        ({**PROFILE, "investment_usd": "a lot"}, "investment_usd"),
        ({**PROFILE, "name": ""}, "name"),
        ({"description": "robots"}, "name"),
    ],
)
def test_score_bad_value_is_400_with_field(client, body, field):
    response = client.post("/api/v1/score", json=body)
    assert response.status_code == 400
    data = response.get_json()
    assert data["field"] == field and field in data["error"]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/v1/score", {**PROFILE, "employees": "lots"}, "count"),
        ("/api/v1/score", {**PROFILE, "investment_usd": "a lot"}, "money"),
        ("/api/v1/score", {"description": "robots"}, "name_required"),
        ("/api/v1/match", {**PROFILE, "okved": "62..01"}, "okved"),
    ],
)
def test_a_bad_value_carries_its_reason_code_and_a_message_in_the_asked_language(client, path, body, code):
    """Clients branch on ``reason_code``, show ``message`` (the request's language); ``error`` and
    ``reason`` stay English as before."""
    from matcher.messages import REASONS

    for lang in ("en", "ru", "vi"):
        data = client.post(f"{path}?lang={lang}", json=body).get_json()
        assert data["reason_code"] == code and code in REASONS
        assert data["reason"] in data["error"]  # English, unchanged
        english = client.post(f"{path}?lang=en", json=body).get_json()["message"]
        assert (data["message"] == english) == (lang == "en"), (lang, data["message"])
    batch = client.post("/api/v1/score/batch?lang=ru", json=[PROFILE, {**PROFILE, "employees": "lots"}]).get_json()
    item = batch["results"][1]
    assert (item["index"], item["reason_code"], item["message"]) == (1, "count", reason_ru("count"))


def test_a_field_longer_than_the_api_reads_is_refused_by_name_in_every_endpoint(client):
    """Reading text costs time in proportion to its length (a 20 MB description took 14 s of CPU): a contract
    field longer than the form's longest is a 400 naming it (``too_long``), in the asked language; a batch
    refuses only that item; a key that names no field is passed over at any length."""
    from web.inputs import API_FIELD_LIMIT

    assert API_FIELD_LIMIT == 5000
    longest = {**PROFILE, "description": "robots " * 714 + "ab"}  # 5,000 characters
    assert client.post("/api/v1/score", json=longest).status_code == 200
    too_long = {**PROFILE, "Описание": "robots " * 715}  # 5,005 characters, under a Russian header
    for path in ("/api/v1/score", "/api/v1/match"):
        response = client.post(f"{path}?lang=ru", json=too_long)
        data = response.get_json()
        assert response.status_code == 400 and data["field"] == "description" and data["reason_code"] == "too_long"
        assert data["message"] == "длиннее 5000 символов (5005): более длинный текст загрузите файлом в /batch"
        assert data["error"].startswith("description: more than 5000 characters (5005)")
    sectors = {**PROFILE, "sectors": ["software"] * 1000}  # a list is read as its ';'-joined text
    assert client.post("/api/v1/score", json=sectors).get_json()["field"] == "sectors"
    batch = client.post("/api/v1/score/batch", json=[PROFILE, too_long, {**PROFILE, "name": "C"}]).get_json()
    assert (batch["scored"], batch["errors"]) == (2, 1)
    assert (batch["results"][1]["index"], batch["results"][1]["reason_code"]) == (1, "too_long")
    assert batch["results"][2]["name"] == "C"
    assert client.post("/api/v1/score", json={**PROFILE, "notes": "x" * 100_000}).status_code == 200


def reason_ru(code: str) -> str:
    from matcher.messages import Reason

    return Reason(code).said("ru")


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"not json", "the body is not valid JSON"),
        (b'{"name": "A",', "the body is not valid JSON"),
        (b"", "the body is empty"),
        (b"null", "it is null"),
        (b"[1, 2]", "it is an array"),
        (b'"text"', "it is a string"),
        (b"12", "it is a number"),
        (b"true", "it is a boolean"),
        (b'{"name": "A", "id": ' + b"9" * 5000 + b"}", "a number in it has more than 4,300 digits"),
    ],
)
def test_score_needs_an_object_and_says_what_it_got(client, body, what):
    for path in ("/api/v1/score", "/api/v1/match"):
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["error"] == f"the body must be a JSON object with at least a 'name': {what}"


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"data": b'{"name": "A"}', "content_type": "text/plain"}, "it is sent as text/plain"),
        ({"data": {"name": "A"}}, "it is sent as application/x-www-form-urlencoded"),
        ({"data": b"[" * 5000 + b"]" * 5000, "content_type": "application/json"}, "it is nested too deep to read"),
    ],
)
def test_a_body_not_read_as_json_says_why(client, kwargs, what):
    """JSON sent as text or a form, or nested deeper than it can be read, is not "invalid JSON": the 400 says
    what it is (the content type to send)."""
    for path in ("/api/v1/score", "/api/v1/match"):
        error = client.post(path, **kwargs).get_json()["error"]
        assert error.startswith(f"the body must be a JSON object with at least a 'name': {what}"), error


def test_minus_zero_and_language_tags_are_read(client):
    """-0.0 is 0, as the schema's minimum says; ``?lang=ru-RU`` and ``vi_VN`` are Russian and Vietnamese."""
    assert client.post("/api/v1/score", json={**PROFILE, "investment_usd": -0.0}).status_code == 200
    assert client.post("/api/v1/score?lang=ru-RU", json=PROFILE).get_json()["lang"] == "ru"
    assert client.post("/api/v1/score?lang=vi_VN", json=PROFILE).get_json()["lang"] == "vi"


def test_score_does_not_need_csrf(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    assert app.test_client().post("/api/v1/score", json=PROFILE).status_code == 200


def test_score_batch(client):
    body = [PROFILE, {**PROFILE, "name": "B", "employees": "many"}, {**PROFILE, "name": "C", "okved": "79.11"}]
    data = client.post("/api/v1/score/batch", json=body).get_json()
    assert data["scored"] == 2 and data["errors"] == 1
    assert data["results"][1] == {
        "index": 1,
        "error": data["results"][1]["error"],
        "field": "employees",
        "reason": data["results"][1]["reason"],
        "reason_code": "count",
        "message": data["results"][1]["reason"],  # English: no language asked
    }
    assert data["results"][2]["sector"] == "tourism"
    wrapped = client.post("/api/v1/score/batch", json={"profiles": body}).get_json()
    assert [r.get("score") for r in wrapped["results"]] == [r.get("score") for r in data["results"]]


def test_score_batch_limits(client):
    assert client.post("/api/v1/score/batch", json={"x": 1}).status_code == 400
    wrong = client.post("/api/v1/score/batch", json=[PROFILE, 5, "x"])  # says which item is no profile
    assert wrong.status_code == 400
    assert wrong.get_json() == {
        "error": "item 1 of the list is a number, not a profile object",
        "field": None,
        "index": 1,
    }
    assert client.post("/api/v1/score/batch", json=[PROFILE] * 1001).status_code == 413
    assert client.post("/api/v1/score/batch", json=[]).get_json() == {"results": [], "scored": 0, "errors": 0}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}])
def test_lead_endpoints_need_a_token(client, headers):
    for url in ("/api/v1/leads", "/api/v1/leads/1"):
        response = client.get(url, headers=headers)
        assert response.status_code == 401 and "token" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_session_login_does_not_open_the_api(client, auth):
    auth.login()
    assert client.get("/api/v1/leads").status_code == 401


def test_list_and_get_leads(client, token, make_lead):
    first = make_lead(name="NordChip", okved="26.11", description="microelectronics", tech_transfer="committed")
    make_lead(name="Volga Robotics")
    headers = {"Authorization": f"Bearer {token}"}
    data = client.get("/api/v1/leads", headers=headers).get_json()
    assert data["total"] == 2 and [lead["name"] for lead in data["leads"]] == ["NordChip", "Volga Robotics"]
    data = client.get("/api/v1/leads?sector=electronics", headers=headers).get_json()
    assert [lead["id"] for lead in data["leads"]] == [first]
    lead = client.get(f"/api/v1/leads/{first}", headers=headers).get_json()
    assert lead["profile"]["okved"] == "26.11" and lead["assessment"]["sector"] == "electronics"
    assert len(lead["history"]) == 1
    missing = client.get("/api/v1/leads/99999", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]


def test_deactivated_user_token_is_refused(client, token, app):
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == "analyst").values(active=False))
        db.session.commit()
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/score", "/score/batch", "/leads", "/leads/{lead_id}", "/health"} <= set(doc["paths"])
    assert doc["paths"]["/score"]["post"]["responses"]["400"]
    assert doc["paths"]["/leads"]["get"]["security"] == [{"bearer": []}]
    refs = []

    def walk(node):
        if isinstance(node, dict):
            refs.extend(v for k, v in node.items() if k == "$ref")
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    for ref in refs:
        assert ref.split("/")[-1] in doc["components"]["schemas"], ref


def test_openapi_document_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    validate(client.get("/api/v1/openapi.json").get_json())


def test_openapi_result_schema_matches_a_real_result(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    data = client.post("/api/v1/score", json={**PROFILE, "id": "k1"}).get_json()
    assert set(data) == set(doc["components"]["schemas"]["Result"]["properties"])


def test_api_404_is_json(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and response.get_json()["error"]


def test_health(client):
    assert client.get("/api/v1/health").get_json() == {"status": "ok"}


def test_score_warns_of_an_okved_code_that_does_not_exist(client):
    data = client.post("/api/v1/score?lang=ru", json={**PROFILE, "okved": "99.99.99; 28.99"}).get_json()
    assert data["warnings"] == [
        {
            "field": "okved",
            "reason": "unknown_code",
            "code": "99.99.99",
            "message": "99.99.99 — не код ОКВЭД 2: отрасль по нему не определена",
        }
    ]
    assert data["sector"] == "automation"  # the real code still decides; the score is what it was
    assert client.post("/api/v1/score", json=PROFILE).get_json()["warnings"] == []
    en = client.post("/api/v1/score", json={"name": "V", "okved": ["99.99.99"]}).get_json()
    assert en["warnings"][0]["message"] == "99.99.99 is not an OKVED 2 code: no sector was read from it"
    # each result of a batch warns the same way
    batch = client.post("/api/v1/score/batch?lang=ru", json=[{**PROFILE, "okved": "99.99.99; 28.99"}, PROFILE])
    assert [r["warnings"] for r in batch.get_json()["results"]] == [data["warnings"], []]


@pytest.mark.parametrize(
    ("query", "lang", "first"),
    [
        (
            "28,99",
            "en",
            {"code": "28.99", "title": "Manufacture of other special-purpose machinery n.e.c.", "sector": "automation"},
        ),
        (
            "2620",
            "ru",
            {
                "code": "26.20",
                "title": "Производство компьютеров и периферийного оборудования",
                "sector": "electronics",
            },
        ),
        (
            "máy vi tính",
            "vi",
            {"code": "26", "title": "Sản xuất sản phẩm điện tử, máy vi tính và sản phẩm quang học", "sector": None},
        ),
    ],
)
def test_okved_lookup(client, query, lang, first):
    response = client.get("/api/v1/okved", query_string={"q": query, "lang": lang, "limit": 3})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert results[0] == first and len(results) <= 3


@pytest.mark.parametrize("query", ["", "zzzz", "99.99", "\x00", "x" * 5000])
def test_okved_lookup_of_nothing_is_an_empty_list(client, query):
    response = client.get("/api/v1/okved", query_string={"q": query, "limit": "many"})
    assert response.status_code == 200 and response.get_json() == {"results": []}


def test_personal_answers_are_never_cached_and_a_405_says_what_is_allowed(client, token, make_lead):
    lead = make_lead()
    headers = {"Authorization": f"Bearer {token}"}
    for response in (
        client.get(f"/api/v1/leads/{lead}", headers=headers),
        client.get("/api/v1/leads", headers=headers),
        client.post("/api/v1/score", json=PROFILE),
        client.get("/login"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
    with client.get("/static/style.css") as static:  # static files keep their own caching
        assert "no-store" not in static.headers.get("Cache-Control", "")
    for path, allowed in (("/api/v1/score", {"POST", "OPTIONS"}), ("/assess", {"GET", "HEAD", "POST", "OPTIONS"})):
        response = client.put(path)
        assert response.status_code == 405
        assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


def test_the_callers_id_is_passed_through(client):
    """The data contract's ``id`` (the caller's key) comes back with each result and each error, so a
    client can match them to its profiles; a profile without one gets none."""
    one = client.post("/api/v1/score", json={**PROFILE, "id": "crm-17"}).get_json()
    assert one["id"] == "crm-17"
    assert "id" not in client.post("/api/v1/score", json=PROFILE).get_json()
    body = [{**PROFILE, "id": 42}, {**PROFILE, "id": "x-2", "employees": "many"}, PROFILE, {**PROFILE, "id": None}]
    body += [{**PROFILE, "id": v} for v in (1.234, -0.0, True, {"a": 1}, [1, [2, 3]], "")]
    results = client.post("/api/v1/score/batch", json=body).get_json()["results"]
    # other JSON values than strings come back as their JSON text (not "1.2340", "yes" or a Python repr)
    expected = ["42", "x-2", None, None, "1.234", "-0.0", "true", '{"a": 1}', "[1, [2, 3]]", None]
    assert [r.get("id") for r in results] == expected
    assert results[1]["reason_code"] == "count"


@pytest.mark.parametrize("lang", ["en", "ru", "vi"])
def test_the_api_page_lists_every_endpoint_and_scores_its_example(client, lang):
    """The footer's "JSON API" leads to a page for people, read from the OpenAPI document: every operation of
    the document is on it, and its example answer is what POST /api/v1/score gives for the example."""
    import html
    import json

    page = client.get(f"/api?lang={lang}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = html.unescape(page.get_data(as_text=True))
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, item in doc["paths"].items():
        for method in item:
            assert f"{method.upper()} /api/v1{path}" in text, (method, path)
    example = doc["components"]["schemas"]["Profile"]["example"]
    scored = client.post(f"/api/v1/score?lang={lang}", json=example).get_json()
    shown = json.loads(text.split('<pre class="api-example"><code>')[2].split("</code></pre>")[0])
    assert shown == scored
    assert "[Profile] | {profiles: [Profile]}" in text  # the batch's body, either form
    assert 'href="/api"' in text  # the footer's link
    note = text.split("openapi.json</code></a>")[1].split("</p>")[0]  # English descriptions, said in ru and vi
    assert ("?lang=" in note) == (lang != "en")
