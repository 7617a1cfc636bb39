"""Shared fixtures: the project's configuration, a fitted scorer, a profile factory, a CSV writer."""

from __future__ import annotations

import atexit
import contextlib
import csv
import os
import shutil
import tempfile
import warnings

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir
from matcher_testlib import SECTORS_YAML, build_profile

from matcher import Scorer, load_sectors

# No example database, and hypothesis's own files in a temporary directory: the suite writes
# nothing into the working tree.
settings.register_profile("matcher", database=None, deadline=None)
settings.load_profile("matcher")
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="matcher-hypothesis-")
set_hypothesis_home_dir(_HYPOTHESIS_HOME)
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, True)
# The sector vocabularies `matcher score` keeps between runs go to a temporary directory too
# (subprocesses inherit it).
_VOCABULARY_CACHE = tempfile.mkdtemp(prefix="matcher-cache-")
os.environ["MATCHER_CACHE_DIR"] = _VOCABULARY_CACHE
atexit.register(shutil.rmtree, _VOCABULARY_CACHE, True)

# On a failing property hypothesis imports libcst to suggest a patch, and libcst emits a
# DeprecationWarning that `filterwarnings = error` would turn into a pytest INTERNALERROR
# (ending the run). Import it once here with that warning silenced.
# Without libcst installed, hypothesis skips the patch and the import fails: nothing to silence then.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import hypothesis.extra._patching  # noqa: F401


@pytest.fixture(scope="session")
def config():
    """The project's own sectors.yaml, loaded and checked."""
    return load_sectors(SECTORS_YAML)


@pytest.fixture(scope="session")
def scorer(config):
    """A fitted scorer over the project's sectors.yaml."""
    return Scorer(config=config).fit()


@pytest.fixture(scope="session")
def make_profile():
    """Factory: ``make_profile(**overrides)`` -> a profile dict (``None`` drops a field)."""
    return build_profile


@pytest.fixture
def write_csv(tmp_path):
    """Write a CSV into tmp_path: ``write_csv(rows | text, name=, encoding=, delimiter=)`` -> path.

    ``rows`` is a list of rows (the first is the header) written with the csv module, or a
    ready string written as is; ``bytes`` are written unchanged.
    """

    def write(rows, name="in.csv", encoding="utf-8", delimiter=","):
        path = tmp_path / name
        if isinstance(rows, bytes):
            path.write_bytes(rows)
        elif isinstance(rows, str):
            path.write_bytes(rows.encode(encoding))
        else:
            with open(path, "w", encoding=encoding, newline="") as handle:
                csv.writer(handle, delimiter=delimiter).writerows(rows)
        return path

    return write
