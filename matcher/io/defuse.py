"""Cells made safe for a spreadsheet: text that Excel or LibreOffice would run as a formula gets a ``'``.

Every input value written back out, every header and every free-text result column goes through
:func:`defuse` (an Arrow column) or :func:`defuse_cell` (one string).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..perf import string_buffers

#: A cell starting with one of these is text a spreadsheet would run as a formula.
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = pa.array(FORMULA_CHARS, pa.string())
#: First characters worth a closer look: formula characters, and whitespace a formula may hide behind.
_SUSPECT_FIRST = pa.array(sorted(set(FORMULA_CHARS) | {c for c in map(chr, range(0x3001)) if c.isspace()}))
#: First bytes (UTF-8) of the values worth a closer look: the formula characters, and the
#: whitespace ``str.isspace`` knows (ASCII 9-13, 28-32; U+0085, U+00A0: C2; U+1680: E1;
#: U+2000-U+205F: E2; U+3000: E3).
_SUSPECT_BYTES = np.zeros(256, dtype=bool)
_SUSPECT_BYTES[[*range(9, 14), *range(28, 33), *(ord(c) for c in FORMULA_CHARS), 0xC2, 0xE1, 0xE2, 0xE3]] = True


def defuse_cell(text: str) -> str:
    """One cell made safe for a spreadsheet: ``=1+1`` -> ``'=1+1``, `` =1+1`` -> ``' =1+1``."""
    return "'" + text if text[:1] in FORMULA_CHARS or text.lstrip()[:1] in FORMULA_CHARS else text


def defuse(column: pa.Array) -> pa.Array:
    """Prefix ``'`` to text a spreadsheet would run as a formula (=, +, -, @, tab, CR; also after spaces)."""
    buffers = string_buffers(column)
    if buffers is not None:  # most columns: no value starts with a suspect byte, decided on the raw bytes
        offsets, data = buffers
        filled = offsets[1:] > offsets[:-1]
        if not _SUSPECT_BYTES[data[offsets[:-1][filled]]].any():
            return column
    first = pc.utf8_slice_codeunits(column, 0, 1)
    if not pc.any(pc.is_in(first, value_set=_SUSPECT_FIRST)).as_py():
        return column
    after_space = pc.utf8_slice_codeunits(pc.utf8_ltrim_whitespace(column), 0, 1)
    risky = pc.fill_null(
        pc.or_(pc.is_in(first, value_set=_FORMULA_CHARS), pc.is_in(after_space, value_set=_FORMULA_CHARS)), False
    )
    if not pc.any(risky).as_py():
        return column
    return pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
