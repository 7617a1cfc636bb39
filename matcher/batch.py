"""Score a CSV file of any size: sniff, stream in chunks, score, write, report errors.

Pass 1 reads the file in chunks (Arrow), scores each chunk with numpy and appends the
scored rows to a temporary Arrow IPC file while counting scores per tenth of a point.
Pass 2 streams that file back and writes the CSV (or JSON) with each row's rank, which
the score counts give exactly. Memory stays flat whatever the number of rows.
Rows that cannot be scored go to ``<out>.errors.csv``: input rows = scored + error rows.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from .explain import render_batch
from .frame import read_frame
from .io.defuse import defuse
from .io.formats import ENCODING_NAMES, OUTPUT_ENCODINGS, FileFormat, output_format, sniff
from .io.reading import RowNumbers, chunks, with_retries
from .io.writing import MAX_TENTHS, ErrorReport, encode_report, output_error, write_output
from .messages import Reason, reason, reason_text, warning
from .perf import ChunkPool, string_buffers, take, worker_state
from .profile import field_for, header_map, ignored_headers
from .scoring import Scorer
from .stored import kept_rows

CHUNK_BYTES = 4 << 20
#: Chunks of a file scored by worker processes (the command line's large files): each chunk has a
#: fixed cost (~8 ms: Arrow kernels set up, small arrays) that larger chunks spread over more rows.
#: Measured on 1M rows: 4 MB 10.8, 8 MB 10.0, 16 MB 9.6 us of CPU per row; peak RSS 410, 630, 690 MB.
PROCESS_CHUNK_BYTES = 8 << 20
#: Chunks scored at once: numpy and Arrow release the GIL, so reading and scoring overlap on two
#: cores. Measured with bench_score.py (1M rows, interleaved runs): 2 beat 3 in 7 rounds of 7, by
#: 0.2-1.4 s, and peaked 50 MB lower (fewer threads fighting for the GIL and the caches).
WORKERS = 2


@dataclass
class Summary:
    """What a scoring run did: row counts and time."""

    rows: int = 0
    scored: int = 0
    errors: int = 0
    seconds: float = 0.0
    error_path: str = ""
    params: dict = field(default_factory=dict)
    #: Input headers naming no contract field: passed through, not scored.
    ignored: list = field(default_factory=list)
    #: How the CSV output and the error report were written.
    encoding: str = "utf-8"
    delimiter: str = ","
    #: Warnings worded in the run's language (ignored columns, an encoding that could not be kept).
    warnings: list = field(default_factory=list)
    #: UTF-8 but for a few bytes, each read as U+FFFD (:attr:`matcher.io.formats.FileFormat.repair`).
    stray_bytes: bool = False


def result_columns(config) -> list[str]:
    """The columns ``matcher score`` adds after the input columns, in order (README, "CSV data contract")."""
    return [
        "score",
        "rank",
        "band",
        "sector",
        *[f"c_{c.id}" for c in config.criteria],
        "completeness",
        "missing",
        "explanation",
        "top_improvement",
        "sectors",
        "sector_confidence",
        "okved_suggested",
    ]


def _score_chunk(
    scorer: Scorer,
    batch: pa.RecordBatch,
    fields: dict[int, str],
    rows: np.ndarray,
    lang: str,
    headers: list[str] | None = None,
):
    """Score one chunk; return the output batch of scored rows, their score tenths, the errors and,
    with ``headers``, the rows of the results file."""
    renamed = pa.table({fields[i]: batch.column(i) for i in fields})
    frame = read_frame(renamed, scorer.detector_)
    mark_empty_rows(batch, frame)
    scores = scorer.evaluate(frame)
    columns = render_batch(scorer, frame, scores, lang)
    keep = pa.array(frame.ok)
    out = {f"in{i}": defuse(batch.column(i)) for i in range(batch.num_columns)}
    # Result columns start with a digit or a label from sectors.yaml; only advice can carry text
    # a spreadsheet might run, so only that one is checked.
    out.update(columns)
    out["top_improvement"] = defuse(columns["top_improvement"])
    out["__score10"] = pa.array(scores.score)
    full = (
        None
        if headers is None
        else kept_rows(scorer, frame, scores, columns["explanation"], lang, batch, headers, rows)
    )
    table = pa.table(out)
    if not frame.ok.all():
        table = table.filter(keep)
    by_row: dict[int, list] = {}  # one report line per row, naming every column at fault: rows = scored + errors
    for err in frame.errors:
        by_row.setdefault(err.row, []).append(err)
    errors = []
    for row, errs in by_row.items():
        said = [reason_text(e.reason, lang) for e in errs]
        text = said[0] if len(errs) == 1 else "; ".join(f"{e.field}: {r}" for e, r in zip(errs, said, strict=True))
        errors.append((int(rows[row]), "; ".join(e.field for e in errs), text, [c[row].as_py() for c in batch.columns]))
    return table, scores.score[frame.ok], errors, full


def _score_part(name: str, chunk: str, rows: np.ndarray):
    """In a worker process: score the chunk handed over at ``chunk`` (:meth:`~matcher.perf.ChunkPool.hand_over`)
    and write its scored rows to the part file ``name``; return (``name`` or None when no row scored, rows
    written, score tenths, errors, kept results)."""
    state = worker_state()
    batch = take(chunk)
    table, score, errors, results = _score_chunk(
        state["scorer"], batch, state["fields"], rows, state["lang"], state["headers"]
    )
    if not table.num_rows:
        return None, 0, score, errors, results
    with ipc.new_file(name, table.schema) as writer:
        writer.write_table(table)
    return name, table.num_rows, score, errors, results


def mark_empty_rows(batch: pa.RecordBatch, frame) -> None:
    """A row with every cell empty is reported once as empty, not as a firm without a name."""
    empty = np.ones(batch.num_rows, dtype=bool)
    for column in batch.columns:
        buffers = string_buffers(column)
        if buffers is None:
            empty &= pc.equal(pc.utf8_length(column), 0).to_numpy(zero_copy_only=False)
        else:
            empty &= buffers[0][1:] == buffers[0][:-1]
    if empty.any():
        from .frame import RowError

        frame.errors = [e for e in frame.errors if not empty[e.row]]
        frame.errors += [RowError(int(r), "(row)", Reason("row_empty")) for r in np.flatnonzero(empty)]
        frame.errors.sort(key=lambda e: e.row)


UNCLOSED_QUOTE = reason("unclosed_quote")


def bad_row_reason(fields: tuple[int, int], text: str, lang: str) -> str:
    """Why a row Arrow could not split into the header's fields was left out: its count of fields, and
    when it holds an odd number of quotes, the quote that swallowed the lines after it."""
    actual, expected = fields
    code = "row_quote" if text.count('"') % 2 else "row_fields"
    return reason(code, lang, actual=actual, expected=expected)


def report_unclosed(batch, rows, headers, report, summary, lang):
    """Move the batch's last row, whose last value never closes its quote, to the error report."""
    last = batch.num_rows - 1
    report.add(
        int(rows[last]),
        field_for(headers[-1]) or headers[-1],
        reason("unclosed_quote", lang),
        [c[last].as_py() for c in batch.columns],
    )
    summary.errors += 1
    return batch.slice(0, last), rows[:last]


