"""Writing what a scoring run produced: the error report, and pass 2's CSV or JSON output.

Pass 1 (:mod:`matcher.batch`) leaves the scored rows in Arrow IPC files with each row's score
in tenths (``__score10``); :func:`write_output` streams them back with each row's rank, as CSV
(UTF-8, UTF-8 with a BOM, or the input's encoding and delimiter) or as a JSON array. Rows that
cannot be scored go to the :class:`ErrorReport`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc

from ..perf import append_file, worker_turns, write_at
from .defuse import defuse_cell
from .formats import BOM, encode_errors

MAX_TENTHS = 1000


class ErrorReport:
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


def csv_part(name: str, ranks: np.ndarray, schema: pa.Schema, delimiter: str, into: tuple[str, int] | None = None):
    """In a worker process: the CSV text (no header) of one part file's rows with their ranks.

    Written to a file beside the part, whose path is returned; or, with ``into`` (the output's path and
    the part's number), straight into the output at the part's place (:class:`~matcher.perf.Turns`).
    """
    if into is None:
        out = name.removesuffix(".arrow") + ".csv"
        with pa.OSFile(out, "w") as sink:
            _write_rows(sink, _ranked(name, ranks, schema), schema, delimiter)
        return out
    path, number = into
    turns = worker_turns()
    try:
        text = _part_text(_ranked(name, ranks, schema), schema, delimiter)
    except BaseException:
        turns.place(number, 0)  # the later parts still take their places; the parent reports the error
        raise
    write_at(path, turns.place(number, len(text)), text)
    return None


def _ranked(name: str, ranks: np.ndarray, schema: pa.Schema) -> list[pa.RecordBatch]:
    """The rows of the part file ``name`` with their ranks; the file is removed (each part is read once:
    freed now, on this worker, rather than all together at the end)."""
    batches = [_with_rank(batch, ranks, schema) for batch in stored_batches([name])]
    os.unlink(name)
    return batches


def _write_rows(sink, batches: list[pa.RecordBatch], schema: pa.Schema, delimiter: str) -> None:
    options = pcsv.WriteOptions(include_header=False, delimiter=delimiter)
    with pcsv.CSVWriter(sink, schema, write_options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)


# A worker's buffer for one part's CSV text, kept for the next part: a new one for each part costs more
# in fresh pages and copies as it grows than the text costs to write (1M rows: 0.7 s of CPU).
_TEXT = bytearray()


def _part_text(batches: list[pa.RecordBatch], schema: pa.Schema, delimiter: str) -> memoryview:
    """The CSV text of ``batches``, in the worker's buffer (valid until its next call)."""
    global _TEXT
    # At most: every cell quoted with each character a doubled quote, then a delimiter or line end.
    bound = sum(2 * batch.nbytes + 3 * batch.num_rows * batch.num_columns for batch in batches)
    if len(_TEXT) < bound:
        _TEXT = bytearray(bound)
    sink = pa.FixedSizeBufferWriter(pa.py_buffer(_TEXT))
    _write_rows(sink, batches, schema, delimiter)
    return memoryview(_TEXT)[: sink.tell()]


def output_error(exc: OSError, out_path) -> OSError:
    """``exc`` as an OSError about ``out_path`` (pyarrow's carry no file name; a temporary file is ours)."""
    shown = str(out_path) if isinstance(out_path, Path) else getattr(out_path, "name", "the output")
    return OSError(exc.errno, os.strerror(exc.errno) if exc.errno else str(exc), shown)


def stored_batches(files: list[str]) -> Iterator[pa.RecordBatch]:
    """The scored batches of pass 1's Arrow files, in order."""
    for name in files:
        with pa.OSFile(name) as handle:  # not mmap: pages would count as RSS
            source = ipc.open_file(handle)
            for i in range(source.num_record_batches):
                yield source.get_batch(i)


def write_output(
    files, out_path, headers, results, ranks, out_format, csv_format=("utf-8", ","), tmp_dir=None, chunk_pool=None
) -> str:
    """Pass 2: add each row's rank and write the CSV or JSON in the input order; the encoding written.

    ``files``: pass 1's Arrow files (the temporary file, or the part files of worker processes,
    which then write their parts' CSV text too)."""
    header = output_names(headers, results)
    schema = pa.schema([pa.field(h, pa.string()) for h in header])
    if chunk_pool is not None and out_format == "csv" and csv_format[0] in ("utf-8", "utf-8-sig"):
        _write_csv_parts(chunk_pool, files, schema, ranks, out_path, csv_format[1], bom=csv_format[0] == "utf-8-sig")
        return csv_format[0]
    batches = (_with_rank(batch, ranks, schema) for batch in stored_batches(files))
    if out_format == "json":
        numeric = {n for n in results if n in ("score", "rank", "completeness") or n.startswith("c_")}
        _write_json(batches, out_path, numeric)
        return "utf-8"
    encoding, delimiter = csv_format
    if encoding not in ("utf-8", "utf-8-sig"):  # Arrow writes UTF-8: written beside, then re-encoded
        return _write_encoded(batches, schema, out_path, encoding, delimiter, tmp_dir)
    write_csv(batches, schema, out_path, delimiter, bom=encoding == "utf-8-sig")
    return encoding


def write_csv(batches, schema: pa.Schema, out_path, delimiter: str = ",", bom: bool = False) -> None:
    """The scored rows as UTF-8 CSV (a BOM first if asked) to a path or an open binary stream."""
    # Measured: faster than encoding chunks on threads, and than encoding each row's CSV text
    # in pass 1 (pass 1 is the busier one; bench_score 1M rows: +0.4 s).
    try:
        if isinstance(out_path, Path):
            sink = pa.OSFile(str(out_path), "w") if bom else out_path
        else:
            sink = pa.PythonFile(out_path, "w")
        if bom:
            sink.write(BOM)
        writer = pcsv.CSVWriter(sink, schema, write_options=pcsv.WriteOptions(delimiter=delimiter))
    except OSError as exc:
        raise output_error(exc, out_path) from None
    with writer:
        for batch in batches:
            writer.write_batch(batch)
    if bom and isinstance(out_path, Path):
        sink.close()


def _write_csv_parts(chunk_pool, files, schema: pa.Schema, ranks, out_path, delimiter: str, bom: bool) -> None:
    """:func:`write_csv` with the worker processes writing each part's rows (no header) in order: straight
    into an output file, else (a pipe, standard output) into files of their own that are then joined."""
    head = pa.BufferOutputStream()
    pcsv.write_csv(schema.empty_table(), head, write_options=pcsv.WriteOptions(delimiter=delimiter))
    try:
        sink = open(out_path, "wb") if isinstance(out_path, Path) else nullcontext(out_path)  # noqa: SIM115
    except OSError as exc:
        raise output_error(exc, out_path) from None
    try:
        with sink as out:
            out.write((BOM if bom else b"") + head.getvalue().to_pybytes())
            out.flush()
            if isinstance(out_path, Path) and stat.S_ISREG(os.fstat(out.fileno()).st_mode):
                chunk_pool.turns.start(out.tell())
                into = os.path.abspath(out_path)  # the workers open it by name
                parts = [
                    chunk_pool.submit(csv_part, name, ranks, schema, delimiter, (into, i))
                    for i, name in enumerate(files)
                ]
                for part in parts:
                    part.result()
                return
            texts = [chunk_pool.submit(csv_part, name, ranks, schema, delimiter) for name in files]
            for text in texts:
                part = text.result()
                append_file(out, part)
                os.unlink(part)
    except OSError as exc:
        raise output_error(exc, out_path) from None


def _write_encoded(batches, schema, out_path, encoding: str, delimiter: str, tmp_dir) -> str:
    """The CSV in ``encoding`` (UTF-8 with BOM if it cannot hold every character); the encoding written."""
    fd, name = tempfile.mkstemp(suffix=".csv", dir=tmp_dir)
    os.close(fd)
    try:
        write_csv(batches, schema, Path(name), delimiter)
        return _transcode(Path(name), out_path, encoding)
    finally:
        Path(name).unlink(missing_ok=True)


def _transcode(source: Path, out_path, encoding: str) -> str:
    """Copy the UTF-8 file ``source`` to ``out_path`` in ``encoding``, else as UTF-8 with BOM; which one."""
    if not _encodable(source, encoding):
        encoding = "utf-8-sig"
    errors = "strict" if encoding == "utf-8-sig" else encode_errors(encoding)
    with open(out_path, "wb") if isinstance(out_path, Path) else nullcontext(out_path) as sink:
        if encoding == "utf-8-sig":
            sink.write(BOM)
        decoder = codecs.getincrementaldecoder("utf-8")()
        with open(source, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sink.write(chunk if encoding == "utf-8-sig" else decoder.decode(chunk).encode(encoding, errors))
    return encoding


def _encodable(source: Path, encoding: str) -> bool:
    """Whether every character of the UTF-8 file ``source`` has a place in ``encoding``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(source, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk).encode(encoding, encode_errors(encoding))
            except UnicodeEncodeError:
                return False
    return True


def encode_report(path: Path, encoding: str, tmp_dir) -> None:
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


def output_names(headers: list[str], results: list[str]) -> list[str]:
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
