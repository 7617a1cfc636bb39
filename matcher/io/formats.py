"""What a CSV file of profiles is written in, and what the scored file is written in.

:func:`sniff` finds the encoding (UTF-8, UTF-8 with a BOM, Windows-1251), the delimiter and
the header of an input file and refuses one that cannot be a file of firm profiles;
:func:`output_format` says which encoding and delimiter the output gets.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError
from ..profile import field_for

_LINE_END = re.compile(r"\r\n|\r|\n")


SAMPLE_BYTES = 1 << 20


MAX_COLUMNS = 16_384


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


BOM = b"\xef\xbb\xbf"
#: Byte-order marks of the wide Unicode encodings and the codec that reads each (UTF-32 first: its
#: little-endian mark starts like UTF-16's).
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def sniff(path: str | Path) -> FileFormat:
    """Find the encoding (UTF-8, UTF-8 with BOM, Windows-1251, UTF-16 or UTF-32 with BOM), the delimiter and
    the header.

    Raises
    ------
    InputFileError
        For an empty or binary file, or one without a ``name`` column.
    """
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    wide = next((encoding for bom, encoding in WIDE_BOMS if raw.startswith(bom)), None)
    if wide is not None:  # Excel's "Unicode text": UTF-16 (or UTF-32) with its BOM, NUL bytes and all
        encoding = wide
        text = codecs.getincrementaldecoder(wide)(errors="replace").decode(raw).lstrip("\ufeff")
    else:
        if b"\x00" in raw:
            raise InputFileError("this is a binary file, not a CSV text file (it contains NUL bytes)")
        encoding = "utf-8"
        try:
            codecs.getincrementaldecoder("utf-8")().decode(raw, final=len(raw) < SAMPLE_BYTES)
        except UnicodeDecodeError:
            encoding = "cp1251"
        text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text.strip(" \r\n\t"):
        raise InputFileError("the file is empty: a header row with at least a 'name' column is needed")
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
    bom = raw.startswith(BOM) or wide is not None  # output "as the input" is then UTF-8 with BOM
    return FileFormat(encoding, delimiter, headers, len(raw) / max(lines, 1), header_only, bom)


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


ENCODING_NAMES = {
    "cp1251": "Windows-1251",
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
}
