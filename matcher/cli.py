"""The ``matcher`` command: ``matcher score IN.csv -o OUT.csv`` and friends."""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path

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
    """Score a CSV file; the summary goes to stderr, errors to OUT.errors.csv."""
    # Arrow's allocator (mimalloc) hands freed memory back to the kernel at once by default, and
    # every new chunk then faults in fresh, zeroed pages. Kept for a second, it is reused: 1M rows
    # in bench_score.py, interleaved runs, 6.7-8.4 s -> 6.1-7.1 s, peak RSS 497 -> 512 MB. It is
    # read when pyarrow loads, which in a `matcher score` process is just below.
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "1000")
    from .batch import score_file, tuned_for_batch
    from .scoring import ScoringModel

    # The model without scikit-learn's estimator base: with the sector vocabulary in the cache,
    # this process never imports scikit-learn (bench_score: about 1 s of a 1M-row run).
    scorer = ScoringModel(sectors_path=args.sectors).fit()
    out = Path(args.output)
    if not Path(args.input).is_file():
        raise MatcherError(f"{args.input}: no such file")
    show = sys.stderr.isatty() and not args.quiet
    bar, update = _progress_bar(show, Path(args.input).stat().st_size)
    try:
        with tuned_for_batch():
            summary = score_file(args.input, out, scorer, lang=args.lang, out_format=args.format, progress=update)
    finally:
        if bar is not None:
            bar.close()
    if not args.quiet:
        print(
            f"{summary.rows} rows: {summary.scored} scored -> {out}, {summary.errors} errors -> "
            f"{summary.error_path} ({summary.seconds:.1f} s)",
            file=sys.stderr,
        )
    return 0


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
    from web import create_app  # Flask only here: the library never imports it
    from web.commands import bootstrap

    app = create_app()
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
    from web import create_app  # Flask and RQ only here: the library never imports them
    from web.worker import work

    work(create_app(), burst=args.burst, name=args.name)
    return 0


@_web_command
def cmd_db(args: argparse.Namespace) -> int:
    """Back up the web app's database to a portable file, or restore one (``matcher db dump|restore FILE``)."""
    from web.dbtools import command  # Flask and SQLAlchemy only here: the library never imports them

    print(command(args.action, args.file, args.database_url, getattr(args, "replace", False)), file=sys.stderr)
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="matcher", description="Hanoi investor matcher")
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="score a CSV of firm profiles")
    score.add_argument("input", help="input CSV (UTF-8, UTF-8 with BOM or Windows-1251; comma or semicolon)")
    score.add_argument("-o", "--output", required=True, help="output file; errors go to OUTPUT.errors.csv")
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


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; a bad input or file is a one-line error and exit status 2."""
    try:
        return args.func(args)
    except MatcherError as exc:
        print(f"matcher: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"matcher: error: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
