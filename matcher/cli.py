"""The ``matcher`` command: ``matcher score IN.csv -o OUT.csv`` and friends."""

from __future__ import annotations

import argparse
import csv
import functools
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import __version__
from .cli_base import EXIT_CODES, EXIT_INPUT, EXIT_OK, EXIT_OUTPUT, EXIT_SERVICE, EXIT_USAGE, CommandError, run
from .errors import MatcherError

#: The one line a web command prints when Flask & co are not installed (``pip install hanoi-matcher``).
WEB_EXTRA = "the web app needs the extra: pip install 'hanoi-matcher[web]'"


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None, None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="scoring", file=sys.stderr)

    def update(done: int) -> None:
        bar.update(max(0, done - bar.n))

    return bar, update


def cmd_score(args: argparse.Namespace) -> int:
    """Score a CSV file; the summary goes to stderr, errors to OUT.errors.csv (or ``--errors``)."""
    # Arrow's allocator (mimalloc) hands freed memory back to the kernel at once by default, and
    # every new chunk then faults in fresh, zeroed pages. Kept for a second, it is reused: 1M rows
    # in bench_score.py, interleaved runs, 6.7-8.4 s -> 6.1-7.1 s, peak RSS 497 -> 512 MB. It is
    # read when pyarrow loads, which in a `matcher score` process is just below.
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "1000")
    from .scoring import ScoringModel

    # The model without scikit-learn's estimator base: with the sector vocabulary in the cache,
    # this process never imports scikit-learn (bench_score: about 1 s of a 1M-row run).
    scorer = ScoringModel(sectors_path=args.sectors).fit()
    out = _output_path(args.output)
    if args.errors is not None:
        _output_path(args.errors, what="--errors")
    # With -o - and no --errors, the report is spooled, then told on stderr line by line.
    told = out is None and args.errors is None
    spool = tempfile.TemporaryDirectory(prefix="matcher-") if told else nullcontext(None)
    with _input_file(args.input) as in_path, spool as folder:
        errors = str(Path(folder) / "errors.csv") if told else args.errors
        summary = _score(args, in_path, out, errors, scorer)
        if told:
            _tell_errors(errors)
    if not args.quiet:
        where = f"{summary.errors} errors -> " + ("stderr" if told else summary.error_path)
        print(f"{summary.rows} rows: {summary.scored} scored -> {out or 'stdout'}, {where} "
              f"({summary.seconds:.1f} s)", file=sys.stderr)
    return EXIT_OK


def _score(args, in_path: str, out: Path | None, errors: str | None, scorer):
    """Run ``score_file`` on the input; OSErrors name the user's input or output path and get its code."""
    from .batch import score_file, tuned_for_batch

    show = sys.stderr.isatty() and not args.quiet
    bar, update = _progress_bar(show, Path(in_path).stat().st_size)
    sink = sys.stdout.buffer if out is None else out
    try:
        with tuned_for_batch():
            summary = score_file(in_path, sink, scorer, lang=args.lang, out_format=args.format, progress=update,
                                 error_path=errors)
        if out is None:
            sys.stdout.buffer.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.filename is not None and os.path.abspath(exc.filename) == os.path.abspath(in_path):
            raise CommandError(f"{args.input}: cannot read: {exc.strerror}", EXIT_INPUT) from None
        shown = exc.filename if exc.filename not in (None, "<stdout>") else "stdout"
        raise CommandError(f"{shown}: cannot write: {exc.strerror}", EXIT_OUTPUT) from None
    finally:
        if bar is not None:
            bar.close()
    return summary


def _output_path(value: str, what: str = "-o/--output") -> Path | None:
    """The output file the user named (None for ``-``, standard output), refused early if unusable."""
    if value == "-" and what == "-o/--output":
        return None
    if not value.strip():
        raise CommandError(f"{what} is empty: give a file name" + (", or - for stdout" if what[0] == "-" else ""),
                           EXIT_OUTPUT)
    path = Path(value)
    if path.is_dir():
        raise CommandError(f"{value}: is a directory; {what} needs a file name", EXIT_OUTPUT)
    if not path.parent.is_dir():
        raise CommandError(f"{value}: cannot write: no folder {path.parent}", EXIT_OUTPUT)
    return path


