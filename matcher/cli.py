"""The ``matcher`` command: ``matcher score IN.csv -o OUT.csv`` and friends.

``score`` is here, ``weights`` in :mod:`matcher.cli_weights`; other packages add commands through
the ``matcher.commands`` entry points (:mod:`matcher.cli_base`), as the web app adds ``serve``,
``worker`` and ``db`` (:mod:`web.cli`).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from pathlib import Path

from . import __version__
from .cli_base import (
    COMMANDS_GROUP,
    EXIT_CODES,
    EXIT_INPUT,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    EXIT_WORKER,
    CommandError,
    fail,
    input_file,
    is_missing_dependency,
    missing_extra,
    output_path,
    run,
    tell_errors,
)
from .fields import LANGS

#: The file helpers live in :mod:`matcher.cli_base` (``matcher match`` uses them too).
_output_path, _input_file, _tell_errors = output_path, input_file, tell_errors

#: The commands of this package; the others come from the ``matcher.commands`` entry points.
BUILT_IN = ("score", "weights", "match")


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
    from .scoring import Scorer

    # The model without scikit-learn's estimator base: with the sector vocabulary in the cache,
    # this process never imports scikit-learn (bench_score: about 1 s of a 1M-row run).
    scorer = Scorer(sectors_path=args.sectors, config=_weighted_config(args), cached_vocabulary=True).fit()
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
            _tell_errors(errors, summary.encoding, summary.delimiter)
    if not args.quiet:
        where = f"{summary.errors} errors -> " + ("stderr" if told else summary.error_path)
        print(
            f"{summary.rows} rows: {summary.scored} scored -> {out or 'stdout'}, {where} ({summary.seconds:.1f} s)",
            file=sys.stderr,
        )
    for text in summary.warnings:  # even with -q: a column left out changes every score
        print(f"matcher: warning: {text}", file=sys.stderr)
    return EXIT_OK


def _weighted_config(args: argparse.Namespace):
    """The sectors file with the ``--weights`` file applied (as the web app scores), or None without one."""
    if args.weights is None:
        return None
    from .config import load_sectors
    from .weights import read_weights_file

    if not Path(args.weights).is_file():
        raise CommandError(f"{args.weights}: no such weights file", EXIT_INPUT)
    return read_weights_file(args.weights).apply(load_sectors(args.sectors))


def _jobs(text: str) -> int:
    """``--jobs``: a whole number from 0 to 64."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"expected 0 to 64, not {value}")
    return value


def _score(args, in_path: str, out: Path | None, errors: str | None, scorer):
    """Run ``score_file`` on the input; OSErrors name the user's input or output path and get its code."""
    from .batch import score_file
    from .perf import default_processes, tuned_for_batch

    show = sys.stderr.isatty() and not args.quiet
    bar, update = _progress_bar(show, Path(in_path).stat().st_size)
    sink = sys.stdout.buffer if out is None else out
    jobs = args.jobs if args.jobs is not None else default_processes(Path(in_path).stat().st_size)
    try:
        with tuned_for_batch():
            summary = score_file(
                in_path,
                sink,
                scorer,
                lang=args.lang,
                out_format=args.format,
                progress=update,
                error_path=errors,
                out_encoding=ENCODINGS[args.encoding],
                processes=jobs,
            )
        if out is None:
            sys.stdout.buffer.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        raise
    except BrokenProcessPool:
        raise CommandError(
            "a worker process stopped before its work was done (out of memory?); the output is "
            "incomplete: run again, or with --jobs 0",
            EXIT_WORKER,
        ) from None
    except OSError as exc:
        if exc.filename is not None and os.path.abspath(exc.filename) == os.path.abspath(in_path):
            raise CommandError(f"{args.input}: cannot read: {exc.strerror}", EXIT_INPUT) from None
        shown = exc.filename if exc.filename not in (None, "<stdout>") else "stdout"
        raise CommandError(f"{shown}: cannot write: {exc.strerror}", EXIT_OUTPUT) from None
    finally:
        if bar is not None:
            bar.close()
    return summary


