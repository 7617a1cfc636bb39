"""Match a CSV file of firms of any size to the opportunities: the best ``k`` of each firm, streamed.

The file is read in chunks exactly as ``matcher score`` reads it (:mod:`matcher.batch`: the
same sniffing, encodings, row numbers and error report); each chunk becomes a
:class:`~matcher.firms.FirmFacts`, one :func:`~matcher.match.top_matches` pass and the
incentive rules, and its rows are written at once. Output: every input column, then for each
rank ``r`` ``match_r`` (opportunity id), ``match_r_score`` and ``match_r_reason``, then
``incentives`` (categories the profile qualifies for, ``;``-separated) and ``incentives_possible``.
Rows that cannot be read go to ``<out>.errors.csv``: input rows = matched rows + error rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .batch import CHUNK_BYTES, WORKERS, Summary, bad_row_reason, mark_empty_rows, report_unclosed
from .explain import tenths_text
from .frame import read_frame
from .incentives import UNKNOWN, evaluate_batch
from .io.defuse import defuse
from .io.formats import sniff
from .io.reading import RowNumbers, chunks, with_retries
from .io.writing import ErrorReport, output_names
from .match_text import missing_masks, reason_column
from .profile import header_map
from .recommend import Matcher

KINDS_ALL = ("park", "project", "partner")


def result_columns(k: int) -> list[str]:
    """The columns ``matcher match`` adds after the input columns, in order."""
    ranks = [name for r in range(1, k + 1) for name in (f"match_{r}", f"match_{r}_score", f"match_{r}_reason")]
    return [*ranks, "incentives", "incentives_possible"]


def _ids_column(statuses: np.ndarray, wanted, ids: list[str]) -> pa.Array:
    """Per row, the ids of the rules whose status passes ``wanted``, joined with ``;`` (one lookup per pattern)."""
    bits = (
        (wanted(statuses).astype(np.int64) << np.arange(statuses.shape[1], dtype=np.int64)).sum(axis=1)
        if statuses.shape[1]
        else np.zeros(len(statuses), np.int64)
    )
    distinct, where = np.unique(bits, return_inverse=True)
    texts = [";".join(i for b, i in enumerate(ids) if int(d) >> b & 1) for d in distinct]
    return pa.array(texts, pa.string()).take(pa.array(where.ravel()))


def _match_chunk(
    matcher: Matcher,
    batch: pa.RecordBatch,
    fields: dict[int, str],
    rows: np.ndarray,
    k: int,
    kinds: tuple[str, ...],
    lang: str,
):
    """Match one chunk; return the output table of readable rows and the error lines."""
    renamed = pa.table({fields[i]: batch.column(i) for i in fields})
    frame = read_frame(renamed, matcher.detector)
    mark_empty_rows(batch, frame)
    facts = matcher.facts(frame)
    table, top = matcher.top(facts, k, kinds)
    masks = missing_masks(matcher.catalogue, table, facts, top.index)
    ids = pa.array([o.id for o in table.opportunities] + [""], pa.string())
    out = {f"in{i}": defuse(batch.column(i)) for i in range(batch.num_columns)}
    for r in range(k):
        index = top.index[:, r]
        out[f"match_{r + 1}"] = defuse(ids.take(pa.array(np.where(index >= 0, index, table.m))))
        out[f"match_{r + 1}_score"] = pc.if_else(pa.array(index >= 0), tenths_text(top.score[:, r]), "")
        out[f"match_{r + 1}_reason"] = defuse(
            reason_column(matcher.catalogue, table, index, top.score[:, r], top.contributions[:, r], masks[:, r], lang)
        )
    statuses = evaluate_batch(matcher.rules, matcher.context(facts, matcher.locations(table, top)))
    rule_ids = [rule.id for rule in matcher.rules.rules]
    out["incentives"] = _ids_column(statuses, lambda s: s > UNKNOWN, rule_ids)
    out["incentives_possible"] = _ids_column(statuses, lambda s: s == UNKNOWN, rule_ids)
    result = pa.table(out)
    if not frame.ok.all():
        result = result.filter(pa.array(frame.ok))
    return result, _error_lines(frame, batch, rows)


def _error_lines(frame, batch: pa.RecordBatch, rows: np.ndarray) -> list[tuple]:
    """One error-report line per unreadable row, naming every column at fault."""
    by_row: dict[int, list] = {}
    for err in frame.errors:
        by_row.setdefault(err.row, []).append(err)
    lines = []
    for row, errs in by_row.items():
        reason = errs[0].reason if len(errs) == 1 else "; ".join(f"{e.field}: {e.reason}" for e in errs)
        values = [c[row].as_py() for c in batch.columns]
        lines.append((int(rows[row]), "; ".join(e.field for e in errs), reason, values))
    return lines


def match_file(
    in_path: str | Path,
    out_path: str | Path | BinaryIO,
    matcher: Matcher,
    k: int = 5,
    kinds: tuple[str, ...] = KINDS_ALL,
    lang: str = "en",
    block_bytes: int = CHUNK_BYTES,
    error_path: str | Path | None = None,
    progress=None,
) -> Summary:
    """Write the best ``k`` opportunities of every firm of ``in_path`` to ``out_path``.

    Parameters
    ----------
    in_path : path
        Input CSV in the profile data contract (as ``matcher score`` reads it).
    out_path : path or binary file
        Output CSV; a file object (standard output) gets the finished file and is left open.
    matcher : Matcher
        The catalogue, rules and sector detector.
    k : int
        Matches per firm.
    kinds : tuple of str
        Kinds of opportunity to match (park, project, partner).
    lang : {"en", "ru", "vi"}
        Language of the reasons.
    error_path : path, optional
        The error report; ``<out>.errors.csv`` beside a path ``out_path`` by default.

    Returns
    -------
    Summary
        ``rows == scored + errors`` (``scored`` counts the matched rows).
    """
    start = time.perf_counter()
    fmt = sniff(in_path)
    if isinstance(out_path, (str, os.PathLike)):
        out_path = Path(out_path)
        error_path = Path(error_path or out_path.with_name(out_path.stem + ".errors.csv"))
    elif error_path is None:
        raise TypeError("error_path is needed when out_path is a file object")
    folder = out_path.parent if isinstance(out_path, Path) else None
    fd, tmp_name = tempfile.mkstemp(suffix=".csv", dir=folder)
    os.close(fd)
    try:
        args = (in_path, matcher, k, kinds, lang, tmp_name, error_path, progress)
        summary = with_retries(lambda *read: _pass(*args, *read), in_path, fmt, block_bytes)
        if isinstance(out_path, Path):
            os.replace(tmp_name, out_path)
        else:
            with open(tmp_name, "rb") as handle:
                shutil.copyfileobj(handle, out_path, 1 << 20)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    summary.error_path = str(error_path)
    summary.params = {"k": k, "kinds": ",".join(kinds), "lang": lang, "opportunities": matcher.catalogue.path}
    summary.seconds = time.perf_counter() - start
    return summary


def _pass(in_path, matcher, k, kinds, lang, tmp_name, error_path, progress, fmt, block_bytes, threads) -> Summary:
    fields = header_map(fmt.headers)
    summary, numbers = Summary(), RowNumbers()
    report = ErrorReport(error_path, fmt.headers)
    names = output_names(fmt.headers, result_columns(k))
    schema = pa.schema([pa.field(n, pa.string()) for n in names])
    size = max(os.path.getsize(in_path), 1)
    try:
        with pcsv.CSVWriter(tmp_name, schema) as writer, ThreadPoolExecutor(WORKERS) as pool:
            pending: deque = deque()
            for chunk in chunks(in_path, fmt, numbers, block_bytes, threads):
                rows = numbers.next(chunk.num_rows)
                if numbers.unclosed:
                    chunk, rows = report_unclosed(chunk, rows, fmt.headers, report, summary, lang)
                if len(pending) >= WORKERS:
                    _write(pending.popleft().result(), writer, schema, report, summary)
                pending.append(pool.submit(_match_chunk, matcher, chunk, fields, rows, k, kinds, lang))
                if progress:
                    progress(min(size, int(numbers.done * fmt.bytes_per_row)))
            while pending:
                _write(pending.popleft().result(), writer, schema, report, summary)
        for number, fields, text in numbers.bad:
            report.add(number, "(row)", bad_row_reason(fields, text, lang), [text])
            summary.errors += 1
        summary.rows = summary.scored + summary.errors
    finally:
        report.close()
    return summary


def _write(result, writer: pcsv.CSVWriter, schema: pa.Schema, report, summary: Summary) -> None:
    table, errors = result
    for row, column, why, values in errors:
        report.add(row, column, why, values)
    summary.errors += len(errors)
    summary.scored += table.num_rows
    if table.num_rows:
        writer.write_table(pa.Table.from_arrays(table.columns, schema=schema))


__all__ = ["match_file", "result_columns"]
