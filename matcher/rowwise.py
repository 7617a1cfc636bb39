"""Read a few profiles one by one in plain Python: the row-wise twin of :mod:`matcher.frame`.

:func:`matcher.frame.read_frame` sets up Arrow kernels and numpy arrays for a whole batch,
which costs a few milliseconds per call whatever the batch size: right for a CSV chunk,
wasteful for the one to sixteen profiles of a web request. :func:`read_row` reads one
profile with the very same scalar readers (:mod:`matcher.values`), the same error rules
(first bad field of a row, same reason) and the same sector detection
(:meth:`~matcher.sectors.SectorDetector.detect_row`), so that
:func:`matcher.result.assess_many` gives identical results on either path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from .config import ANSWER_INPUTS, NUMBER_INPUTS
from .errors import InvalidValue
from .frame import _ANSWER_READERS, _NUMBER_READERS, FILLERS, _guarded, named
from .messages import Reason
from .profile import row_cells
from .sectors import RowDetection, SectorDetector
from .values import parse_codes

#: The reason ``read_frame`` gives for a row without a firm name.
NAME_REQUIRED = Reason("name_required")
#: The batch path's readers, each returning (value, reason or None).
_ANSWERS = {field: _guarded(field, _ANSWER_READERS[field]) for field in ANSWER_INPUTS}
_NUMBERS = {field: _guarded(field, _NUMBER_READERS[field]) for field in NUMBER_INPUTS}
_CODES = _guarded("okved", parse_codes)


#: A letter or digit (what ``str.isalnum`` says), less the Hangul fillers.
_VISIBLE = re.compile(f"[^\\W_{FILLERS}]")


def is_named(name: str) -> bool:
    """Whether a firm name holds a letter or digit one can see: :func:`matcher.frame.named` for one name.

    A name Python's Unicode tables find none in, but with a character they do not know (a letter of a
    later Unicode version than Python's, which Arrow's tables may know), is asked of Arrow itself.
    """
    if _VISIBLE.search(name) is not None:
        return True
    if name.isascii() or not any(unicodedata.category(c) == "Cn" for c in name):
        return False
    return bool(named(pa.array([name], pa.string()))[0])


@dataclass(frozen=True)
class RowProfile:
    """One readable profile: typed answers and numbers, codes, declared sectors and the detection."""

    name: str
    answers: dict[str, str | None]  # answer field -> answer (None = unknown)
    numbers: dict[str, float | None]  # number field -> value (None = unknown)
    codes: tuple[str, ...]
    declared: list[int]
    detection: RowDetection


def read_row(profile: Mapping[str, Any], detector: SectorDetector) -> RowProfile | InvalidValue:
    """Read one profile as ``read_frame`` reads its row, or return the row's first :class:`InvalidValue`.

    Parameters
    ----------
    profile : mapping
        Field -> value as in the data contract (CSV-like text, numbers or booleans).
    detector : SectorDetector
        The fitted scorer's detector.

    Returns
    -------
    RowProfile or InvalidValue
        The error names the same field, value and reason as the batch path: fields are
        checked in its order (name, answers, numbers, okved).
    """
    cells = row_cells(profile)
    name = cells.get("name") or ""
    if not is_named(name):
        return InvalidValue("name", cells.get("name"), NAME_REQUIRED)
    # An empty cell is unknown to every reader (None, no reason): only the others are read.
    answers: dict[str, str | None] = {}
    for field, read in _ANSWERS.items():
        cell = cells.get(field)
        if not cell:
            answers[field] = None
            continue
        answers[field], reason = read(cell)
        if reason is not None:
            return InvalidValue(field, cell, reason)
    numbers: dict[str, float | None] = {}
    for field, read in _NUMBERS.items():
        cell = cells.get(field)
        if not cell:
            numbers[field] = None
            continue
        number, reason = read(cell)
        if reason is not None:
            return InvalidValue(field, cell, reason)
        numbers[field] = None if number is None else float(number)
    codes: tuple[str, ...] = ()
    if cells.get("okved"):
        codes, reason = _CODES(cells["okved"])
        if reason is not None:
            return InvalidValue("okved", cells["okved"], reason)
        codes = codes or ()
    declared, free = detector.from_declared(cells["sectors"]) if cells.get("sectors") else ([], "")
    detection = _detect(detector, codes, declared, (cells.get("description") or "") + " " + free)
    return RowProfile(name.strip(), answers, numbers, codes, declared, detection)


def _detect(detector: SectorDetector, codes: tuple[str, ...], declared: list[int], text: str) -> RowDetection:
    """The sector inputs ``read_frame`` hands to ``detect``, for one row: code, declared sector, text."""
    code_sector, code_matches = detector.from_codes(codes)
    declared_sector = declared[0] if declared else -1
    evidence = code_matches[0][1] if code_matches else ""
    if code_sector < 0 and declared_sector >= 0:
        evidence = detector.config.sectors[declared_sector].id
    has_input = bool(text.strip()) or bool(codes)
    return detector.detect_row(code_sector, evidence, declared_sector, text, has_input)
