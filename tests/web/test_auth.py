"""Staff login, logout, closed pages and roles."""

import pytest


def test_login_page(client):
    assert client.get("/login").status_code == 200


def test_login_and_logout(client, auth):
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"].endswith("/leads")
    assert client.get("/leads").status_code == 200
    auth.logout()
    assert client.get("/leads").status_code == 302


@pytest.mark.parametrize(("username", "password"), [("analyst", "wrong"), ("nobody", "x"), ("", "")])
def test_bad_login(client, auth, username, password):
    response = auth.login(username, password)
    assert response.status_code == 200 and client.get("/leads").status_code == 302


def test_login_by_email(client, auth):
    assert auth.login("ANALYST@example.org", "analyst-pass-123").status_code == 302


@pytest.mark.parametrize("url", ["/leads", "/leads/1", "/leads/export.csv", "/batch", "/admin/users", "/account"])
def test_staff_pages_redirect_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_next_is_kept_but_only_local(client, auth):
    response = client.post("/login?next=/batch", data={"username": "analyst", "password": "analyst-pass-123"})
    assert response.headers["Location"] == "/batch"
    auth.logout()
    response = client.post(
        "/login?next=https://evil.example/", data={"username": "analyst", "password": "analyst-pass-123"}
    )
    assert response.headers["Location"] == "/leads"


def test_analyst_cannot_manage_users(client, auth):
    auth.login("analyst")
    assert client.get("/admin/users").status_code == 403


def test_admin_creates_user_and_token(client, auth, app):
    auth.login("admin")
    response = client.post(
        "/admin/users",
        data={
            "email": "new@example.org",
            "username": "newbie",
            "role": "analyst",
            "password": "new-pass-123",
            "confirm": "new-pass-123",
        },
    )
    assert response.status_code == 302
    html = client.get("/admin/users").get_data(as_text=True)
    assert "newbie" in html
    from web.extensions import db
    from web.models import User

    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username="newbie")).scalar_one()
        assert user.password_hash != "new-pass-123" and user.check_password("new-pass-123")
        user_id = user.id
    html = client.post(f"/admin/users/{user_id}/token").get_data(as_text=True)
    assert "shown only once" in html


def test_passwords_must_match(client, auth):
    auth.login("admin")
    html = client.post(
        "/admin/users",
        data={
            "email": "x@example.org",
            "username": "xx",
            "role": "analyst",
            "password": "abcdefgh1",
            "confirm": "different1",
        },
    ).get_data(as_text=True)
    assert "The passwords differ" in html


def test_account_issues_token(client, auth):
    auth.login()
    html = client.post("/account").get_data(as_text=True)
    assert '<pre class="token">' in html
