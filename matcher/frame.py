"""Read a batch of profiles (an Arrow table of strings) into typed numpy columns.

Each distinct value of a column is read once by the scalar readers of
:mod:`matcher.values` and spread back to its rows with numpy, so a million-row chunk
costs what its distinct values cost. Rows with a value that cannot be read are listed in
``errors`` (row, field, reason) and marked in ``ok``; they are never scored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from .config import ANSWER_INPUTS, NUMBER_INPUTS
from .errors import InvalidValue
from .fields import BY_NAME
from .messages import Reason
from .sectors import Detection, SectorDetector
from .values import READERS, parse_codes

#: The reader of each answer and number field, by the field's kind in the registry (:mod:`matcher.fields`).
_ANSWER_READERS: dict[str, Callable[[str, Any], str | None]] = {f: READERS[BY_NAME[f].kind] for f in ANSWER_INPUTS}
_NUMBER_READERS: dict[str, Callable[[str, Any], float | int | None]] = {
    f: READERS[BY_NAME[f].kind] for f in NUMBER_INPUTS
}
#: Cells Arrow casts itself, per number kind: the same number parse_money/parse_count give.
#: The Hangul fillers: letters by their category that show nothing (a name of them alone is blank).
FILLERS = "\u115f\u1160\u3164\uffa0"


def named(names: pa.Array | pa.ChunkedArray) -> NDArray[np.bool_]:
    """Per firm name, whether it holds a letter or digit one can see (not only spaces, zero-width or
    joining marks, a lone accent, Hangul fillers): :func:`matcher.rowwise.is_named`, for a column."""
    if _may_hold_fillers(names):  # rare: a regex pass over the column only then
        names = pc.replace_substring_regex(names, f"[{FILLERS}]", "")
    seen = pc.match_substring_regex(names, r"[\p{L}\p{N}]")
    return pc.fill_null(seen, False).to_numpy(zero_copy_only=False)


_FILLER_BYTES = [filler.encode() for filler in FILLERS]  # three UTF-8 bytes each


def _may_hold_fillers(names: pa.Array | pa.ChunkedArray) -> bool:
    """Whether the column's text bytes hold a Hangul filler (a few numpy passes over the bytes, several
    times cheaper than a regex; bytes of the buffer outside the column can only make it say True)."""
    for chunk in names.chunks if isinstance(names, pa.ChunkedArray) else [names]:
        data = chunk.buffers()[2]
        if data is None or data.size < 3:
            continue
        text = np.frombuffer(data, dtype=np.uint8)
        first = np.flatnonzero(np.isin(text[:-2], [b[0] for b in _FILLER_BYTES]))
        for a, b, c in _FILLER_BYTES:
            if np.any((text[first] == a) & (text[first + 1] == b) & (text[first + 2] == c)):
                return True
    return False


_PLAIN = {"money": r"^\d{1,15}(\.\d+)?$", "count": r"^\d{1,9}$"}


@dataclass
class RowError:
    """One reason a row cannot be scored (a :class:`~matcher.messages.Reason`: English text with its code)."""

    row: int  # position in the batch
    field: str
    reason: str


@dataclass
class ProfileFrame:
    """Typed columns of one batch of profiles.

    ``answers[f]`` holds the index of the answer in ``ANSWER_INPUTS[f]`` (-1 = unknown);
    ``numbers[f]`` holds floats (NaN = unknown).
    """

    n_rows: int
    answers: dict[str, NDArray[np.int8]]
    numbers: dict[str, NDArray[np.float64]]
    detection: Detection
    codes: Sequence[tuple[str, ...]]  # per row (a list, or a Spread over the distinct values)
    declared: Sequence[list[int]]
    ok: NDArray[np.bool_]
    errors: list[RowError] = field(default_factory=list)


class Spread(Sequence):
    """Per-row values stored once per distinct value: ``spread[row] == values[index[row]]``."""

    __slots__ = ("values", "index")

    def __init__(self, values: list, index: NDArray[np.int64]) -> None:
        self.values = values
        self.index = index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self.values[i] for i in self.index[row].tolist()]
        return self.values[self.index[row]]

    def __iter__(self):
        values = self.values
        return (values[i] for i in self.index.tolist())

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None


def _column(table: pa.Table | pa.RecordBatch, name: str) -> pa.Array:
    """A column as non-null text ("" = unknown; an absent column is all unknown).

    Nulls are filled because some Arrow kernels (binary_join_element_wise) return an empty
    array for an all-null input.
    """
    if name in table.column_names:
        col = table.column(name)
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        return pc.fill_null(col.cast(pa.string()), "")
    return pc.fill_null(pa.nulls(table.num_rows, pa.string()), "")


def map_distinct(column: pa.Array, read: Callable[[str | None], Any]) -> tuple[list[Any], NDArray[np.int64]]:
    """Apply ``read`` to each distinct value; return the results and each row's index into them."""
    encoded = pc.dictionary_encode(column, null_encoding="encode")
    values = [read(v) for v in encoded.dictionary.to_pylist()]
    return values, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _guarded(field_name: str, read: Callable[[str, Any], Any]) -> Callable[[str | None], tuple[Any, str | None]]:
    def run(value: str | None) -> tuple[Any, str | None]:
        try:
            return read(field_name, value), None
        except InvalidValue as exc:
            if exc.value == value:
                return None, exc.reason
            if isinstance(exc.reason, Reason):  # one item of the value at fault: named before the reason
                return None, Reason(exc.reason.code, str(exc.value), **exc.reason.params)
            return None, f"{exc.value!r}: {exc.reason}"

    return run


