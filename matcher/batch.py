"""Score a CSV file of any size: sniff, stream in chunks, score, write, report errors.

Pass 1 reads the file in chunks (Arrow), scores each chunk with numpy and appends the
scored rows to a temporary Arrow IPC file while counting scores per tenth of a point.
Pass 2 streams that file back and writes the CSV (or JSON) with each row's rank, which
the score counts give exactly. Memory stays flat whatever the number of rows.
Rows that cannot be scored go to ``<out>.errors.csv``: input rows = scored + error rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc

from .errors import InputFileError
from .explain import render_batch
from .frame import read_frame
from .messages import Reason, reason, reason_text, warning
from .perf import ChunkPool, append_file, string_buffers, worker_state
from .profile import field_for, header_map, ignored_headers
from .scoring import Scorer
from .stored import kept_rows

_LINE_END = re.compile(r"\r\n|\r|\n")
SAMPLE_BYTES = 1 << 20
CHUNK_BYTES = 4 << 20
MAX_COLUMNS = 16_384
MAX_TENTHS = 1000
#: Chunks scored at once: numpy and Arrow release the GIL, so reading and scoring overlap on two
#: cores. Measured with bench_score.py (1M rows, interleaved runs): 2 beat 3 in 7 rounds of 7, by
#: 0.2-1.4 s, and peaked 50 MB lower (fewer threads fighting for the GIL and the caches).
WORKERS = 2
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


@dataclass(frozen=True)
class FileFormat:
    """What sniffing found: encoding, delimiter and header."""

    encoding: str
    delimiter: str
    headers: list[str]
    bytes_per_row: float = 100.0
    header_only: bool = False
    bom: bool = False


#: What ``score_file(out_encoding=...)`` accepts: plain UTF-8 (the default), UTF-8 with a BOM (what
#: Excel needs to read UTF-8), or the input's own encoding and delimiter (Windows-1251 with ``;`` in,
#: the same out).
OUTPUT_ENCODINGS = ("utf-8", "utf-8-sig", "input")
_BOM = b"\xef\xbb\xbf"


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


def sniff(path: str | Path) -> FileFormat:
    """Find the encoding (UTF-8, UTF-8 with BOM, Windows-1251), the delimiter and the header.

    Raises
    ------
    InputFileError
        For an empty or binary file, or one without a ``name`` column.
    """
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    if not raw.strip(b"\xef\xbb\xbf \r\n\t"):
        raise InputFileError("the file is empty: a header row with at least a 'name' column is needed")
    if b"\x00" in raw:
        raise InputFileError("this is a binary file, not a CSV text file (it contains NUL bytes)")
    encoding = "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=len(raw) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        encoding = "cp1251"
    text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    if len(raw) == SAMPLE_BYTES and "\n" not in text and "\r" not in text:
        raise InputFileError("the header row is longer than 1 MiB: this is not a CSV file of firm profiles")
    first = _LINE_END.split(text, 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    # newline="": records end at CR, LF or CR LF alike (old Mac files end lines with CR alone)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(records, [])
    check_headers(headers)
    # The whole file is its header: Arrow, told to skip the header, would wait for its end.
    header_only = len(raw) < SAMPLE_BYTES and next(records, None) is None
    lines = text.count("\n") or text.count("\r")
    return FileFormat(encoding, delimiter, headers, len(raw) / max(lines, 1), header_only, raw.startswith(_BOM))


def check_headers(headers: list[str]) -> None:
    """Refuse a header with no ``name`` column, a contract column given twice, or too many columns."""
    if len(headers) > MAX_COLUMNS:
        raise InputFileError(
            f"the header has {len(headers):,} columns; at most {MAX_COLUMNS:,} (a spreadsheet's limit) can be scored"
        )
    seen: dict[str, int] = {}
    for i, header in enumerate(headers):
        name = field_for(header)
        if name and name in seen:
            raise InputFileError(f"the column {name!r} appears twice (columns {seen[name] + 1} and {i + 1}); keep one")
        if name:
            seen[name] = i
    if "name" not in seen:
        shown = ", ".join(repr(h[:40]) for h in headers[:8]) + (" …" if len(headers) > 8 else "")
        raise InputFileError(f"no 'name' column: the header has {shown or 'nothing'}")


def defuse_cell(text: str) -> str:
    """One cell made safe for a spreadsheet: ``=1+1`` -> ``'=1+1``, `` =1+1`` -> ``' =1+1``."""
    return "'" + text if text[:1] in FORMULA_CHARS or text.lstrip()[:1] in FORMULA_CHARS else text


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


class _RowNumbers:
    """Spreadsheet row numbers (header = 1) of the rows Arrow parsed, around skipped bad rows."""

    def __init__(self) -> None:
        self.bad: list[tuple[int, str, str]] = []  # (row number, reason, text)
        self.blank: list[int] = []  # blank lines: no firm, no error, but a row a spreadsheet counts
        self.unnumbered = False
        self.unclosed = False  # the file ends inside a quoted value of its last row
        self.done = 0

    def handler(self, row: pcsv.InvalidRow) -> str:
        number = row.number if row.number is not None else -1
        self.unnumbered |= row.number is None
        if not (row.text or "").strip(" \t\r\n"):
            self.blank.append(number)
            return "skip"
        self.bad.append((number, (row.actual_columns, row.expected_columns), row.text or ""))
        return "skip"

    def next(self, n: int) -> np.ndarray:
        ordinals = np.arange(self.done + 1, self.done + n + 1)
        self.done += n
        skipped = np.sort(np.array([b[0] - 1 for b in self.bad] + [b - 1 for b in self.blank], dtype=np.int64))
        shift = np.searchsorted(skipped - np.arange(len(skipped)), ordinals, side="right")
        return ordinals + shift + 1


def _reader(
    path: str | Path, fmt: FileFormat, numbers: _RowNumbers, block: int, threads: bool
) -> pcsv.CSVStreamingReader:
    names = [f"f{i}" for i in range(len(fmt.headers))]
    return pcsv.open_csv(
        path,
        # skip_rows_after_names skips the header as a record (a quoted line break in it included), skip_rows a line
        read_options=pcsv.ReadOptions(
            column_names=names, skip_rows_after_names=1, block_size=block, use_threads=threads, encoding=fmt.encoding
        ),
        parse_options=pcsv.ParseOptions(
            delimiter=fmt.delimiter,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=numbers.handler,
        ),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )


class _Renumber(Exception):
    """A malformed row met while parsing with threads, which cannot number it: read again."""


class _NotUtf8(Exception):
    """Bytes that are not UTF-8 after a first megabyte that was: read again as Windows-1251."""


class _ErrorReport:
    """Writes ``<out>.errors.csv``: row, column, reason, then the row's original values."""

    def __init__(self, path: Path, headers: list[str], delimiter: str = ",") -> None:
        self.path = path
        self.handle = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 -- open until close()
        self.writer = csv.writer(self.handle, delimiter=delimiter)
        self.writer.writerow(["row", "column", "reason", *(defuse_cell(h) for h in headers)])
        self.count = 0

    def add(self, row: int, column: str, reason: str, values: list[str]) -> None:
        self.writer.writerow([row, defuse_cell(column), defuse_cell(reason), *(defuse_cell(v or "") for v in values)])
        self.count += 1

    def close(self) -> None:
        self.handle.close()


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
    _mark_empty_rows(batch, frame)
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


