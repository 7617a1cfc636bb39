"""Escaping, CSRF, upload limit, cookies."""

from web.extensions import db
from web.models import Lead

XSS = "<script>alert(1)</script>"


def test_firm_name_is_escaped_on_result_page(client):
    html = client.post("/assess", data={"name": XSS, "okved": "62.01"}).get_data(as_text=True)
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_stored_name_is_escaped_for_staff(client, auth, make_lead):
    lead_id = make_lead(name=XSS, description=f"robots {XSS}", city="<img src=x onerror=alert(1)>")
    auth.login()
    for url in ("/leads", f"/leads/{lead_id}", f"/leads/{lead_id}/report", "/leads?q=script"):
        html = client.get(url).get_data(as_text=True)
        assert XSS not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_csrf_is_required_on_forms(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post(
        "/assess/submit", data={"name": "X", "okved": "62.01", "contact_email": "a@b.example", "consent": "y"}
    )
    assert response.status_code == 400
    response = client.post("/login", data={"username": "admin", "password": "x"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(Lead)).first() is None


def test_csrf_token_round_trip(make_app):
    import re

    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    html = client.get("/assess").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/assess", data={"csrf_token": token, "name": "Volga", "okved": "62.01"})
    assert response.status_code == 200 and "Volga" in response.get_data(as_text=True)


def test_upload_limit_has_a_clear_message(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    client = app.test_client()
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123"})
    response = client.post(
        "/batch",
        data={"file": (__import__("io").BytesIO(b"name\n" + b"x" * 4096), "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "The file is too large: the upload limit is" in response.get_data(as_text=True)


def test_session_cookie_flags(client, auth):
    response = auth.login()
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