def _collect(
    errors: list[RowError],
    ok: NDArray[np.bool_],
    bad: NDArray[np.bool_],
    idx: NDArray[np.int64],
    reasons: list[str | None],
    field_name: str,
) -> None:
    for row in np.flatnonzero(bad):
        errors.append(RowError(int(row), field_name, reasons[idx[row]]))
    ok &= ~bad


def _read_answers(table, errors, ok) -> dict[str, NDArray[np.int8]]:
    out = {}
    for name, levels in ANSWER_INPUTS.items():
        results, idx = map_distinct(_column(table, name), _guarded(name, _ANSWER_READERS[name]))
        codes = np.array([levels.index(v) if v else -1 for v, _ in results] or [-1], dtype=np.int8)
        _collect(
            errors,
            ok,
            np.array([e is not None for _, e in results] or [False])[idx],
            idx,
            [e for _, e in results],
            name,
        )
        out[name] = codes[idx]
    return out


def _read_numbers(table, errors, ok) -> dict[str, NDArray[np.float64]]:
    out = {}
    for name in NUMBER_INPUTS:
        col = _column(table, name)
        pattern = _PLAIN[BY_NAME[name].kind]
        plain = pc.fill_null(pc.match_substring_regex(col, pattern), False)
        values = pc.cast(pc.if_else(plain, col, pa.scalar(None, pa.string())), pa.float64())
        values = values.to_numpy(zero_copy_only=False)
        rest = np.flatnonzero(~plain.to_numpy(zero_copy_only=False))
        if len(rest):
            results, idx = map_distinct(col.take(pa.array(rest)), _guarded(name, _NUMBER_READERS[name]))
            parsed = np.array([np.nan if v is None else float(v) for v, _ in results] or [np.nan])
            values[rest] = parsed[idx]
            bad = np.zeros(len(values), dtype=bool)
            bad[rest] = np.array([e is not None for _, e in results] or [False])[idx]
            full_idx = np.zeros(len(values), dtype=np.int64)
            full_idx[rest] = idx
            _collect(errors, ok, bad, full_idx, [e for _, e in results], name)
        out[name] = values
    return out


def read_frame(table: pa.Table | pa.RecordBatch, detector: SectorDetector) -> ProfileFrame:
    """Read a batch whose columns are named after the contract fields.

    Parameters
    ----------
    table : pyarrow Table or RecordBatch of strings
        Missing contract columns count as empty.
    detector : SectorDetector
        Built once from the configuration.

    Returns
    -------
    ProfileFrame
        Typed columns, the detected sectors and every row error.
    """
    n = table.num_rows
    errors: list[RowError] = []
    ok = np.ones(n, dtype=bool)
    names = pc.utf8_trim_whitespace(_column(table, "name"))
    no_name = ~named(names)
    for row in np.flatnonzero(no_name):
        errors.append(RowError(int(row), "name", Reason("name_required")))
    ok &= ~no_name
    answers = _read_answers(table, errors, ok)
    numbers = _read_numbers(table, errors, ok)

    code_results, code_idx = map_distinct(_column(table, "okved"), _guarded("okved", parse_codes))
    _collect(
        errors,
        ok,
        np.array([e is not None for _, e in code_results] or [False])[code_idx],
        code_idx,
        [e for _, e in code_results],
        "okved",
    )
    code_info = [detector.from_codes(c or ()) for c, _ in code_results]
    code_sector = np.array([s for s, _ in code_info], dtype=np.int64)[code_idx]
    code_text = [m[0][1] if m else "" for _, m in code_info]
    # Per row by reference to the distinct values: a list of a million rows would hold the GIL
    codes = Spread([c or () for c, _ in code_results], code_idx)

    declared_results, declared_idx = map_distinct(_column(table, "sectors"), detector.from_declared)
    declared = Spread([d for d, _ in declared_results], declared_idx)
    declared_sector = np.array([d[0] if d else -1 for d, _ in declared_results], dtype=np.int64)[declared_idx]
    free = pa.array([f for _, f in declared_results], pa.string()).take(pa.array(declared_idx))
    texts = pc.binary_join_element_wise(_column(table, "description"), free, " ", null_handling="skip")
    has_text = pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0), False)
    has_codes = np.array([bool(c) for c, _ in code_results] or [False])[code_idx]
    has_input = has_text.to_numpy(zero_copy_only=False) | has_codes

    # The code behind the main sector, or the declared sector's id when no code maps
    declared_names = [detector.config.sectors[d[0]].id if d else "" for d, _ in declared_results]
    evidence = pc.if_else(
        pa.array((code_sector < 0) & (declared_sector >= 0)),
        pa.array(declared_names, pa.string()).take(pa.array(declared_idx)),
        pa.array(code_text, pa.string()).take(pa.array(code_idx)),
    )
    detection = detector.detect(
        code_sector,
        evidence,
        declared_sector,
        texts,
        has_input,
        known=_named_sectors(detector, code_info, code_idx, declared_results, declared_idx),
    )
    errors.sort(key=lambda e: e.row)
    return ProfileFrame(n, answers, numbers, detection, codes, declared, ok, errors)


def _named_sectors(detector: SectorDetector, code_info, code_idx, declared_results, declared_idx) -> np.ndarray:
    """rows x sectors: 1.0 where one of the row's codes or its declared sectors names the sector."""
    n_sectors = len(detector.config.sectors)
    by_code = np.zeros((max(len(code_info), 1), n_sectors))
    for i, (_, matches) in enumerate(code_info):
        by_code[i, [s for s, _ in matches]] = 1.0
    by_declared = np.zeros((max(len(declared_results), 1), n_sectors))
    for i, (found, _) in enumerate(declared_results):
        by_declared[i, found] = 1.0
    return np.maximum(by_code[code_idx], by_declared[declared_idx])
