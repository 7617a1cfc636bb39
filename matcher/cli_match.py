"""``matcher match FIRMS.csv --opportunities FILE -o OUT.csv``: the best opportunities of every firm.

:func:`register` adds the command to the ``matcher`` parser; the reading, the exit statuses
and the standard input/output handling are those of ``matcher score`` (:mod:`matcher.cli`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

from .fields import LANGS

MATCH_EPILOG = """output columns, after the input columns:
  match_1, match_1_score, match_1_reason ... match_K_*   best opportunities first (id, 0-100, why)
  incentives, incentives_possible                       incentive categories (ids) the firm may
                                                        qualify for / might, were its profile complete
The reasons name each contribution in points; they add up to the score. Incentive categories
are indicative: confirm with the authority."""


def cmd_match(args: argparse.Namespace) -> int:
    """Match a CSV of firms; the summary goes to stderr, errors to OUT.errors.csv (or ``--errors``)."""
    os.environ.setdefault("MIMALLOC_PURGE_DELAY", "1000")  # as `matcher score`: reuse freed Arrow memory
    from . import cli_base as cli
    from .match_batch import match_file
    from .opportunities import load_opportunities
    from .recommend import Matcher
    from .scoring import Scorer

    if args.k < 1:
        raise cli.CommandError("-k must be at least 1", cli.EXIT_USAGE)
    scorer = Scorer(sectors_path=args.sectors, cached_vocabulary=True).fit()
    catalogue = load_opportunities(args.opportunities, sectors=scorer.config_) if args.opportunities else None
    matcher = Matcher(scorer, catalogue)
    out = cli.output_path(args.output)
    told = out is None and args.errors is None
    spool = tempfile.TemporaryDirectory(prefix="matcher-") if told else nullcontext(None)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    with cli.input_file(args.input) as in_path, spool as folder:
        errors = str(Path(folder) / "errors.csv") if told else args.errors
        try:
            from .perf import tuned_for_batch

            with tuned_for_batch():
                summary = match_file(
                    in_path,
                    sys.stdout.buffer if out is None else out,
                    matcher,
                    k=args.k,
                    kinds=kinds,
                    lang=args.lang,
                    error_path=errors,
                )
            if out is None:
                sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            shown = exc.filename if exc.filename not in (None, "<stdout>") else "stdout"
            raise cli.CommandError(f"{shown}: cannot write: {exc.strerror}", cli.EXIT_OUTPUT) from None
        if told:
            cli.tell_errors(errors)
    if not args.quiet:
        where = f"{summary.errors} errors -> " + ("stderr" if told else summary.error_path)
        print(
            f"{summary.rows} rows: {summary.scored} matched -> {out or 'stdout'}, {where} ({summary.seconds:.1f} s)",
            file=sys.stderr,
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``match`` to a ``matcher`` parser's subparsers."""
    from .cli_base import EXIT_CODES

    parser = subparsers.add_parser(
        "match",
        help="match a CSV of firm profiles to Hanoi's parks, projects and partners",
        epilog=MATCH_EPILOG + "\n\n" + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", help="input CSV in the profile format of `matcher score`; - reads standard input")
    parser.add_argument("-o", "--output", required=True, help="output file, or - for standard output")
    parser.add_argument(
        "--opportunities",
        default=None,
        metavar="FILE",
        help="opportunities file (default: the project's opportunities.yaml)",
    )
    parser.add_argument("-k", type=int, default=5, help="matches per firm (default 5)")
    parser.add_argument(
        "--kinds",
        default="park,project,partner",
        help="kinds of opportunity to match, comma-separated (default: park,project,partner)",
    )
    parser.add_argument(
        "--errors",
        default=None,
        metavar="FILE",
        help="write the error report to FILE (default: OUTPUT.errors.csv; with -o -, stderr)",
    )
    parser.add_argument("--lang", choices=LANGS, default="en", help="language of the reasons")
    parser.add_argument("--sectors", default=None, help="sectors file (default: the project's sectors.yaml)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary")
    parser.set_defaults(func=cmd_match)
    return parser
