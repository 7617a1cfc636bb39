"""CLI commands (``flask --app web ...``) and the first-start set-up used by ``matcher serve``."""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path

import click
from flask import Flask

from matcher.data import SAMPLE_PROFILES

from . import services
from .extensions import db
from .models import Lead, User

SAMPLES = SAMPLE_PROFILES


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
        """Create a staff account."""
        services.create_user(email, username, password, role)
        db.session.commit()
        click.echo(f"user {username} ({role}) created")
