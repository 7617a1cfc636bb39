"""Back up and restore the whole database in a portable file: ``matcher db dump`` and ``matcher db restore``.

The file is gzip'ed JSON Lines (UTF-8), the same whichever database wrote it, so a dump of SQLite
restores into PostgreSQL and back:

- line 1: ``{"format": "hanoi-matcher-dump", "format_version": 1, "alembic_revision": "0003", ...}``
- for each table, parents before children: ``{"table": "users", "columns": [...]}``, then one JSON
  array per row, in primary-key order;
- last line: ``{"end": {"users": 2, "leads": 25, ...}}``, the row counts (a file without it is incomplete).

Values are JSON as they are (JSON columns included); datetimes are ISO 8601 text. Ids and
timestamps are kept; on PostgreSQL the id sequences are moved past the restored ids. A restore
is one transaction: it stores the whole dump or, on any error, nothing.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import secrets
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection, Table, func, select, text, types
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import MatcherError

from .extensions import db

FORMAT = "hanoi-matcher-dump"
FORMAT_VERSION = 1
CHUNK = 1000  # rows per INSERT batch and per fetch


class DumpError(MatcherError):
    """A dump or restore that cannot be done; the message says which file, line, table or database, and why."""


Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _same(value: Any) -> Any:
    return value


def codec(column_type: types.TypeEngine) -> Codec:
    """(to JSON, from JSON) for one column type; values JSON holds as they are pass through."""
    if isinstance(column_type, types.DateTime):
        return (lambda v: v.isoformat()), datetime.fromisoformat
    if isinstance(column_type, types.Date):
        return (lambda v: v.isoformat()), date.fromisoformat
    if isinstance(column_type, types.Time):
        return (lambda v: v.isoformat()), time.fromisoformat
    if isinstance(column_type, types.LargeBinary):
        return (lambda v: base64.b64encode(v).decode("ascii")), base64.b64decode
    if isinstance(column_type, types.Numeric) and not isinstance(column_type, types.Float):
        return str, Decimal
    return _same, _same


def _nullable(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else function(value)


def tables() -> list[Table]:
    """Every table of the models, parents before children (the order rows are restored in)."""
    from . import models  # noqa: F401 -- registers the tables

    return list(db.metadata.sorted_tables)


def head_revision() -> str | None:
    """The Alembic revision this version of the code expects."""
    from .schema import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def database_revision(connection: Connection) -> str | None:
    """The Alembic revision the database is at (``None`` for a database without the matcher's schema)."""
    return MigrationContext.configure(connection).get_current_revision()


def _first_line(error: BaseException) -> str:
    return (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]


# --- dump --------------------------------------------------------------------------------------------


def dump(path: str | os.PathLike) -> dict[str, int]:
    """Write every row of the app's database to ``path`` (run in an app context); returns rows per table.

    One read transaction sees one consistent state (REPEATABLE READ on PostgreSQL, a read lock on
    SQLite). The file appears only when complete (written beside it, then renamed).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise DumpError(f"{path}: no folder {path.parent} to write the dump in")
    partial = path.with_name(path.name + ".partial")
    try:
        with db.engine.connect() as connection:
            counts = _dump_to(partial, _snapshot(connection))
        os.replace(partial, path)
    except SQLAlchemyError as error:
        raise DumpError(f"cannot read the database {_shown_url()}: {_first_line(error)}") from None
    finally:
        partial.unlink(missing_ok=True)
    return counts


def _snapshot(connection: Connection) -> Connection:
    """The connection inside a transaction that sees the database as it is now, checked to be at our revision."""
    if connection.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")  # pysqlite begins no transaction for reads: hold one read lock
    revision, head = database_revision(connection), head_revision()
    if revision is None:
        raise DumpError(f"the database {_shown_url()} has no matcher schema: nothing to dump")
    if revision != head:
        raise DumpError(
            f"the database {_shown_url()} is at schema revision {revision}, this matcher expects "
            f"{head}: upgrade it first (start the app once, or: flask --app web upgrade-db)"
        )
    return connection


def _dump_to(path: Path, connection: Connection) -> dict[str, int]:
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "alembic_revision": head_revision(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": connection.dialect.name,
        "matcher_version": _version(),
    }
    counts: dict[str, int] = {}
    with gzip.open(path, "wt", compresslevel=6, encoding="utf-8", newline="\n") as handle:
        handle.write(_json(header))
        for table in tables():
            columns = list(table.columns)
            encode = [_nullable(codec(c.type)[0]) for c in columns]
            handle.write(_json({"table": table.name, "columns": [c.name for c in columns]}))
            query = select(*columns).order_by(*table.primary_key.columns)
            result = connection.execution_options(stream_results=True, max_row_buffer=CHUNK).execute(query)
            counts[table.name] = 0
            for row in result:
                handle.write(_json([f(v) for f, v in zip(encode, row, strict=True)]))
                counts[table.name] += 1
        handle.write(_json({"end": counts}))
    return counts


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _version() -> str:
    import matcher

    return matcher.__version__


def _shown_url() -> str:
    """The database URL without its password."""
    return db.engine.url.render_as_string(hide_password=True)


# --- restore -----------------------------------------------------------------------------------------


def read_dump(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """(line number, JSON value) for each line of a dump (gzip'ed or not); a damaged file is a DumpError."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    number = 0
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):  # noqa: B007 -- the number is reported on errors below
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError:
                    raise DumpError(
                        f"{path}: line {number} is not valid JSON: the file is damaged or is not a matcher dump"
                    ) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DumpError(
            f"{path}: the file is damaged or truncated after line {number} ({_first_line(error)})"
        ) from None
    except UnicodeDecodeError:
        raise DumpError(
            f"{path}: line {number + 1} is not UTF-8 text: the file is damaged or is not a matcher dump"
        ) from None


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """The first line of a dump, checked to be one this code can read."""
    lines = read_dump(path)
    try:
        _number, header = next(lines, (0, None))
    finally:
        lines.close()
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DumpError(
            f"{path}: not a matcher dump (its first line is not a '{FORMAT}' header; "
            "make one with: matcher db dump FILE)"
        )
    if not isinstance(header.get("format_version"), int) or header["format_version"] > FORMAT_VERSION:
        raise DumpError(
            f"{path}: dump format {header.get('format_version')!r} was written by a newer matcher "
            f"(this one reads format {FORMAT_VERSION})"
        )
    return header


def restore(path: str | os.PathLike, replace: bool = False) -> dict[str, int]:
    """Load a dump into the app's database (at the dump's schema revision) in one transaction.

    Refuses a database that has rows unless ``replace``, which deletes them first. Returns rows per table.
    """
    header = read_header(path)
    try:
        with db.engine.begin() as connection:
            _check_target(connection, header, path, replace)
            counts = _load(connection, path)
            if connection.dialect.name == "postgresql":
                reset_sequences(connection)
    except SQLAlchemyError as error:
        raise DumpError(f"cannot restore into {_shown_url()}: {_first_line(error)}; nothing was restored") from None
    return counts


def _check_target(connection: Connection, header: dict[str, Any], path, replace: bool) -> None:
    revision = database_revision(connection)
    if header.get("alembic_revision") != revision:
        raise DumpError(
            f"{path}: the dump is of schema revision {header.get('alembic_revision')}, the database "
            f"{_shown_url()} is at {revision}: restore it with the matcher version that wrote it "
            "(then upgrade), or dump again with this one"
        )
    present = {
        t.name: n for t in tables() if (n := connection.execute(select(func.count()).select_from(t)).scalar_one())
    }
    if present and not replace:
        rows = ", ".join(f"{name}: {n}" for name, n in present.items())
        raise DumpError(
            f"the database {_shown_url()} is not empty ({rows} rows): restore into an empty "
            "database, or add --replace to delete everything in it first"
        )
    if replace:  # children before parents; undone with the rest if the restore fails
        for table in reversed(tables()):
            connection.execute(table.delete())


def _load(connection: Connection, path) -> dict[str, int]:
    """Insert the dump's rows table by table; check the closing row counts."""
    known = {t.name: t for t in tables()}
    section: _Section | None = None
    counts: dict[str, int] = {}
    lines = read_dump(path)
    next(lines)  # the header, already checked
    for number, item in lines:
        if isinstance(item, list):
            if section is None:
                raise DumpError(f"{path}: line {number}: a row before any table line")
            section.add(number, item)
        elif isinstance(item, dict) and "table" in item:
            if section is not None:
                counts[section.table.name] = section.flush()
            section = _Section(connection, known, item, number, path)
        elif isinstance(item, dict) and "end" in item:
            if section is not None:
                counts[section.table.name] = section.flush()
            _check_end(item["end"], counts, number, path)
            if next(lines, None) is not None:
                raise DumpError(f"{path}: lines after the closing line {number}: the file is damaged")
            return counts
        else:
            raise DumpError(f"{path}: line {number}: neither a table, a row nor the closing line")
    raise DumpError(
        f"{path}: the dump is incomplete: it ends without its closing line (cut off while "
        "writing or copying?); nothing was restored"
    )


def _check_end(expected: Any, counts: dict[str, int], number: int, path) -> None:
    if not isinstance(expected, dict) or expected != counts:
        raise DumpError(
            f"{path}: line {number}: the closing row counts {expected} differ from the rows read "
            f"{counts}: the file is damaged"
        )


class _Section:
    """The rows of one table being restored, inserted CHUNK at a time."""

    def __init__(self, connection: Connection, known: dict[str, Table], item: dict, number: int, path) -> None:
        name, columns = item.get("table"), item.get("columns")
        if name not in known:
            raise DumpError(f"{path}: line {number}: table {name!r} is not part of this schema")
        table = known[name]
        if not isinstance(columns, list) or set(columns) != set(table.columns.keys()):
            raise DumpError(
                f"{path}: line {number}: the columns of table {name} differ from the database's "
                f"(dump: {columns}; database: {list(table.columns.keys())})"
            )
        self.connection, self.table, self.columns, self.path = connection, table, columns, path
        self.decode = [_nullable(codec(table.columns[c].type)[1]) for c in columns]
        self.rows: list[dict[str, Any]] = []
        self.count, self.first_line = 0, number + 1

    def add(self, number: int, values: list) -> None:
        if len(values) != len(self.columns):
            raise DumpError(
                f"{self.path}: line {number}: {len(values)} values for the {len(self.columns)} "
                f"columns of table {self.table.name}"
            )
        try:
            self.rows.append({c: f(v) for c, f, v in zip(self.columns, self.decode, values, strict=True)})
        except (TypeError, ValueError) as error:
            raise DumpError(
                f"{self.path}: line {number}: table {self.table.name}: unreadable value ({error})"
            ) from None
        if len(self.rows) >= CHUNK:
            self._insert(number)

    def _insert(self, number: int) -> None:
        try:
            self.connection.execute(self.table.insert(), self.rows)
        except SQLAlchemyError as error:
            raise DumpError(
                f"{self.path}: lines {self.first_line}-{number}: the database refused rows of table "
                f"{self.table.name}: {_first_line(error)}; nothing was restored"
            ) from None
        self.count += len(self.rows)
        self.rows, self.first_line = [], number + 1

    def flush(self) -> int:
        """Insert what is left; the number of rows of the table."""
        if self.rows:
            self._insert(self.first_line + len(self.rows) - 1)
        return self.count


def reset_sequences(connection: Connection) -> None:
    """Move each PostgreSQL id sequence past the largest restored id, so new rows get fresh ids."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, types.Integer) or keys[0].autoincrement is False:
            continue
        largest = connection.execute(select(func.max(keys[0]))).scalar_one() or 0
        connection.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, :column), :next, false)"),
            {"table": table.name, "column": keys[0].name, "next": largest + 1},
        )


# --- the command line --------------------------------------------------------------------------------


def make_app(database_url: str | None, upgrade: bool) -> Flask:
    """The app on ``database_url`` (default: ``DATABASE_URL``, else the SQLite file in ``instance/``)."""
    from . import create_app
    from . import database_url as sqlalchemy_url
    from .schema import upgrade as upgrade_schema

    # the tool signs no cookies: a throw-away key, so it runs where no SECRET_KEY is set
    config: dict[str, Any] = {"AUTO_UPGRADE": False, "SECRET_KEY": secrets.token_hex(32)}
    if database_url:
        config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(database_url, "")
    app = create_app(config)
    if upgrade:  # the schema only: a restore needs an empty database, so no first weights version here
        try:
            upgrade_schema(app)
        except SQLAlchemyError as error:
            with app.app_context():
                db.engine.dispose()
                raise DumpError(f"cannot prepare the database {_shown_url()}: {_first_line(error)}") from None
    return app


def command(action: str, file: str, database_url: str | None = None, replace: bool = False) -> str:
    """Run ``matcher db dump|restore``; returns the one-line summary (errors raise :class:`DumpError`)."""
    if action == "restore":
        read_header(file)  # a file that is no dump is refused before the database is touched
    elif action != "dump":
        raise DumpError(f"unknown db action {action!r}: use dump or restore")
    app = make_app(database_url, upgrade=action == "restore")
    with app.app_context():
        try:
            if action == "dump":
                _check_exists()
                counts = dump(file)
                verb = f"dumped {{rows}} rows of {len(counts)} tables from {_shown_url()} to {file}"
            else:
                counts = restore(file, replace)
                verb = f"restored {{rows}} rows of {len(counts)} tables from {file} into {_shown_url()}"
            return verb.format(rows=sum(counts.values())) + f" (schema {head_revision()})"
        finally:
            db.session.remove()
            db.engine.dispose()


def _check_exists() -> None:
    """A dump of a SQLite file that does not exist is an error (connecting would create an empty one)."""
    url = db.engine.url
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not os.path.exists(url.database)
    ):
        raise DumpError(f"no database file at {url.database}")
