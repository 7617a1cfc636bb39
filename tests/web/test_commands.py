"""``flask --app web`` user commands: create, list, reset a password, deactivate (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from web.extensions import db
from web.models import AuditLog, User


def user(app, username: str) -> User:
    with app.app_context():
        found = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        db.session.expunge(found)
        return found


def can_log_in(app, username: str, password: str) -> bool:
    response = app.test_client().post("/login", data={"username": username, "password": password})
    return response.status_code == 302


def test_list_users(runner):
    result = runner.invoke(args=["list-users"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "admin\tadmin@example.org\tadmin\tactive",
        "analyst\tanalyst@example.org\tanalyst\tactive",
    ]


def test_reset_password_asks_twice(app, runner):
    result = runner.invoke(
        args=["reset-password", "analyst"], input="new-pass-456\nother-pass-456\nnew-pass-456\nnew-pass-456\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output and "password of analyst changed" in result.output
    assert "new-pass-456" not in result.output
    assert can_log_in(app, "analyst", "new-pass-456")
    assert not can_log_in(app, "analyst", "analyst-pass-123")


def test_reset_password_from_stdin_by_email(app, runner):
    result = runner.invoke(args=["reset-password", "Admin@Example.org", "--password-stdin"], input="from-a-script-1\n")
    assert result.exit_code == 0, result.output
    assert result.output == "password of admin changed\n"
    assert can_log_in(app, "admin", "from-a-script-1")


def test_reset_password_generated_is_printed_once(app, runner):
    result = runner.invoke(args=["reset-password", "admin", "--generate"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(": ", 1)[1]
    assert len(password) >= 16 and result.output.count(password) == 1
    assert can_log_in(app, "admin", password)


def test_reset_password_is_audited_without_the_password(app, runner):
    runner.invoke(args=["reset-password", "analyst", "--password-stdin"], input="audited-pass-1\n")
    with app.app_context():
        entry = db.session.execute(db.select(AuditLog).filter_by(action="user.password")).scalar_one()
        assert (entry.object_id, entry.user_id, entry.details) == (
            user(app, "analyst").id,
            None,
            {"via": "command line"},
        )


@pytest.mark.parametrize(
    "args, stdin, code, message",
    [
        (["reset-password", "nobody", "--generate"], "", 1, "Error: no user 'nobody'"),
        (["reset-password", "analyst", "--password-stdin"], "short\n", 1, "must have 8 to 200 characters"),
        (["reset-password", "analyst", "--password-stdin"], "", 1, "must have 8 to 200 characters"),
        (["reset-password", "analyst", "--password-stdin", "--generate"], "", 2, "not both"),
        (["deactivate-user", "nobody"], "", 1, "Error: no user 'nobody'"),
        (["create-user", "analyst", "new@example.org", "--password", "long-enough-1"], "", 1, "exists already"),
        (["create-user", "carol", "ANALYST@example.org", "--password", "long-enough-1"], "", 1, "exists already"),
        (["create-user", "carol", "carol@example.org", "--password", "short"], "", 1, "must have 8 to 200"),
    ],
)
def test_refusals_are_one_line_and_change_nothing(app, runner, args, stdin, code, message):
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code == code and message in result.output, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output  # click's error, no crash
    assert can_log_in(app, "analyst", "analyst-pass-123")
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 2


def test_deactivate_user(app, runner):
    result = runner.invoke(args=["deactivate-user", "analyst"])
    assert (result.exit_code, result.output) == (0, "analyst deactivated\n")
    assert not user(app, "analyst").active
    assert not can_log_in(app, "analyst", "analyst-pass-123")
    assert runner.invoke(args=["deactivate-user", "analyst"]).output == "analyst is already deactivated\n"
    assert runner.invoke(args=["list-users"]).output.splitlines()[1].endswith("\tdeactivated")
    result = runner.invoke(args=["reset-password", "analyst", "--password-stdin"], input="still-off-123\n")
    assert result.exit_code == 0 and "is deactivated" in result.output
    assert not can_log_in(app, "analyst", "still-off-123")


def test_deactivated_user_loses_an_open_session(app, client, auth, runner):
    auth.login()
    assert client.get("/leads").status_code == 200
    runner.invoke(args=["deactivate-user", "analyst"])
    assert client.get("/leads").status_code == 302  # back to the login page


def test_reset_password_ends_open_sessions_and_remember_cookies(app, client, runner):
    client.post("/login", data={"username": "analyst", "password": "analyst-pass-123", "remember": "y"})
    copied = client.get_cookie("remember_token").value
    assert client.get("/leads").status_code == 200
    reset = runner.invoke(args=["reset-password", "analyst", "--password-stdin"], input="fresh-pass-789\n")
    assert reset.exit_code == 0
    assert client.get("/leads").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", copied)
    assert replay.get("/leads").status_code == 302
