"""The field registry (matcher/fields.py) drives the forms, the OpenAPI schema, the CSV columns and the Lead table."""

from __future__ import annotations

import re

import pytest

from matcher import messages
from matcher.fields import REGISTRY
from web.forms import AssessForm, LeadForm
from web.models import Lead
from web.openapi import document

FORM_FIELDS = [f for f in REGISTRY if f.group]


def test_every_registry_field_is_in_the_openapi_profile_schema(app):
    with app.test_request_context():
        schema = document()["components"]["schemas"]
    assert list(schema["Profile"]["properties"]) == [f.name for f in REGISTRY]


def test_every_form_field_of_the_registry_is_on_both_profile_forms(app):
    with app.test_request_context():
        for form in (AssessForm(), LeadForm()):
            assert all(f.name in form for f in FORM_FIELDS)
            assert set(form.profile().keys()) <= {f.name for f in REGISTRY}


@pytest.mark.parametrize("url", ["/assess", "/leads/new"])
def test_every_form_field_of_the_registry_is_rendered(client, auth, url):
    auth.login()
    html = client.get(url).get_data(as_text=True)
    for f in FORM_FIELDS:
        assert re.search(rf'name="{f.name}"', html), f.name


def test_every_registry_field_is_a_lead_column_and_an_export_column(app):
    from web.services import export_header

    columns = set(Lead.__table__.columns.keys())
    assert all((f.name if f.name != "id" else "ext_id") in columns for f in REGISTRY)
    with app.app_context():
        header = export_header()
    assert [h.removesuffix("_input") for h in header[: len(REGISTRY)]] == [f.name for f in REGISTRY]


def test_a_form_error_keeps_its_translation_when_its_english_changes(client, monkeypatch):
    """Reasons are translated by code: rewording matcher's English loses no Russian or Vietnamese."""
    monkeypatch.setitem(messages.REASONS, "count", {**messages.REASONS["count"], "en": "a whole number, e.g. 250"})
    data = {"name": "Volga", "employees": "12.5"}
    ru = client.post("/assess?lang=ru", data=data).get_data(as_text=True)
    assert "ожидается целое число, например 250" in ru and "a whole number, e.g. 250" not in ru
    vi = client.post("/assess?lang=vi", data=data).get_data(as_text=True)
    assert "cần một số nguyên, ví dụ 250" in vi
    en = client.post("/assess?lang=en", data=data).get_data(as_text=True)
    assert "a whole number, e.g. 250" in en