SCORE_EPILOG = """standard input and output:
  matcher score - -o out.csv < in.csv       reads the CSV from standard input
  matcher score in.csv -o - | less          writes the scored file to standard output; rows that
                                            cannot be scored are told on stderr, one line each
                                            ("row 4, okved: ..."), unless --errors FILE is given"""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every subcommand (plug-in commands loaded only when ``argv`` needs them)."""
    parser = argparse.ArgumentParser(
        prog="matcher",
        description="Hanoi investor matcher",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"matcher {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_score(sub)
    _add_plugins(sub, sys.argv[1:] if argv is None else argv)
    from . import cli_match, cli_weights

    cli_weights.register(sub)
    cli_match.register(sub)
    return parser


#: ``matcher score --encoding`` choices and what :func:`matcher.batch.score_file` calls them.
ENCODINGS = {"utf-8": "utf-8", "utf-8-bom": "utf-8-sig", "input": "input"}


def _add_score(sub) -> None:
    """``matcher score IN.csv -o OUT.csv``."""
    score = sub.add_parser(
        "score",
        help="score a CSV of firm profiles",
        epilog=SCORE_EPILOG + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument(
        "input",
        help="input CSV (UTF-8, with or without BOM, UTF-16, Windows-1251, KOI8-R, Windows-1252 or -1258; "
        "comma, semicolon or tab); - reads standard input",
    )
    score.add_argument(
        "-o", "--output", required=True, help="output file, or - for standard output; errors go to OUTPUT.errors.csv"
    )
    score.add_argument(
        "--errors",
        default=None,
        metavar="FILE",
        help="write the error report to FILE (default: OUTPUT.errors.csv; with -o -, stderr)",
    )
    score.add_argument(
        "--lang", choices=LANGS, default="en", help="language of the explanations, the error reasons and the warnings"
    )
    score.add_argument(
        "--encoding",
        choices=tuple(ENCODINGS),
        default="utf-8",
        help="how the CSV output and error report are written: utf-8 (commas, the default), "
        "utf-8-bom (commas; what Excel needs to read UTF-8) or input (the input's encoding "
        "and delimiter: Windows-1251 with ; in, the same out)",
    )
    score.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    score.add_argument("--sectors", default=None, help="sectors file (default: the project's sectors.yaml)")
    score.add_argument(
        "--weights",
        default=None,
        metavar="FILE",
        help="a weights version exported by the web app (Weights page, 'Download for the "
        "command line'): scores as the app does under that version",
    )
    score.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="worker processes scoring the chunks (0: threads of this process); "
        "default: one per core for a file of 32 MB or more, else 0",
    )
    score.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    score.set_defaults(func=cmd_score)


class MissingExtra(Exception):
    """The chosen plug-in command cannot be loaded: the extra that installs its packages is missing."""


def _add_plugins(sub, argv: list[str]) -> None:
    """Add the commands of the ``matcher.commands`` entry points (the web app's ``serve``, ``worker``, ``db``).

    Only the chosen command's module is imported (all of them for ``matcher --help``): ``matcher
    score`` never loads the web app. The others get a bare parser, so that a mistyped command
    still lists every name.
    """
    chosen = next((a for a in argv if not a.startswith("-")), None)
    if chosen in BUILT_IN:
        return
    helping = chosen is None and ("-h" in argv or "--help" in argv)
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=COMMANDS_GROUP):
        if entry_point.name in BUILT_IN or entry_point.name in sub.choices:
            continue  # a built-in name, or one an earlier plug-in took
        if entry_point.name == chosen or helping:
            _load_plugin(sub, entry_point, required=entry_point.name == chosen)
        else:
            sub.add_parser(entry_point.name)


def _load_plugin(sub, entry_point, required: bool) -> None:
    """Let the entry point add its command; if its packages are missing, raise :class:`MissingExtra`
    (``required``, the chosen command) or add a parser whose help says which extra to install."""
    try:
        add = entry_point.load()
    except ModuleNotFoundError as exc:
        if not is_missing_dependency(exc, entry_point):
            raise
        if required:
            raise MissingExtra(missing_extra(entry_point)) from None
        sub.add_parser(entry_point.name, help=f"({missing_extra(entry_point)})")
        return
    add(sub)
    sub.choices[entry_point.name].set_defaults(matcher_plugin=entry_point)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``matcher`` console script."""
    try:
        parser = build_parser(argv)
    except MissingExtra as exc:
        return fail(str(exc), EXIT_USAGE)
    return run(parser.parse_args(argv))


def entry() -> None:
    """The ``matcher`` console script (and ``python -m matcher.cli``): :func:`main`, then exit.

    At exit the interpreter collects garbage once more, walking every object that importing numpy,
    SciPy and Arrow and building the vocabulary made: 0.08-0.1 s of CPU after the work is done (1.5 %
    of scoring 1M rows). Frozen first, they are left to the process's end. Nothing is lost: every file
    the command wrote is closed, and standard output and error are flushed at exit all the same.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