def score_file(
    in_path: str | Path,
    out_path: str | Path | BinaryIO,
    scorer: Scorer,
    lang: str = "en",
    out_format: str = "csv",
    progress: Callable[[int], None] | None = None,
    block_bytes: int | None = None,
    error_path: str | Path | None = None,
    out_encoding: str = "utf-8",
    results_path: str | Path | None = None,
    processes: int = 0,
) -> Summary:
    """Score every row of ``in_path`` into ``out_path``; unscorable rows go to the error report.

    Parameters
    ----------
    in_path : path
        Input CSV.
    out_path : path or binary file
        Output CSV (or JSON array with ``out_format="json"``); a file object (standard output)
        is written from its current position and left open.
    scorer : Scorer
        A fitted scorer.
    lang : {"en", "ru", "vi"}
        Language of the ``explanation`` and ``top_improvement`` columns.
    progress : callable, optional
        Called with the number of input bytes consumed so far.
    block_bytes : int, optional
        Size of the chunks read and scored at once: :data:`CHUNK_BYTES` on threads,
        :data:`PROCESS_CHUNK_BYTES` with ``processes``.
    error_path : path, optional
        The error report; by default ``<out>.errors.csv`` beside a path ``out_path`` (required
        with a file object).
    out_encoding : {"utf-8", "utf-8-sig", "input"}
        How the CSV output and the error report are written: UTF-8 with commas, UTF-8 with a BOM
        and commas, or the input's encoding (Windows-1251, UTF-8 with or without BOM) and
        delimiter. Windows-1251 output that would lose a character (Vietnamese text, say) is
        written as UTF-8 with BOM instead, and a warning says so.
    results_path : path, optional
        Also keep every scored row's numbers (an Arrow IPC file, see :mod:`matcher.stored`): its
        record number, input values, scores, sector detection and explanation in every language,
        from the same scores as the CSV. :func:`matcher.stored.results_from` rebuilds each row's
        :class:`~matcher.result.ScoreResult` from them without scoring again (the web app
        imports leads so).
    processes : int
        Score the chunks in this many forked worker processes (:mod:`matcher.perf`; the
        command line does so for large files); 0, the default, scores them on threads of this
        process (what a server process that holds connections should do).

    Returns
    -------
    Summary
        Row counts (``rows == scored + errors``), time and the error-report path.

    Raises
    ------
    InputFileError
        For a file that cannot be read at all (empty, binary, no ``name`` column).
    OSError
        When the output cannot be written: its ``filename`` is ``out_path`` (or ``error_path``),
        never the temporary file kept beside the output.
    """
    start = time.perf_counter()
    block_bytes = block_bytes or (PROCESS_CHUNK_BYTES if processes else CHUNK_BYTES)
    if out_encoding not in OUTPUT_ENCODINGS:
        raise ValueError(f"out_encoding: expected one of {', '.join(OUTPUT_ENCODINGS)}, not {out_encoding!r}")
    fmt = sniff(in_path)
    encoding, delimiter = output_format(fmt, out_encoding)
    if isinstance(out_path, (str, os.PathLike)):
        out_path = Path(out_path)
        error_path = Path(error_path or out_path.with_name(out_path.stem + ".errors.csv"))
        tmp_dir = out_path.parent
    elif error_path is None:
        raise TypeError("error_path is needed when out_path is a file object")
    else:
        tmp_dir = None
    try:
        fd, tmp_name = tempfile.mkstemp(suffix=".arrow", dir=tmp_dir)
    except OSError as exc:  # the user knows their output path, not our temporary file
        raise output_error(exc, out_path) from None
    os.close(fd)
    chunk_pool = None
    try:
        if processes:  # forked now, before the CSV reader starts threads
            chunk_pool = ChunkPool(
                processes,
                Path(tmp_name + ".parts"),
                scorer=scorer,
                fields=header_map(fmt.headers),
                lang=lang,
                headers=fmt.headers if results_path is not None else None,
            )
        run = _Run(in_path, scorer, lang, progress, tmp_name, error_path, delimiter, results_path, chunk_pool)
        read_as: list[FileFormat] = []  # the format the read that succeeded used (its encoding may differ)

        def pass1(fmt: FileFormat, *rest):
            read_as[:] = [fmt]
            return _pass1(run, fmt, *rest)

        summary, counts, stored = with_retries(pass1, in_path, fmt, block_bytes)
        fmt = read_as[0]  # "as the input": in what the file turned out to be written in
        encoding = output_format(fmt, out_encoding)[0]
        ranks = 1 + np.concatenate(([0], np.cumsum(counts[::-1])))[::-1][1:]
        results = result_columns(scorer.config_)
        encoding = write_output(
            stored, out_path, fmt.headers, results, ranks, out_format, (encoding, delimiter), tmp_dir, chunk_pool
        )
        encode_report(Path(error_path), encoding, tmp_dir)
    finally:
        if chunk_pool is not None:
            chunk_pool.close()  # removes its part files
        Path(tmp_name).unlink(missing_ok=True)
    if progress:
        progress(os.path.getsize(in_path))
    summary.error_path = str(error_path)
    summary.encoding, summary.delimiter = encoding, delimiter
    summary.ignored = ignored_headers(fmt.headers)
    if summary.ignored:
        shown = ", ".join(repr(h[:60]) for h in summary.ignored)
        summary.warnings.append(warning("ignored_columns", lang, count=len(summary.ignored), columns=shown))
    if fmt.repair:
        summary.stray_bytes = True
        summary.warnings.append(warning("stray_bytes", lang))
    if encoding != output_format(fmt, out_encoding)[0] and out_format != "json":  # JSON is UTF-8 by definition
        summary.warnings.append(
            warning("encoding_fallback", lang, encoding=ENCODING_NAMES.get(fmt.encoding, fmt.encoding))
        )
    summary.params = scorer.scoring_params() | {"lang": lang}
    summary.params.pop("config", None)
    summary.seconds = time.perf_counter() - start
    return summary


