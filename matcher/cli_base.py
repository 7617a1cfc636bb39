"""What every command of ``matcher`` shares: exit statuses, one-line errors, and the plug-in group.

:mod:`matcher.cli` (``score``), :mod:`matcher.cli_weights` (``weights``) and the commands other
packages plug in through the ``matcher.commands`` entry-point group (the web app's ``serve``,
``worker`` and ``db``, in :mod:`web.cli`) all run through :func:`run`, so an error is one line on
stderr and an exit status of :data:`EXIT_CODES` whichever command failed. See docs/architecture.md,
"The matcher command".
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import EntryPoint
from pathlib import Path

from .errors import MatcherError

#: Exit statuses (``matcher --help`` and README list them).
EXIT_OK, EXIT_WORKER, EXIT_USAGE, EXIT_INPUT, EXIT_OUTPUT, EXIT_SERVICE = 0, 1, 2, 3, 4, 5
#: Standard output closed early (``matcher score big.csv -o - | head``): 128 + SIGPIPE, as a shell
#: reports a command that a closed pipe stopped.
EXIT_PIPE = 141
EXIT_CODES = """exit status:
  0    done
  1    a worker process stopped before its work was done (out of memory?): try --jobs 0
  2    usage error (bad arguments)
  3    unreadable or invalid input: missing file, bad CSV, bad sectors or dump file
  4    the output (or the error report) cannot be written
  5    a service cannot be reached: the database (serve, worker, db) or Redis (worker)
  141  standard output was closed early (a pipe into head, say): stops quietly"""
#: The entry-point group of the commands other packages add to ``matcher``. Each entry point is
#: named after its command and loads a function ``add(subparsers)`` that adds the command's parser
#: (with ``set_defaults(func=...)``, the function that runs it and returns an exit status).
COMMANDS_GROUP = "matcher.commands"
#: The distribution whose extras install what a plug-in of its own needs (``pip install 'hanoi-matcher[web]'``).
DISTRIBUTION = "hanoi-matcher"


class CommandError(Exception):
    """A one-line error of the ``matcher`` command with its exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def missing_extra(entry_point: EntryPoint) -> str:
    """The one line said when a plug-in command's packages are not installed.

    A package of this distribution that plugs commands in comes with the extra of its name: the
    ``web`` package's commands need ``pip install 'hanoi-matcher[web]'``.
    """
    package = entry_point.module.partition(".")[0]
    return f"the {package} app needs the extra: pip install '{DISTRIBUTION}[{package}]'"


def is_missing_dependency(exc: ModuleNotFoundError, entry_point: EntryPoint) -> bool:
    """Whether ``exc`` says a third-party package of the plug-in is not installed.

    A module of this library or of the plug-in's own package that cannot be found is a broken
    install, not a missing extra: its traceback says more than a hint would.
    """
    return (exc.name or "").partition(".")[0] not in ("matcher", entry_point.module.partition(".")[0])


def run(args: argparse.Namespace) -> int:
    """Run a parsed command; an error is one line on stderr and an exit status of ``EXIT_CODES``."""
    try:
        return args.func(args)
    except CommandError as exc:
        return fail(str(exc), exc.code)
    except BrokenPipeError:
        return _closed_stdout()
    except MatcherError as exc:
        return fail(str(exc), EXIT_INPUT)
    except ModuleNotFoundError as exc:
        plugin = getattr(args, "matcher_plugin", None)  # set on the parsers of plug-in commands
        if plugin is None or not is_missing_dependency(exc, plugin):
            raise
        return fail(missing_extra(plugin), EXIT_USAGE)
    except OSError as exc:
        return fail(f"{exc.filename or ''}: {exc.strerror or exc}", EXIT_INPUT)


def fail(message: str, code: int) -> int:
    """Say ``matcher: error: MESSAGE`` on stderr; return ``code``."""
    print(f"matcher: error: {message}", file=sys.stderr)
    return code


def _closed_stdout() -> int:
    """Standard output was closed by its reader: stop quietly (the recipe of Python's ``signal`` docs)."""
    # Python would flush stdout once more at exit and print an error: point it at devnull first.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with suppress(OSError, ValueError):  # stdout is no real file (captured in tests): nothing to flush there
            os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
    return EXIT_PIPE


def output_path(value: str, what: str = "-o/--output") -> Path | None:
    """The output file the user named (None for ``-``, standard output), refused early if unusable."""
    if value == "-" and what == "-o/--output":
        return None
    if not value.strip():
        raise CommandError(
            f"{what} is empty: give a file name" + (", or - for stdout" if what[0] == "-" else ""), EXIT_OUTPUT
        )
    path = Path(value)
    if path.is_dir():
        raise CommandError(f"{value}: is a directory; {what} needs a file name", EXIT_OUTPUT)
    if not path.parent.is_dir():
        raise CommandError(f"{value}: cannot write: no folder {path.parent}", EXIT_OUTPUT)
    return path


@contextmanager
def input_file(value: str) -> Iterator[str]:
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


def tell_errors(path: str, encoding: str = "utf-8", delimiter: str = ",") -> None:
    """One stderr line per row of the error report: row, column(s) and reason."""
    csv.field_size_limit(2**31 - 1)  # a row's values may be large; only the first three are shown
    with open(path, encoding=encoding, newline="") as handle:
        for row in itertools.islice(csv.reader(handle, delimiter=delimiter), 1, None):
            print(f"row {row[0]}, {row[1]}: {row[2]}", file=sys.stderr)
