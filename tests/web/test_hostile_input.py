"""No 500 on hostile input, on SQLite and on PostgreSQL.

Control characters (PostgreSQL text cannot hold NUL), lone surrogates (not UTF-8), integers
beyond the database's columns, file names beyond their column, and weights or settings that
would make every score 0 are either cleaned and stored or refused with a message: never a 500.
"""

from __future__ import annotations

import json
import re

import pytest

from web.extensions import db
from web.models import AuditLog, BatchJob, Lead, Note, Setting, User, WeightsVersion
from web.services import create_lead, score

NUL_NAME = "Volga\x00 Robo\x07tics\x85"


def _lead_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(Lead.name).order_by(Lead.id)).scalars())


# --- control characters and lone surrogates ------------------------------------------------------------


def test_public_submission_with_nul_is_stored_without_it(app, client):
    data = {
        "name": NUL_NAME,
        "description": "robots\x00 and\tautomation\r\nlines",
        "okved": "28.99",
        "contact_email": "a@example.org",
        "consent": "y",
        "city": "Ka\x00zan",
    }
    response = client.post("/assess/submit", data=data)
    assert response.status_code == 200
    assert "Thank you" in response.get_data(as_text=True)
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        # NUL, BEL and the C1 control NEL are gone; tab and CR/LF stay
        assert (lead.name, lead.city) == ("Volga Robotics", "Kazan")
        assert lead.description == "robots and\tautomation\r\nlines"


def test_assess_form_with_nul_is_scored(client):
    response = client.post("/assess", data={"name": NUL_NAME, "okved": "28.99\x00"})
    assert response.status_code == 200
    assert "Volga Robotics" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        {"name": NUL_NAME, "okved": "28.99", "description": "robots\x00"},
        {"name": "Volga \ud800Robotics", "description": "lone \udfff surrogate"},
        {"name\x00": "key with NUL", "name": "Volga"},
    ],
)
def test_api_score_with_control_characters(client, body):
    response = client.post("/api/v1/score", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["score"] >= 0


@pytest.mark.parametrize(
    ("name", "ensure_ascii", "encoding", "shown"),
    [
        (NUL_NAME, True, "utf-8", "Volga Robotics"),  # escaped: \\u0000
        ("Volga\x7f Robo\x85tics", False, "utf-8", "Volga Robotics"),  # DEL and NEL written as they are
        ("Volga \xabRobotics\xbb", False, "utf-8", "Volga \xabRobotics\xbb"),  # no control character: kept
        ("Volga\x85 Robotics", False, "utf-16", "Volga Robotics"),
    ],
)
def test_api_cleans_every_spelling_of_a_json_body(client, name, ensure_ascii, encoding, shown):
    body = json.dumps({"name": name}, ensure_ascii=ensure_ascii).encode(encoding)
    response = client.post("/api/v1/score", data=body, content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["name"] == shown


def test_api_batch_with_nul(client):
    response = client.post("/api/v1/score/batch", json=[{"name": NUL_NAME}, {"name": "\x00"}])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["scored"], body["errors"]) == (1, 1)  # a name of only NUL is no name


def test_search_and_filters_with_nul(client, auth, make_lead):
    make_lead(name="Volga Robotics")
    auth.login()
    response = client.get("/leads?q=Vol%00ga&sector=%00&sort=%00")
    assert response.status_code == 200
    assert "Volga Robotics" in response.get_data(as_text=True)
    assert client.get("/leads/export.csv?q=%00").status_code == 200


def test_api_leads_search_with_nul(app, client):
    from web.services import issue_token

    with app.app_context():
        token = issue_token(db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one())
        db.session.commit()
    response = client.get("/api/v1/leads?q=%00&status=%00", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_note_with_nul_is_stored_without_it(app, client, auth, make_lead):
    lead_id = make_lead()
    auth.login()
    response = client.post(f"/leads/{lead_id}/notes", data={"note-body": "call\x00 back\x1b"})
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.execute(db.select(Note.body)).scalar_one() == "call back"


def test_login_with_nul_in_user_name(client):
    response = client.post("/login", data={"username": "ana\x00lyst", "password": "wrong\x00"})
    assert response.status_code in (200, 400, 401)
    response = client.post("/login", data={"username": "\x00", "password": "x"})
    assert response.status_code in (200, 400, 401)


def test_new_user_with_nul(app, client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "email": "new\x00@example.org",
            "username": "new\x00user",
            "role": "analyst",
            "password": "password-123",
            "confirm": "password-123",
        },
    )
    assert response.status_code in (200, 302)
    with app.app_context():
        assert db.session.execute(db.select(User).filter_by(username="newuser")).scalar_one().email == "new@example.org"


def test_model_layer_cleans_imported_rows(app):
    """Leads made outside a request (batch import, CLI) go through the same cleaning before the database."""
    profile = {"name": NUL_NAME, "description": "x\x00y", "city": "\x1bKazan", "extra\x00col": "v\x00"}
    with app.app_context():
        create_lead(profile, score(profile), "batch", consent=False)
        db.session.commit()
        lead = db.session.execute(db.select(Lead)).scalar_one()
        assert (lead.name, lead.description, lead.city) == ("Volga Robotics", "xy", "Kazan")
        assert lead.extras == {"extracol": "v"}
        assert "\x00" not in lead.latest.explanation


def test_batch_import_with_control_characters_in_cells(app, client, auth):
    from web_testlib import upload, wait_done, wait_imported

    auth.login()
    data = "name,description,okved\nVolga\x1b Robotics,robots\x7f,28.99\nNord\x01Chip,chips\x9f,26.11\n".encode()
    response = upload(client, data)
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    assert client.post(f"/batch/{job_id}/import").status_code in (200, 302)
    assert wait_imported(client, job_id)["import_state"] == "done"  # the import runs in the background
    assert sorted(_lead_names(app)) == ["NordChip", "Volga Robotics"]
    # a NUL byte makes the file binary to the reader: refused with its reason, not a 500
    response = upload(client, b"name\nVolga\x00 Robotics\n")
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


# --- integers beyond the columns, names beyond their column ------------------------------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "query",
    [
        f"page={HUGE}",
        "page=9223372036854775807",
        "page=-5",
        f"per_page={HUGE}",
        "per_page=-1",
        "per_page=0",
        f"page={2**40}&per_page=200",
        f"min_completeness={HUGE}",
        "min_completeness=nan",
    ],
)
def test_lead_list_with_huge_numbers(client, auth, make_lead, query):
    make_lead()
    auth.login()
    assert client.get(f"/leads?{query}").status_code == 200