def _score_part(name: str, batch: pa.RecordBatch, rows: np.ndarray):
    """In a worker process: score one chunk and write its scored rows to the part file ``name``;
    return (``name`` or None when no row scored, rows written, score tenths, errors, kept results)."""
    state = worker_state()
    table, score, errors, results = _score_chunk(
        state["scorer"], batch, state["fields"], rows, state["lang"], state["headers"]
    )
    if not table.num_rows:
        return None, 0, score, errors, results
    with ipc.new_file(name, table.schema) as writer:
        writer.write_table(table)
    return name, table.num_rows, score, errors, results


def _csv_part(name: str, ranks: np.ndarray, schema: pa.Schema, delimiter: str) -> str:
    """In a worker process: the CSV text (no header) of one part file's rows with their ranks; its path."""
    out = name.removesuffix(".arrow") + ".csv"
    with (
        pa.OSFile(out, "w") as sink,
        pcsv.CSVWriter(
            sink, schema, write_options=pcsv.WriteOptions(include_header=False, delimiter=delimiter)
        ) as writer,
    ):
        for batch in _stored_batches([name]):
            writer.write_batch(_with_rank(batch, ranks, schema))
    return out


def _mark_empty_rows(batch: pa.RecordBatch, frame) -> None:
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


def _chunks(path, fmt, numbers, block, threads) -> Iterator[pa.RecordBatch]:
    if fmt.header_only:
        return
    try:
        previous = None  # one batch held back, to check the last one for a file cut short in a quote
        for batch in _reader(path, fmt, numbers, block, threads):
            if threads and numbers.unnumbered:
                raise _Renumber()
            if previous is not None:
                yield previous
            previous = batch
        if previous is not None:
            numbers.unclosed = _unclosed_quote(path, fmt, previous)
            yield previous
    except pa.ArrowInvalid as exc:
        if fmt.encoding == "utf-8" and "UTF8" in str(exc):
            raise _NotUtf8() from None
        if "straddl" in str(exc):
            raise _BigRecord() from None
        raise InputFileError(f"the file cannot be read as CSV: {exc}") from None


