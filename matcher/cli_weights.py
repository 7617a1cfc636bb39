"""``matcher weights show | validate | diff | export``: the weights of a sectors file on the command line.

:func:`register` adds the ``weights`` group to the ``matcher`` parser; :func:`main` runs it
on its own (``python -m matcher.cli_weights show``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_base import run
from .config import load_sectors
from .weights import diff_weights, fingerprint, to_yaml


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(v)) for v in col) for col in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in [headers, *rows]
    ]
    return "\n".join(lines[:1] + ["  ".join("-" * w for w in widths)] + lines[1:])


def cmd_show(args: argparse.Namespace) -> int:
    """Print the criteria with their weights, the tier weights and the sectors' tiers."""
    config = load_sectors(args.sectors)
    points = config.weights()
    criteria = [
        [c.id, f"{c.weight:g}", f"{p:.1f}", c.label["en"]] for c, p in zip(config.criteria, points, strict=True)
    ]
    tiers = [
        [t, f"{spec['weight']:g}", ", ".join(s.id for s in config.sectors if s.tier == t)]
        for t, spec in config.tiers.items()
    ]
    print(f"{config.path}  (weights fingerprint {fingerprint(config)})\n")
    print(_table(["criterion", "weight", "points", "label"], criteria) + "\n")
    print(_table(["tier", "weight", "sectors"], tiers))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a sectors file; one line either way (errors exit with status 3 through :func:`main`)."""
    config = load_sectors(args.file)
    print(
        f"{args.file}: ok ({len(config.criteria)} criteria, {len(config.sectors)} sectors, "
        f"weights fingerprint {fingerprint(config)})"
    )
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """Print each weight that differs between two sectors files, ``key: old -> new``."""
    changes = diff_weights(load_sectors(args.a), load_sectors(args.b))
    for change in changes:
        print(f"{change.key}: {_fmt(change.old)} -> {_fmt(change.new)}")
    if not changes:
        print("no differences in the weights")
    return 0


def _fmt(value: object) -> str:
    if value is None:
        return "(none)"
    return f"{value:g}" if isinstance(value, float) else str(value)


def cmd_export(args: argparse.Namespace) -> int:
    """Write the full sectors file (checked, with its fingerprint) to ``-o``."""
    config = load_sectors(args.sectors)
    text = to_yaml(config)
    Path(args.output).write_text(text, encoding="utf-8")
    print(f"wrote {args.output} (weights fingerprint {fingerprint(config)})", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``weights`` command group to a ``matcher`` parser's subparsers."""
    parser = subparsers.add_parser("weights", help="show, validate, diff and export weights")
    sub = parser.add_subparsers(dest="weights_command", required=True)
    show = sub.add_parser("show", help="table of criteria, weights and tier weights")
    show.add_argument("--sectors", default=None, help="sectors file (default: the project's sectors.yaml)")
    show.set_defaults(func=cmd_show)
    validate = sub.add_parser("validate", help="check a sectors file (exit 0, or a one-line error and exit 3)")
    validate.add_argument("file", help="sectors file to check")
    validate.set_defaults(func=cmd_validate)
    diff = sub.add_parser("diff", help="the weights that differ between two sectors files")
    diff.add_argument("a", help="old sectors file")
    diff.add_argument("b", help="new sectors file")
    diff.set_defaults(func=cmd_diff)
    export = sub.add_parser("export", help="write a full, checked sectors file")
    export.add_argument("--sectors", default=None, help="sectors file (default: the project's sectors.yaml)")
    export.add_argument("-o", "--output", required=True, help="file to write")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``matcher weights ...`` without the rest of the ``matcher`` command.

    ``argv`` may start with ``weights`` or directly with its subcommand (``["show"]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["weights"]:
        argv = ["weights", *argv]
    parser = argparse.ArgumentParser(prog="matcher", description="Hanoi investor matcher: weights")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