def test_api_lead_list_with_huge_page(app, client):
    from web.services import issue_token

    with app.app_context():
        token = issue_token(db.session.execute(db.select(User).filter_by(username="analyst")).scalar_one())
        db.session.commit()
    for query in (f"page={HUGE}", f"per_page={HUGE}", "page=-1", f"page={2**31}"):
        response = client.get(f"/api/v1/leads?{query}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, query
        assert response.get_json()["leads"] == [] or query.startswith("per_page")


@pytest.mark.parametrize("query", [f"a={2**31}&b={HUGE}", f"a=-1&b=0&k={HUGE}", f"k=-{HUGE}", "a=x&b=1.5"])
def test_compare_with_huge_ids(client, auth, make_lead, query):
    make_lead()
    auth.login("admin")
    assert client.get(f"/admin/weights/compare?{query}").status_code == 200


def test_huge_ids_in_paths_are_404(client, auth):
    auth.login("admin")
    assert client.get(f"/leads/{HUGE}").status_code == 404
    assert client.get(f"/admin/weights/{2**31}").status_code == 404
    assert client.get(f"/batch/{2**31}").status_code == 404
    assert client.post(f"/admin/users/{2**31}/role").status_code == 404


def test_stale_form_version_beyond_64_bits(client, auth, make_lead):
    lead_id = make_lead()
    auth.login()
    response = client.post(f"/leads/{lead_id}/status", data={"status-status": "contacted", "row_version": HUGE})
    assert response.status_code in (302, 409)


def test_upload_with_a_very_long_name_keeps_its_extension(app, client, auth):
    from web_testlib import upload, wait_done

    auth.login()
    response = upload(client, b"name\nVolga Robotics\n", name="\u0444" * 300 + "\x00.csv")
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert wait_done(client, job_id)["state"] == "done"
    download = client.get(f"/batch/{job_id}/scored.csv")
    download.close()
    assert download.status_code == 200 and ".scored.csv" in download.headers["Content-Disposition"]
    with app.app_context():
        name = db.session.execute(db.select(BatchJob.filename)).scalar_one()
    assert len(name) <= 255 and name.endswith(".csv") and name.startswith("\u0444") and "\x00" not in name


# --- weights and settings that would make every score 0 ----------------------------------------------------


def _versions(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(WeightsVersion.id))).scalar()