@dataclass
class _Run:
    """What every attempt of pass 1 reads, scores and writes (:func:`~matcher.io.reading.with_retries` changes
    only the format, the chunk size and the threads)."""

    in_path: str | Path
    scorer: Scorer
    lang: str
    progress: Callable[[int], None] | None
    tmp_name: str
    error_path: str | Path
    delimiter: str = ","
    results_path: str | Path | None = None
    chunk_pool: ChunkPool | None = None


def _pass1(run: _Run, fmt: FileFormat, block_bytes: int, threads: bool):
    """Score every chunk into the temporary Arrow file (or the workers' part files); count scores per
    tenth for the ranks. Returns the summary, the counts and the Arrow files pass 2 reads, in order."""
    summary, numbers = Summary(), RowNumbers()
    counts = np.zeros(MAX_TENTHS + 2, dtype=np.int64)
    size = max(os.path.getsize(run.in_path), 1)
    report = ErrorReport(run.error_path, fmt.headers, run.delimiter)  # a second attempt starts it afresh
    kept = _Kept(run.results_path)
    sink, pool, depth, submit = _scoring(run, fmt)

    def collect(result) -> None:
        n_rows, score, errors, results = sink.add(result)
        kept.add(results)
        for row, column, why, values in errors:
            report.add(row, column, why, values)
        summary.errors += len(errors)
        summary.scored += n_rows
        counts[:] += np.bincount(np.clip(score, 0, MAX_TENTHS), minlength=len(counts))[: len(counts)]

    pending: deque = deque()
    try:
        with pool:
            for batch in chunks(run.in_path, fmt, numbers, block_bytes, threads):
                rows = numbers.next(batch.num_rows)
                if numbers.unclosed:  # set on the last batch only
                    batch, rows = report_unclosed(batch, rows, fmt.headers, report, summary, run.lang)
                if len(pending) >= depth:
                    collect(pending.popleft().result())
                pending.append(submit(pool, batch, rows))
                if run.progress:
                    run.progress(min(size, int(numbers.done * fmt.bytes_per_row)))
            while pending:
                collect(pending.popleft().result())
        for number, fields, text in numbers.bad:
            report.add(number, "(row)", bad_row_reason(fields, text, run.lang), [text])
            summary.errors += 1
        summary.rows = summary.scored + summary.errors
    finally:
        if run.chunk_pool is not None:  # on a failure: no worker still writing when the next attempt starts
            for future in pending:
                future.cancel()
            futures_wait(pending)
        sink.close()
        kept.close()
        report.close()
    return summary, counts, sink.files


