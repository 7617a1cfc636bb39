"""Reading a CSV file of profiles in chunks (Arrow), with the spreadsheet row number of every row.

:func:`chunks` yields record batches of text columns ``f0``, ``f1``...; :class:`RowNumbers`
numbers their rows around the malformed and blank lines Arrow skipped. A read that cannot go on
as started raises what the caller retries with (:mod:`matcher.batch`): :class:`Renumber` (read
again without threads to number a malformed row), :class:`NotUtf8` (read again in the single-byte
encoding the file's first bytes outside UTF-8 read best in) or :class:`BigRecord` (read again in larger chunks).
"""

from __future__ import annotations

import codecs
import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from ..errors import InputFileError
from .formats import FileFormat, encode_errors, inner_encoding, legacy_encoding, lenient, mostly_utf8

T = TypeVar("T")


class RowNumbers:
    """Spreadsheet row numbers (header = 1) of the rows Arrow parsed, around skipped bad rows."""

    def __init__(self) -> None:
        self.bad: list[tuple[int, str, str]] = []  # (row number, reason, text)
        self.blank: list[int] = []  # blank lines: no firm, no error, but a row a spreadsheet counts
        self.unnumbered = False
        self.unclosed = False  # the file ends inside a quoted value of its last row
        self.done = 0
        self.skip = 0  # lines before the header (Excel's "sep=" line), which Arrow counts and a spreadsheet hides

    def handler(self, row: pcsv.InvalidRow) -> str:
        number = row.number - self.skip if row.number is not None else -1
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
    path: str | Path, fmt: FileFormat, numbers: RowNumbers, block: int, threads: bool
) -> pcsv.CSVStreamingReader:
    names = [f"f{i}" for i in range(len(fmt.headers))]
    numbers.skip = fmt.skip_lines
    return pcsv.open_csv(
        path,
        # skip_rows_after_names skips the header as a record (a quoted line break in it included), skip_rows a line
        read_options=pcsv.ReadOptions(
            column_names=names,
            skip_rows=fmt.skip_lines,
            skip_rows_after_names=1,
            block_size=block,
            use_threads=threads,
            encoding=lenient(fmt.encoding, fmt.repair),
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


class Renumber(Exception):
    """A malformed row met while parsing with threads, which cannot number it: read again."""


class NotUtf8(Exception):
    """Bytes that are not UTF-8 after a first megabyte that was: read again in a single-byte encoding
    (:func:`legacy_encoding_of`)."""


def chunks(path, fmt, numbers, block, threads) -> Iterator[pa.RecordBatch]:
    if fmt.header_only:
        return
    try:
        previous = None  # one batch held back, to check the last one for a file cut short in a quote
        for batch in _reader(path, fmt, numbers, block, threads):
            if threads and numbers.unnumbered:
                raise Renumber()
            if previous is not None:
                yield previous
            previous = batch
        if threads and numbers.unnumbered:  # bad rows in a block of no good one (a file of bad rows only)
            raise Renumber()
        if previous is not None:
            numbers.unclosed = _unclosed_quote(path, fmt, previous)
            yield previous
    except pa.ArrowInvalid as exc:
        if fmt.encoding == "utf-8" and not fmt.repair and "UTF8" in str(exc):
            raise NotUtf8() from None
        if "straddl" in str(exc):
            raise BigRecord() from None
        raise InputFileError(f"the file cannot be read as CSV: {exc}") from None


class BigRecord(Exception):
    """A record larger than a chunk (one huge cell): read again in larger chunks."""


def _unclosed_quote(path, fmt: FileFormat, batch: pa.RecordBatch) -> bool:
    """Whether the file ends inside the quoted last value of the batch's last row (a file cut short)."""
    if not batch.num_rows:
        return False
    value = batch.column(batch.num_columns - 1)[-1].as_py() or ""
    with open(path, "rb") as handle:
        encoding = inner_encoding(fmt.encoding, handle.read(4))
        try:  # the value as the file holds it (Windows-1258: its tones apart)
            raw = ('"' + value.replace('"', '""')).encode(encoding, encode_errors(encoding))
        except UnicodeEncodeError:
            return False
        marks = tuple(mark.encode(encoding) for mark in (fmt.delimiter, "\n", "\r"))
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - len(raw) - len(marks[1])))
        tail = handle.read()
    before = tail[: len(tail) - len(raw)]
    return tail.endswith(raw) and (not before or before in marks)


def with_retries(read: Callable[[FileFormat, int, bool], T], path, fmt: FileFormat, block: int) -> T:
    """``read(fmt, block, threads)``, the whole read done again as it must be: without threads to number
    a malformed row (:class:`Renumber`), in a single-byte encoding when UTF-8 fails after the sniffed
    megabyte (:class:`NotUtf8`, :func:`legacy_encoding_of`), or in chunks 8x larger (up to the whole
    file) when a record is larger than a chunk (:class:`BigRecord`).

    Raises
    ------
    InputFileError
        When a record never ends.
    """
    for retry in (False, True):
        if retry:
            encoding, repair = legacy_encoding_of(path)
            fmt = dataclasses.replace(fmt, encoding=encoding, repair=repair)
        while True:
            try:
                try:  # Arrow parses faster with threads, but only numbers malformed rows without them.
                    return read(fmt, block, True)
                except Renumber:
                    return read(fmt, block, False)
            except NotUtf8:
                break
            except BigRecord:
                if block > os.path.getsize(path):
                    raise InputFileError("the file cannot be read as CSV: a record does not end") from None
                block *= 8
    raise InputFileError("the file is neither UTF-8 nor text in a single-byte encoding")


def legacy_encoding_of(path) -> tuple[str, bool]:
    """How to read a file whose first megabyte was UTF-8 but not the rest: ``("utf-8", True)`` (UTF-8 with its
    stray bytes read as U+FFFD) when the file is :func:`~matcher.io.formats.mostly_utf8` from its start to a
    megabyte past its first byte that is not UTF-8, else the :func:`~matcher.io.formats.legacy_encoding` of
    the bytes from there (Cyrillic that starts after an ASCII first megabyte)."""
    with open(path, "rb") as handle:
        head = b""
        decoder = codecs.getincrementaldecoder("utf-8")()
        for block in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                rest = block[exc.start :] + handle.read(1 << 20)
                if mostly_utf8(head + block[: exc.start] + rest):
                    return "utf-8", True
                return legacy_encoding(rest), False
            head = block if not block.isascii() else head  # the last block with letters outside ASCII
    return "utf-8", True