ZERO = {
    f"criteria.{c}": "0"
    for c in ("sector_fit", "green", "tech_transfer", "training", "local_linkage", "capacity", "readiness")
}


@pytest.mark.parametrize(
    ("values", "lang", "message"),
    [
        ({"criteria.training": "1e308"}, "en", "criteria.training: must be between 0 and 1000, not 1e+308"),
        ({"criteria.training": "1e308"}, "ru", "criteria.training: должно быть от 0 до 1000, а не 1e+308"),
        ({"criteria.training": "1e308"}, "vi", "criteria.training: phải từ 0 đến 1000, không phải 1e+308"),
        ({"criteria.training": "inf"}, "en", "criteria.training: must be a finite number, not inf"),
        ({"criteria.training": "nan"}, "en", "criteria.training: must be a finite number, not nan"),
        ({"criteria.training": "-3"}, "en", "criteria.training: must be between 0 and 1000, not -3"),
        ({"answers.training.committed": "1e308"}, "en", "answers.training.committed: must be between 0 and 1"),
        (ZERO, "en", "criteria: the criterion weights must add up to at least 0.01, not 0"),
        (ZERO, "ru", "criteria: сумма весов критериев должна быть не меньше 0.01, а не 0"),
        (ZERO, "vi", "criteria: tổng trọng số các tiêu chí phải ít nhất là 0.01, không phải 0"),
    ],
)
def test_weights_that_would_zero_every_score_are_refused(app, client, auth, values, lang, message):
    auth.login("admin")
    response = client.post(f"/admin/weights?lang={lang}", data={**values, "reason": "why"}, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _versions(app) == 1


@pytest.mark.parametrize(
    ("data", "lang", "message"),
    [
        ({"spread": "95", "top_k": "10", "unverified_factor": "1"}, "en", "The spread must be between 0 and 90 %."),
        ({"spread": "95", "top_k": "10", "unverified_factor": "1"}, "ru", "Разброс должен быть от 0 до 90 %."),
        ({"spread": "95", "top_k": "10", "unverified_factor": "1"}, "vi", "Biên độ phải từ 0 đến 90 %."),
        ({"spread": "-1", "top_k": "10", "unverified_factor": "1"}, "en", "The spread must be between 0 and 90 %."),
        ({"spread": HUGE, "top_k": "10", "unverified_factor": "1"}, "en", "The spread must be between 0 and 90 %."),
        (
            {"spread": "1" * 400, "top_k": "10", "unverified_factor": "1"},
            "en",
            "The spread must be between 0 and 90 %.",
        ),
        ({"spread": "20", "top_k": HUGE, "unverified_factor": "1"}, "en", "k must be 1 to 1000."),
        ({"spread": "20", "top_k": "1" * 400, "unverified_factor": "1"}, "en", "k must be 1 to 1000."),
        ({"spread": "20", "top_k": "0", "unverified_factor": "1"}, "ru", "k должно быть от 1 до 1000."),
        ({"spread": "20", "top_k": "10", "unverified_factor": "nan"}, "en", "The factor must be between 0 and 1."),
        ({"spread": "20", "top_k": "10", "unverified_factor": "inf"}, "en", "The factor must be between 0 and 1."),
        ({"spread": "20", "top_k": "10", "unverified_factor": "1e308"}, "en", "The factor must be between 0 and 1."),
    ],
)
def test_bad_ranking_settings_are_refused_with_a_message(app, client, auth, data, lang, message):
    auth.login("admin")
    response = client.post(f"/admin/weights/settings?lang={lang}", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Setting)).scalar() == 0
        assert not db.session.execute(db.select(AuditLog).filter_by(action="weights.settings")).first()


def test_good_ranking_settings_are_saved(app, client, auth):
    auth.login("admin")
    response = client.post(
        "/admin/weights/settings",
        data={"spread": "90", "top_k": "1000", "unverified_factor": "0"},
        follow_redirects=True,
    )
    assert "Settings saved." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Setting, "spread").value == pytest.approx(0.9)


def test_search_box_shows_the_cleaned_query(client, auth):
    """The page echoes what was searched for: without the control characters."""
    auth.login()
    html = client.get("/leads?q=ab%00%07cd").get_data(as_text=True)
    assert 'value="abcd"' in html
    assert not re.search("[\x00-\x08]", html)