class _BigRecord(Exception):
    """A record larger than a chunk (one huge cell): read again in larger chunks."""


def _unclosed_quote(path, fmt: FileFormat, batch: pa.RecordBatch) -> bool:
    """Whether the file ends inside the quoted last value of the batch's last row (a file cut short)."""
    if not batch.num_rows:
        return False
    value = batch.column(batch.num_columns - 1)[-1].as_py() or ""
    try:
        raw = ('"' + value.replace('"', '""')).encode(fmt.encoding)
    except UnicodeEncodeError:
        return False
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - len(raw) - 1))
        tail = handle.read()
    before = tail[: len(tail) - len(raw)]
    return tail.endswith(raw) and (not before or before in (fmt.delimiter.encode(), b"\n", b"\r"))


UNCLOSED_QUOTE = reason("unclosed_quote")


def _report_unclosed(batch, rows, headers, report, summary, lang):
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
    block_bytes: int = CHUNK_BYTES,
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
    block_bytes : int
        Size of the chunks read and scored at once.
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
        raise _output_error(exc, out_path) from None
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
        summary, counts, stored = _pass1_retrying(
            in_path, fmt, scorer, lang, progress, block_bytes, tmp_name, error_path, delimiter, results_path, chunk_pool
        )
        ranks = 1 + np.concatenate(([0], np.cumsum(counts[::-1])))[::-1][1:]
        results = result_columns(scorer.config_)
        encoding = _write_output(
            stored, out_path, fmt.headers, results, ranks, out_format, (encoding, delimiter), tmp_dir, chunk_pool
        )
        _encode_report(Path(error_path), encoding, tmp_dir)
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
    if encoding != output_format(fmt, out_encoding)[0]:
        summary.warnings.append(
            warning("encoding_fallback", lang, encoding=_ENCODING_NAMES.get(fmt.encoding, fmt.encoding))
        )
    summary.params = scorer.scoring_params() | {"lang": lang}
    summary.params.pop("config", None)
    summary.seconds = time.perf_counter() - start
    return summary


def output_format(fmt: FileFormat, out_encoding: str) -> tuple[str, str]:
    """The (encoding, delimiter) the output of a file sniffed as ``fmt`` is written in.

    Examples
    --------
    >>> output_format(FileFormat("cp1251", ";", ["name"]), "input")
    ('cp1251', ';')
    >>> output_format(FileFormat("cp1251", ";", ["name"]), "utf-8-sig")
    ('utf-8-sig', ',')
    """
    if out_encoding == "input":
        return ("utf-8-sig" if fmt.bom else fmt.encoding), fmt.delimiter
    return out_encoding, ","


_ENCODING_NAMES = {"cp1251": "Windows-1251", "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM"}


