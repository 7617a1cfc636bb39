"""The examples in the matcher docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "matcher.values",
        "matcher.text",
        "matcher.profile",
        "matcher.scoring",
        "matcher.classifications",
        "matcher.match",
        "matcher.sectors",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