# --- every route, with every query argument and form field hostile ------------------------------------

HOSTILE_ARGS = dict.fromkeys(("page", "per_page", "a", "b", "k", "row_version", "lead_id", "job_id"), HUGE)
HOSTILE_ARGS.update(
    dict.fromkeys(
        ("q", "sector", "band", "status", "sort", "dir", "verified", "lang", "next", "format"), "x\x00\x1b\x85"
    )
)
HOSTILE_ARGS["min_completeness"] = "nan"


def _hostile_form() -> dict:
    """Every field name of every form in the app, each holding a NUL, a control character and a huge number."""
    from web import forms

    names = {
        "row_version",
        "reason",
        "criteria.training",
        "tiers.general",
        "answers.training.committed",
        "ids",
        "action",
        "next",
        "assignee",
        "status",
    }
    for form_class in (
        forms.AssessForm,
        forms.SubmitLeadForm,
        forms.LoginForm,
        forms.NoteForm,
        forms.StatusForm,
        forms.AssignForm,
        forms.UserForm,
        forms.ReasonForm,
        forms.RankingSettingsForm,
        forms.EvidenceForm,
        forms.LeadForm,
        forms.ContactForm,
        forms.MergeForm,
        forms.EraseForm,
        forms.BulkDeleteForm,
        forms.SavedViewForm,
        forms.TaskForm,
        forms.ActivityForm,
    ):
        for prefix in ("", "note-", "status-", "assign-", "ev-training-", "contact-", "task-", "activity-"):
            names.update(
                prefix + name
                for name in form_class.__dict__
                if not name.startswith("_") and hasattr(getattr(form_class, name), "field_class")
            )
    return dict.fromkeys(names, "\x00" + HUGE + "\x07")


def _urls(app, method: str, lead_id: int) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint in ("static", "auth.logout"):
            continue
        ids = ("lead_id", "job_id", "version_id", "user_id", "other_id", "contact_id", "task_id", "view_id", "oid")
        values = {
            arg: lead_id if arg in ids else {"what": "role", "kind": "scored", "field": "training"}.get(arg, "x")
            for arg in rule.arguments
        }
        try:
            with app.test_request_context():
                from flask import url_for

                urls.append(url_for(rule.endpoint, **values))
        except Exception as exc:  # noqa: BLE001 -- a rule whose arguments we cannot fill is named
            raise AssertionError(f"cannot build {rule}: {exc}") from None
    return urls


def test_every_get_route_survives_hostile_query_strings(app, client, auth, make_lead):
    from urllib.parse import quote

    from web.services import issue_token

    lead_id = make_lead(training="committed")
    with app.app_context():
        token = issue_token(db.session.execute(db.select(User).filter_by(username="admin")).scalar_one())
        db.session.commit()
    auth.login("admin")
    query = "&".join(f"{k}={quote(v)}" for k, v in HOSTILE_ARGS.items()) + "&bad=%ED%A0%80%FF"  # not UTF-8
    for url in _urls(app, "GET", lead_id):
        response = client.get(f"{url}?{query}", headers={"Authorization": f"Bearer {token}"})
        response.close()
        assert response.status_code < 500, (url, response.status_code)


def test_every_post_route_survives_hostile_form_fields(app, client, auth, make_lead):
    lead_id = make_lead(training="committed")
    data = _hostile_form()
    for url in _urls(app, "POST", lead_id):
        auth.login("admin")
        response = client.post(url, data=data)
        response.close()
        assert response.status_code < 500, (url, response.status_code)


def test_a_stored_setting_out_of_bounds_is_read_as_its_default(make_app):
    """A top k of 1e308 stored before settings were checked: the pages use the default instead of failing."""
    from web import versions

    app = make_app(WEIGHTS_CACHE_SECONDS=0)
    client = app.test_client()
    with app.app_context():
        profile = {"name": "Volga Robotics", "okved": "28.99"}
        create_lead(profile, score(profile), "assess", consent=True)
        db.session.add_all([Setting(key="spread", value=0.95), Setting(key="top_k", value=1e308)])
        db.session.commit()
    with app.test_request_context():
        assert (versions.get_setting("spread"), versions.get_setting("top_k")) == (0.2, 10)
    client.post("/login", data={"username": "admin", "password": "admin-pass-123"})
    assert client.get("/leads").status_code == 200
    assert client.get("/admin/weights").status_code == 200
