"""CLI commands (``flask --app web ...``) and the first-start set-up used by ``matcher serve``."""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import func, or_

from matcher.data import SAMPLE_PROFILES

from . import services
from .extensions import db
from .models import Lead, User

SAMPLES = SAMPLE_PROFILES
#: The same bounds as the admin page's user form (web/forms.py, UserForm).
PASSWORD_LENGTH = (8, 200)


def load_samples(path: Path = SAMPLES) -> int:
    """Store the sample profiles as scored leads; returns how many were stored."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        profiles = list(csv.DictReader(handle))
    stored, _skipped = services.create_leads(profiles, "sample")
    return stored


def bootstrap(password: str | None = None) -> tuple[int, str | None]:
    """On an empty database: load the samples and create the ``admin`` account.

    Returns (leads loaded, the admin password if one was generated or set now, else None).
    Commits once.
    """
    loaded = 0
    if db.session.execute(db.select(Lead.id).limit(1)).first() is None and SAMPLES.exists():
        loaded = load_samples()
    created = None
    if db.session.execute(db.select(User.id).limit(1)).first() is None:
        created = password or os.environ.get("MATCHER_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        services.create_user("admin@example.org", "admin", created, "admin")
    db.session.commit()
    return loaded, created


def register(app: Flask) -> None:
    """Add the commands to ``app.cli``."""

    @app.cli.command("upgrade-db")
    def upgrade_db():
        """Create or upgrade the database schema (Alembic)."""
        from .schema import upgrade

        upgrade(app)
        click.echo("database is up to date")

    @app.cli.command("bootstrap")
    def bootstrap_command():
        """Load the sample leads and create the admin account on an empty database."""
        loaded, password = bootstrap()
        click.echo(f"{loaded} sample leads loaded")
        if password:
            click.echo(f"admin account: user 'admin', password {password}")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.argument("email")
    @click.option("--role", type=click.Choice(["analyst", "admin"]), default="analyst")
    @click.password_option()
    def create_user(username, email, role, password):
        """Create a staff account (the password is asked twice unless --password is given)."""
        if db.session.execute(
            db.select(User.id).where(
                or_(func.lower(User.email) == email.strip().lower(), User.username == username.strip())
            )
        ).first():
            raise click.ClickException("a user with this e-mail or user name exists already")
        check_length(password)
        services.create_user(email, username, password, role)
        db.session.commit()
        click.echo(f"user {username} ({role}) created")

    @app.cli.command("list-users")
    def list_users():
        """List the staff accounts: user name, e-mail, role, active or not."""
        for user in db.session.execute(db.select(User).order_by(User.username)).scalars():
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.username}\t{user.email}\t{user.role}\t{state}")

    @app.cli.command("reset-password")
    @click.argument("username")
    @click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
    @click.option("--generate", is_flag=True, help="Make a random password and print it once.")
    def reset_password(username, password_stdin, generate):
        """Give a staff account a new password (asked twice unless --password-stdin or --generate)."""
        user = find_user(username)
        password = new_password(password_stdin, generate)
        set_password(user, password)
        db.session.commit()
        click.echo(f"password of {user.username} changed" + (f": {password}" if generate else ""))
        if not user.active:
            click.echo(f"note: {user.username} is deactivated and still cannot log in", err=True)

    @app.cli.command("deactivate-user")
    @click.argument("username")
    def deactivate_user(username):
        """Stop a staff account from logging in or using its API token (an admin can turn it on again)."""
        user = find_user(username)
        if not user.active:
            click.echo(f"{user.username} is already deactivated")
            return
        deactivate(user)
        db.session.commit()
        click.echo(f"{user.username} deactivated")


def find_user(name: str) -> User:
    """The account with this user name or e-mail (as the login form finds it); a one-line error if none."""
    user = db.session.execute(
        db.select(User).where(or_(User.username == name.strip(), func.lower(User.email) == name.strip().lower()))
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {name!r} (see flask --app web list-users)")
    return user


def new_password(from_stdin: bool, generate: bool) -> str:
    """The new password: generated, read from stdin's first line, or typed twice; checked like the admin form."""
    if from_stdin and generate:
        raise click.UsageError("use --password-stdin or --generate, not both")
    if generate:
        return secrets.token_urlsafe(15)
    if from_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    return check_length(password)


def check_length(password: str) -> str:
    """``password`` if its length is within the admin form's bounds, else a one-line error."""
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise click.ClickException(f"the password must have {low} to {high} characters")
    return password


def set_password(user: User, password: str) -> None:
    """Store the new password hash and audit it (never the password)."""
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    services.audit("user.password", user, via="command line")  # the flush ends every session (web.sessions)


def deactivate(user: User) -> None:
    """Turn the account off, as the admin page's switch does, and audit it."""
    user.active = False
    services.audit("user.active", user, active=False, via="command line")  # its sessions end on flush