def _pass1_retrying(
    in_path,
    fmt,
    scorer,
    lang,
    progress,
    block_bytes,
    tmp_name,
    error_path,
    delimiter=",",
    results_path=None,
    chunk_pool=None,
):
    """Pass 1, read again unthreaded to number malformed rows, or as Windows-1251 if UTF-8 fails late,
    or in chunks 8x larger (up to the whole file) when a cell is larger than a chunk."""
    for encoding in dict.fromkeys((fmt.encoding, "cp1251")):
        fmt = FileFormat(encoding, fmt.delimiter, fmt.headers, fmt.bytes_per_row, fmt.header_only, fmt.bom)
        while True:
            args = (
                in_path,
                fmt,
                scorer,
                lang,
                progress,
                block_bytes,
                tmp_name,
                error_path,
                delimiter,
                results_path,
                chunk_pool,
            )
            try:
                try:  # Arrow parses faster with threads, but only numbers malformed rows without them.
                    return _pass1(*args, threads=True)
                except _Renumber:
                    return _pass1(*args, threads=False)
            except _NotUtf8:
                break
            except _BigRecord:
                if block_bytes > os.path.getsize(in_path):
                    raise InputFileError("the file cannot be read as CSV: a record does not end") from None
                block_bytes *= 8
    raise InputFileError("the file is neither UTF-8 nor Windows-1251 text")


def _pass1(
    in_path,
    fmt,
    scorer,
    lang,
    progress,
    block_bytes,
    tmp_name,
    error_path,
    delimiter,
    results_path,
    chunk_pool,
    threads,
):
    """Score every chunk into the temporary Arrow file; count scores per tenth for the ranks."""
    fields = header_map(fmt.headers)
    summary = Summary()
    numbers = _RowNumbers()
    counts = np.zeros(MAX_TENTHS + 2, dtype=np.int64)
    size = max(os.path.getsize(in_path), 1)
    writer = None
    report = _ErrorReport(error_path, fmt.headers, delimiter)  # a second attempt starts it afresh
    # The results file (if asked for): its writer is made when the first scored rows come.
    full = {"path": str(results_path), "writer": None} if results_path is not None else None
    headers = fmt.headers if full is not None else None
    if chunk_pool is not None:  # chunks scored in forked workers, each writing its part files
        writer = []
        chunk_pool.clear()  # a second attempt starts afresh
        submit, depth, pool = (
            (lambda batch, rows: chunk_pool.submit(_score_part, chunk_pool.part_name(), batch, rows)),
            chunk_pool.processes + 1,
            nullcontext(),
        )
    else:
        pool = ThreadPoolExecutor(WORKERS)
        submit, depth = (
            (lambda batch, rows: pool.submit(_score_chunk, scorer, batch, fields, rows, lang, headers)),
            WORKERS,
        )
    pending: deque = deque()
    try:
        with pool:
            for batch in _chunks(in_path, fmt, numbers, block_bytes, threads):
                rows = numbers.next(batch.num_rows)
                if numbers.unclosed:  # set on the last batch only
                    batch, rows = _report_unclosed(batch, rows, fmt.headers, report, summary, lang)
                if len(pending) >= depth:
                    writer = _collect(pending.popleft().result(), writer, tmp_name, counts, report, summary, full)
                pending.append(submit(batch, rows))
                if progress:
                    progress(min(size, int(numbers.done * fmt.bytes_per_row)))
            while pending:
                writer = _collect(pending.popleft().result(), writer, tmp_name, counts, report, summary, full)
        for number, (actual, expected), text in numbers.bad:
            report.add(number, "(row)", reason("row_fields", lang, actual=actual, expected=expected), [text])
            summary.errors += 1
        summary.rows = summary.scored + summary.errors
    finally:
        if chunk_pool is not None:  # on a failure: no worker still writing when the next attempt starts
            for future in pending:
                future.cancel()
            futures_wait(pending)
        if writer is not None and not isinstance(writer, list):
            writer.close()
        if full is not None:  # nothing scored: an empty file all the same
            (full["writer"] or ipc.new_file(full["path"], pa.schema([("record", pa.int64())]))).close()
        report.close()
    return summary, counts, writer if isinstance(writer, list) else [tmp_name] if writer is not None else []


