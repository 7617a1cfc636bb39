"""The web app's commands of ``matcher``: ``serve``, ``worker`` and ``db dump|restore``.

They plug into the one ``matcher`` command through the ``matcher.commands`` entry points of
setup.cfg (``serve = web.cli:add_serve``...), so the library never imports the web app: without
the ``web`` extra, :mod:`matcher.cli` cannot load this module and says which extra to install.
A database or Redis that cannot be reached is one line with exit status 5, the password masked.
See docs/architecture.md, "The matcher command".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from matcher.cli_base import EXIT_SERVICE, EXIT_USAGE, CommandError
from matcher.errors import MatcherError


def add_serve(sub) -> None:
    """``matcher serve [--host HOST] [--port PORT]``."""
    serve = sub.add_parser("serve", help="run the web application")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    serve.set_defaults(func=cmd_serve)


def add_worker(sub) -> None:
    """``matcher worker [--burst] [--name NAME]``."""
    worker = sub.add_parser("worker", help="run batch jobs from the Redis queue (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--name", default=None, help="worker name (default: RQ's own)")
    worker.set_defaults(func=cmd_worker)


def _web_app(serving: bool = True):
    """The web app as ``serve`` (``SECRET_KEY``, else the key kept in the instance folder) and ``worker``
    (``serving=False``: it signs no cookie) run it; a configuration the app refuses is a one-line usage error."""
    from . import ConfigError, create_app

    try:
        return create_app(instance_key=serving, serving=serving)
    except ConfigError as error:
        raise CommandError(error.message, EXIT_USAGE) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Upgrade the database, load the samples and an admin on first start, then serve the web app."""
    from .commands import bootstrap

    with _reaching_services():
        app = _web_app()
        with app.app_context():
            loaded, password = bootstrap()
    if loaded:
        print(f"loaded {loaded} sample leads", file=sys.stderr)
    if password:
        print(f"created the admin account: user 'admin', password {password} (shown once)", file=sys.stderr)
    print(f"serving on http://{args.host}:{args.port}/ (Ctrl+C to stop)", file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run batch jobs from the Redis queue (``REDIS_URL``), with the app's database and ``BATCH_DIR``."""
    from .worker import work  # RQ and Redis only here

    with _reaching_services():
        app = _web_app(serving=False)
        if not app.config.get("REDIS_URL"):
            raise CommandError(
                "REDIS_URL is not set: the worker needs Redis (e.g. REDIS_URL=redis://127.0.0.1:6379/0)", EXIT_SERVICE
            )
        work(app, burst=args.burst, name=args.name)
    return 0


@contextmanager
def _reaching_services(database_url: str | None = None) -> Iterator[None]:
    """A database or Redis that cannot be reached becomes one line, with the password masked."""
    try:
        yield
    except Exception as exc:
        service = _unreachable(exc)
        if service is None or isinstance(exc, CommandError):
            raise
        url = os.environ.get("REDIS_URL") if service == "Redis" else database_url or os.environ.get("DATABASE_URL")
        where = f" at {mask_url(url)}" if url else " (the SQLite file in instance/)" if service != "Redis" else ""
        raise CommandError(f"cannot reach {service}{where}: {_reason(exc)}", EXIT_SERVICE) from None


def _unreachable(exc: BaseException) -> str | None:
    """ "the database" or "Redis" when ``exc`` (or its cause) says that service cannot be reached."""
    for error in _chain(exc):
        module = type(error).__module__
        if module.startswith("redis") and type(error).__name__ in ("ConnectionError", "TimeoutError"):
            return "Redis"
        if module.startswith("sqlalchemy") and type(error).__name__ in ("OperationalError", "InterfaceError"):
            return "the database"
    return None


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc``, then what caused it, and so on."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words (``connection refused``)."""
    for error in _chain(exc):
        if isinstance(error, OSError) and error.strerror:
            text = error.strerror
            break
    else:
        text = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
        text = text.rsplit(": ", 1)[-1].rstrip(" .")
    return text[:1].lower() + text[1:]


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def cmd_db(args: argparse.Namespace) -> int:
    """Back up the web app's database to a portable file, or restore one (``matcher db dump|restore FILE``)."""
    from .dbtools import command  # Alembic only here

    try:
        with _reaching_services(args.database_url):
            print(command(args.action, args.file, args.database_url, getattr(args, "replace", False)), file=sys.stderr)
    except MatcherError as exc:
        if _unreachable(exc) is not None:  # dbtools says which database, without its password
            raise CommandError(str(exc), EXIT_SERVICE) from None
        raise
    return 0


def add_db(sub) -> None:
    """``matcher db dump FILE`` and ``matcher db restore FILE [--replace]``."""
    db = sub.add_parser("db", help="back up or restore the web app's database (portable across SQLite/PostgreSQL)")
    actions = db.add_subparsers(dest="action", required=True)
    dump = actions.add_parser("dump", help="write every row to FILE (gzip'ed JSON Lines)")
    restore = actions.add_parser("restore", help="load FILE into an empty database (creates the schema)")
    restore.add_argument("--replace", action="store_true", help="delete everything in the database first")
    for action in (dump, restore):
        action.add_argument("file", help="the dump file")
        action.add_argument(
            "--database-url",
            default=None,
            help="database URL (default: DATABASE_URL, else the SQLite file in instance/)",
        )
        action.set_defaults(func=cmd_db)