@contextmanager
def _input_file(value: str) -> Iterator[str]:
    """The input path; ``-`` is standard input, spooled to a temporary file that is removed afterwards."""
    if value != "-":
        if not Path(value).is_file():
            reason = "is a directory, not a CSV file" if Path(value).is_dir() else "no such file"
            raise CommandError(f"{value}: {reason}", EXIT_INPUT)
        yield value
        return
    fd, name = tempfile.mkstemp(prefix="matcher-stdin-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool, 1 << 20)
        yield name
    finally:
        os.unlink(name)


def _tell_errors(path: str) -> None:
    """One stderr line per row of the error report: row, column(s) and reason."""
    csv.field_size_limit(2**31 - 1)  # a row's values may be large; only the first three are shown
    with open(path, encoding="utf-8", newline="") as handle:
        for row in itertools.islice(csv.reader(handle), 1, None):
            print(f"row {row[0]}, {row[1]}: {row[2]}", file=sys.stderr)


def _web_app(serving: bool = True):
    """The web app as ``serve`` (``SECRET_KEY``, else the key kept in the instance folder) and ``worker``
    (``serving=False``: it signs no cookie) run it; a configuration the app refuses is a one-line usage error."""
    from web import ConfigError, create_app  # Flask only here: the library never imports it

    try:
        return create_app(instance_key=serving, serving=serving)
    except ConfigError as error:
        raise CommandError(error.message, EXIT_USAGE) from None


def _web_command(command):
    """A command of the web app: without the ``web`` extra installed, one line and exit status 2."""

    @functools.wraps(command)
    def run_web(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] in ("matcher", "web"):
                raise  # a broken install of this project: the traceback says more than the hint
            # Printed here, not raised: exit status 2 whatever run() makes of other errors.
            print(f"matcher: error: {WEB_EXTRA}", file=sys.stderr)
            return 2

    return run_web


@_web_command
def cmd_serve(args: argparse.Namespace) -> int:
    """Upgrade the database, load the samples and an admin on first start, then serve the web app."""
    from web.commands import bootstrap

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


@_web_command
def cmd_worker(args: argparse.Namespace) -> int:
    """Run batch jobs from the Redis queue (``REDIS_URL``), with the app's database and ``BATCH_DIR``."""
    from web.worker import work  # Flask and RQ only here: the library never imports them

    with _reaching_services():
        app = _web_app(serving=False)
        if not app.config.get("REDIS_URL"):
            raise CommandError("REDIS_URL is not set: the worker needs Redis "
                               "(e.g. REDIS_URL=redis://127.0.0.1:6379/0)", EXIT_SERVICE)
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
    """"the database" or "Redis" when ``exc`` (or its cause) says that service cannot be reached."""
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


@_web_command
def cmd_db(args: argparse.Namespace) -> int:
    """Back up the web app's database to a portable file, or restore one (``matcher db dump|restore FILE``)."""
    from web.dbtools import command  # Flask and SQLAlchemy only here: the library never imports them

    try:
        with _reaching_services(args.database_url):
            print(command(args.action, args.file, args.database_url, getattr(args, "replace", False)),
                  file=sys.stderr)
    except MatcherError as exc:
        if _unreachable(exc) is not None:  # dbtools says which database, without its password
            raise CommandError(str(exc), EXIT_SERVICE) from None
        raise
    return 0


def _add_db(sub) -> None:
    """``matcher db dump FILE`` and ``matcher db restore FILE [--replace]``."""
    db = sub.add_parser("db", help="back up or restore the web app's database (portable across SQLite/PostgreSQL)")
    actions = db.add_subparsers(dest="action", required=True)
    dump = actions.add_parser("dump", help="write every row to FILE (gzip'ed JSON Lines)")
    restore = actions.add_parser("restore", help="load FILE into an empty database (creates the schema)")
    restore.add_argument("--replace", action="store_true", help="delete everything in the database first")
    for action in (dump, restore):
        action.add_argument("file", help="the dump file")
        action.add_argument("--database-url", default=None,
                            help="database URL (default: DATABASE_URL, else the SQLite file in instance/)")
        action.set_defaults(func=cmd_db)


SCORE_EPILOG = """standard input and output:
  matcher score - -o out.csv < in.csv       reads the CSV from standard input
  matcher score in.csv -o - | less          writes the scored file to standard output; rows that
                                            cannot be scored are told on stderr, one line each
                                            ("row 4, okved: ..."), unless --errors FILE is given"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="matcher", description="Hanoi investor matcher", epilog=EXIT_CODES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"matcher {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser(
        "score", help="score a CSV of firm profiles", epilog=SCORE_EPILOG + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    score.add_argument("input", help="input CSV (UTF-8, UTF-8 with BOM or Windows-1251; comma or semicolon); "
                                     "- reads standard input")
    score.add_argument("-o", "--output", required=True,
                       help="output file, or - for standard output; errors go to OUTPUT.errors.csv")
    score.add_argument("--errors", default=None, metavar="FILE",
                       help="write the error report to FILE (default: OUTPUT.errors.csv; with -o -, stderr)")
    score.add_argument("--lang", choices=("en", "ru", "vi"), default="en", help="language of the explanations")
    score.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    score.add_argument("--sectors", default=None, help="sectors file (default: the project's sectors.yaml)")
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    score.set_defaults(func=cmd_score)
    serve = sub.add_parser("serve", help="run the web application")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=5000, help="port (default 5000)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run batch jobs from the Redis queue (needs REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--name", default=None, help="worker name (default: RQ's own)")
    worker.set_defaults(func=cmd_worker)
    _add_db(sub)
    from . import cli_weights

    cli_weights.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``matcher`` console script."""
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
