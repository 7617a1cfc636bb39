"""The stylesheets parse as their author meant: every block closed, no @media inside another @media.

A block left open swallows every rule after it: in December 2026 two unclosed ``@media (max-width:
…)`` blocks made the thanks page, the firm's report, the sector facets, saved views, the bulk toolbar
and even ``.visually-hidden`` apply on phones only, and the 1280 px list page showed its hidden labels.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
SHEETS = sorted(STATIC.glob("*.css"))


def blocks(css: str) -> list[tuple[str, int]]:
    """Each block's selector or at-rule with the depth it opens at; raises on a stray or missing brace."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'", '""', css)
    found, depth, start = [], 0, 0
    for i, ch in enumerate(css):
        if ch == "{":
            found.append((css[start:i].strip().rsplit(";", 1)[-1].strip(), depth))
            depth, start = depth + 1, i + 1
        elif ch == "}":
            depth, start = depth - 1, i + 1
            if depth < 0:
                raise AssertionError(f"a '}}' closes nothing at character {i}")
        elif ch == ";":
            start = i + 1
    if depth:
        raise AssertionError(f"{depth} block(s) never closed")
    return found


def test_there_are_stylesheets_to_check():
    assert any(sheet.name == "style.css" for sheet in SHEETS)


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_is_closed_and_no_media_query_nests_in_another(sheet):
    found = blocks(sheet.read_text(encoding="utf-8"))
    media = [(rule, depth) for rule, depth in found if rule.startswith("@media")]
    assert all(depth == 0 for _, depth in media), [rule for rule, depth in media if depth]
    # an ordinary rule sits at the top or directly inside one at-rule
    assert all(depth <= 1 for _, depth in found), [rule for rule, depth in found if depth > 1][:5]


def test_the_checker_finds_an_unclosed_media_block():
    with pytest.raises(AssertionError, match="never closed"):
        blocks("@media (max-width: 600px) {\n  .a { color: red; }\n.b { color: blue; }\n")
    nested = blocks("@media (max-width: 860px) {\n.a { x: 1; }\n@media (max-width: 600px) { .b { y: 2; } }\n}")
    assert ("@media (max-width: 600px)", 1) in nested