def _scoring(run: _Run, fmt: FileFormat):
    """Where pass 1's chunks are scored and their rows go: (sink, pool, chunks in flight, submit)."""
    chunk_pool = run.chunk_pool
    if chunk_pool is not None:  # forked workers, each writing its part files
        chunk_pool.clear()  # a second attempt starts afresh
        return (
            _Parts(),
            nullcontext(),
            chunk_pool.processes + 1,
            lambda _pool, batch, rows: chunk_pool.submit(
                _score_part, chunk_pool.part_name(), chunk_pool.hand_over(batch), rows
            ),
        )
    fields, headers = header_map(fmt.headers), fmt.headers if run.results_path is not None else None
    return (
        _Temporary(run.tmp_name),
        ThreadPoolExecutor(WORKERS),
        WORKERS,
        lambda pool, batch, rows: pool.submit(_score_chunk, run.scorer, batch, fields, rows, run.lang, headers),
    )


class _Temporary:
    """Pass 1's scored rows from threads: appended to one temporary Arrow file."""

    def __init__(self, name: str) -> None:
        self.name, self.writer = name, None

    def add(self, result):
        """Take ``_score_chunk``'s (table, scores, errors, kept results); return (rows, scores, errors, results)."""
        table, score, errors, results = result
        if table.num_rows:
            if self.writer is None:
                self.writer = ipc.new_file(self.name, table.schema)
            self.writer.write_table(table)
        return table.num_rows, score, errors, results

    @property
    def files(self) -> list[str]:
        return [self.name] if self.writer is not None else []

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _Parts:
    """Pass 1's scored rows from worker processes: the part files they wrote, in order."""

    def __init__(self) -> None:
        self.files: list[str] = []

    def add(self, result):
        """Take ``_score_part``'s (part path or None, rows, scores, errors, kept results)."""
        path, n_rows, score, errors, results = result
        if path is not None:
            self.files.append(path)
        return n_rows, score, errors, results

    def close(self) -> None:
        """Each worker closed its own part file: nothing is open here."""


class _Kept:
    """The results file of ``score_file(results_path=...)``, written as scored chunks come (or nothing)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path, self.writer = path, None

    def add(self, results) -> None:
        if self.path is not None and results.num_rows:
            if self.writer is None:
                self.writer = ipc.new_file(str(self.path), results.schema)
            self.writer.write_table(results)

    def close(self) -> None:
        if self.path is not None:  # nothing scored: an empty file all the same
            (self.writer or ipc.new_file(str(self.path), pa.schema([("record", pa.int64())]))).close()