def _collect(result, writer, tmp_name, counts, report, summary, full=None):
    """Take one scored chunk: its errors to the report, its rows to the temporary file (or, from a
    worker process, its part file to the list ``writer``), its scores to the counts."""
    if isinstance(writer, list):  # (part path, rows, scores, errors, results) of matcher.perf.ChunkPool
        path, n_rows, score, errors, results = result
        if path is not None:
            writer.append(path)
        table = None
    else:
        table, score, errors, results = result
        n_rows = table.num_rows
    if full is not None and results.num_rows:
        if full["writer"] is None:
            full["writer"] = ipc.new_file(full["path"], results.schema)
        full["writer"].write_table(results)
    for row, column, why, values in errors:
        report.add(row, column, why, values)
    summary.errors += len(errors)
    summary.scored += n_rows
    counts += np.bincount(np.clip(score, 0, MAX_TENTHS), minlength=len(counts))[: len(counts)]
    if table is not None and n_rows:
        if writer is None:
            writer = ipc.new_file(tmp_name, table.schema)
        writer.write_table(table)
    return writer


def _output_error(exc: OSError, out_path) -> OSError:
    """``exc`` as an OSError about ``out_path`` (pyarrow's carry no file name; a temporary file is ours)."""
    shown = str(out_path) if isinstance(out_path, Path) else getattr(out_path, "name", "the output")
    return OSError(exc.errno, os.strerror(exc.errno) if exc.errno else str(exc), shown)


def _stored_batches(files: list[str]) -> Iterator[pa.RecordBatch]:
    """The scored batches of pass 1's Arrow files, in order."""
    for name in files:
        with pa.OSFile(name) as handle:  # not mmap: pages would count as RSS
            source = ipc.open_file(handle)
            for i in range(source.num_record_batches):
                yield source.get_batch(i)


def _write_output(
    files, out_path, headers, results, ranks, out_format, csv_format=("utf-8", ","), tmp_dir=None, chunk_pool=None
) -> str:
    """Pass 2: add each row's rank and write the CSV or JSON in the input order; the encoding written.

    ``files``: pass 1's Arrow files (the temporary file, or the part files of worker processes,
    which then write their parts' CSV text too)."""
    header = _output_names(headers, results)
    schema = pa.schema([pa.field(h, pa.string()) for h in header])
    if chunk_pool is not None and out_format == "csv" and csv_format[0] in ("utf-8", "utf-8-sig"):
        _write_csv_parts(chunk_pool, files, schema, ranks, out_path, csv_format[1], bom=csv_format[0] == "utf-8-sig")
        return csv_format[0]
    batches = (_with_rank(batch, ranks, schema) for batch in _stored_batches(files))
    if out_format == "json":
        numeric = {n for n in results if n in ("score", "rank", "completeness") or n.startswith("c_")}
        _write_json(batches, out_path, numeric)
        return "utf-8"
    encoding, delimiter = csv_format
    if encoding not in ("utf-8", "utf-8-sig"):  # Arrow writes UTF-8: written beside, then re-encoded
        return _write_encoded(batches, schema, out_path, encoding, delimiter, tmp_dir)
    _write_csv(batches, schema, out_path, delimiter, bom=encoding == "utf-8-sig")
    return encoding


def _write_csv(batches, schema: pa.Schema, out_path, delimiter: str = ",", bom: bool = False) -> None:
    """The scored rows as UTF-8 CSV (a BOM first if asked) to a path or an open binary stream."""
    # Measured: faster than encoding chunks on threads, and than encoding each row's CSV text
    # in pass 1 (pass 1 is the busier one; bench_score 1M rows: +0.4 s).
    try:
        if isinstance(out_path, Path):
            sink = pa.OSFile(str(out_path), "w") if bom else out_path
        else:
            sink = pa.PythonFile(out_path, "w")
        if bom:
            sink.write(_BOM)
        writer = pcsv.CSVWriter(sink, schema, write_options=pcsv.WriteOptions(delimiter=delimiter))
    except OSError as exc:
        raise _output_error(exc, out_path) from None
    with writer:
        for batch in batches:
            writer.write_batch(batch)
    if bom and isinstance(out_path, Path):
        sink.close()


def _write_csv_parts(chunk_pool, files, schema: pa.Schema, ranks, out_path, delimiter: str, bom: bool) -> None:
    """:func:`_write_csv` with the worker processes writing each part's rows (no header), joined in order."""
    texts = [chunk_pool.submit(_csv_part, name, ranks, schema, delimiter) for name in files]
    head = pa.BufferOutputStream()
    pcsv.write_csv(schema.empty_table(), head, write_options=pcsv.WriteOptions(delimiter=delimiter))
    try:
        sink = open(out_path, "wb") if isinstance(out_path, Path) else nullcontext(out_path)  # noqa: SIM115
    except OSError as exc:
        raise _output_error(exc, out_path) from None
    try:
        with sink as out:
            out.write((_BOM if bom else b"") + head.getvalue().to_pybytes())
            for text in texts:
                append_file(out, text.result())
    except OSError as exc:
        raise _output_error(exc, out_path) from None


def _write_encoded(batches, schema, out_path, encoding: str, delimiter: str, tmp_dir) -> str:
    """The CSV in ``encoding`` (UTF-8 with BOM if it cannot hold every character); the encoding written."""
    fd, name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
    os.close(fd)
    try:
        _write_csv(batches, schema, Path(name), delimiter)
        return _transcode(Path(name), out_path, encoding)
    finally:
        Path(name).unlink(missing_ok=True)


def _transcode(source: Path, out_path, encoding: str) -> str:
    """Copy the UTF-8 file ``source`` to ``out_path`` in ``encoding``, else as UTF-8 with BOM; which one."""
    if not _encodable(source, encoding):
        encoding = "utf-8-sig"
    with open(out_path, "wb") if isinstance(out_path, Path) else nullcontext(out_path) as sink:
        if encoding == "utf-8-sig":
            sink.write(_BOM)
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(source, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sink.write(chunk if encoding == "utf-8-sig" else decoder.decode(chunk).encode(encoding))
    return encoding


def _encodable(source: Path, encoding: str) -> bool:
    """Whether every character of the UTF-8 file ``source`` has a place in ``encoding``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(source, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk).encode(encoding)
            except UnicodeEncodeError:
                return False
    return True


def _encode_report(path: Path, encoding: str, tmp_dir) -> None:
    """Write the error report (UTF-8 so far) in the encoding the output got."""
    if encoding == "utf-8" or not path.exists():
        return
    fd, name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir if tmp_dir is not None else path.parent)
    os.close(fd)
    try:
        os.replace(path, name)
        _transcode(Path(name), path, encoding)
    finally:
        Path(name).unlink(missing_ok=True)


def _output_names(headers: list[str], results: list[str]) -> list[str]:
    """Input headers (defused; one named like a result column gets ``_input``), then the results.

    Every name is unique (a repeated one gets ``_2``, ``_3``…) so JSON keys lose nothing.
    """
    names, seen = [], set(results)
    for header in headers:
        name = defuse_cell(f"{header}_input" if header.strip().casefold() in results else header)
        base, n = name, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return [*names, *results]


def _with_rank(batch: pa.RecordBatch, ranks: np.ndarray, schema: pa.Schema) -> pa.RecordBatch:
    score10 = batch.column(batch.schema.get_field_index("__score10")).to_numpy()
    rank = pa.array(ranks[np.clip(score10, 0, MAX_TENTHS)]).cast(pa.string())
    columns = [c for n, c in zip(batch.schema.names, batch.columns, strict=False) if n != "__score10"]
    n_in = sum(1 for n in batch.schema.names if n.startswith("in"))
    columns.insert(n_in + 1, rank)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _write_json(batches, out_path: Path, numeric: set[str]) -> None:
    """A JSON array of row objects; scores, points, rank and completeness as numbers."""
    with _text_output(out_path) as handle:
        handle.write("[")
        first = True
        for batch in batches:
            for row in batch.to_pylist():
                for key in numeric:
                    row[key] = int(row[key]) if key == "rank" else float(row[key])
                handle.write(("\n" if first else ",\n") + json.dumps(row, ensure_ascii=False))
                first = False
        handle.write("\n]\n")


@contextmanager
def _text_output(out_path) -> Iterator[io.TextIOBase]:
    """The output as UTF-8 text: a file opened at ``out_path``, or a binary stream left open afterwards."""
    if isinstance(out_path, Path):
        with open(out_path, "w", encoding="utf-8") as handle:
            yield handle
        return
    handle = io.TextIOWrapper(out_path, encoding="utf-8", newline="")
    try:
        yield handle
        handle.flush()
    finally:
        handle.detach()
