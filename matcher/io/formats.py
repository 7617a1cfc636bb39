"""What a CSV file of profiles is written in, and what the scored file is written in.

:func:`sniff` finds the encoding (UTF-8, UTF-8 with a BOM, UTF-16/32 with a BOM, or for other files the
single-byte encoding of :data:`LEGACY` whose reading makes the most plausible words), the delimiter
and the header of an input file and refuses one that cannot be a file of firm profiles;
:func:`output_format` says which encoding and delimiter the output gets.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputFileError
from ..profile import field_for

_LINE_END = re.compile(r"\r\n|\r|\n")
#: Excel's first line naming the delimiter (``sep=;``): Excel hides it, and so does the reading.
_SEP_LINE = re.compile(r'"?sep=([^\r\n"]*)"?[ \t]*(?:\r\n|\r|\n)', re.IGNORECASE)


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
    #: Lines before the header: 1 for Excel's ``sep=;`` line, which names the delimiter.
    skip_lines: int = 0
    #: UTF-8 with a few bytes that are not (a row pasted from elsewhere, a file cut mid-letter): each such
    #: byte reads as U+FFFD, rather than the whole file in a single-byte encoding.
    repair: bool = False


#: What ``score_file(out_encoding=...)`` accepts: plain UTF-8 (the default), UTF-8 with a BOM (what
#: Excel needs to read UTF-8), or the input's own encoding and delimiter (Windows-1251 with ``;`` in,
#: the same out).
OUTPUT_ENCODINGS = ("utf-8", "utf-8-sig", "input")


BOM = b"\xef\xbb\xbf"
#: Byte-order marks of the wide Unicode encodings, the codec that reads a file that starts with each, and
#: the one that writes text inside it, without a mark (UTF-32 first: its little-endian mark starts like
#: UTF-16's).
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32-be"),
    (b"\xff\xfe", "utf-16", "utf-16-le"),
    (b"\xfe\xff", "utf-16", "utf-16-be"),
)


def inner_encoding(encoding: str, start: bytes) -> str:
    """How a file in ``encoding`` that starts with the bytes ``start`` writes text after its start: UTF-16 and
    UTF-32 in the byte order of their mark, and without one; any other encoding as it is."""
    return next((inner for bom, wide, inner in WIDE_BOMS if wide == encoding and start.startswith(bom)), encoding)


#: The single-byte encodings of a file that is not UTF-8, in the order that settles a tie: Windows-1251
#: (Russian Windows and Excel), KOI8-R (older Russian Unix systems), Windows-1252 (Western Windows, a
#: superset of Latin-1's letters) and Windows-1258 (Vietnamese Windows, whose Excel saves "CSV" in it).
LEGACY = ("cp1251", "koi8_r", "cp1252", "cp1258")
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
#: How much of a file's non-UTF-8 part :func:`legacy_encoding` reads.
LEGACY_SAMPLE = 1 << 16
#: A word: letters, with the accents Unicode cannot join to one (which make it implausible).
_WORD = re.compile("(?:[^\\W\\d_]|[\u0300-\u036f])+")
_LOOSE_ACCENT = re.compile("[\u0300-\u036f]")
#: The five Vietnamese tones as combining accents (grave, acute, tilde, hook above, dot below).
TONES = "\u0300\u0301\u0303\u0309\u0323"


#: A Vietnamese vowel followed by a tone written as a separate accent (Windows-1258's way).
_TONED = re.compile(f"[aăâeêioôơuưyAĂÂEÊIOÔƠUƯY][{TONES}]")
_NON_ASCII_RUN = re.compile("[^\x00-\x7f]{4}")
#: Letters no profile's language writes (Icelandic): how Windows-1252 reads Vietnamese bytes.
_FOREIGN = frozenset("ðÐþÞ")


def _plausible(word: str) -> bool:
    """Whether a word with a letter outside ASCII reads like a word: one script, cased as words are
    (``word``, ``Word``, ``WORD``), and, in Latin script, no accent left apart from its letter and at most
    three accented letters in a row (Vietnamese
    "được" has three; Russian read as Windows-1252 gives whole words of them, "Ïðèâåò")."""
    cyrillic = sum("\u0400" <= c <= "\u04ff" for c in word)
    if cyrillic:
        if cyrillic != len(word):
            return False
    elif _NON_ASCII_RUN.search(word) or _LOOSE_ACCENT.search(word) or not _FOREIGN.isdisjoint(word):
        return False
    return word.islower() or word.isupper() or word[1:].islower()


def _plausibility(text: str) -> int:
    """Plausible less implausible words among those with a letter outside ASCII (:func:`_plausible`), plus
    the Vietnamese tones written as an accent after a vowel: Windows-1258 writes most tones so, and only
    its reading has them (Windows-1252 reads "Việt" as a plausible "Viêòt")."""
    words = [w for w in _WORD.findall(unicodedata.normalize("NFC", text)) if not w.isascii()]
    return sum(1 if _plausible(w) else -1 for w in words) + len(_TONED.findall(text))


def legacy_encodings(raw: bytes) -> list[str]:
    """The encodings of :data:`LEGACY`, the one whose reading of ``raw`` makes the most plausible words first
    (ties in :data:`LEGACY`'s order): :func:`legacy_encoding` and the others to try after it."""
    high = _HIGH_BYTE.search(raw)
    start = high.start() if high else 0
    sample = raw[max(0, start - 64) : start + LEGACY_SAMPLE]
    scores = {e: _plausibility(sample.decode(e, errors="replace")) for e in LEGACY}
    return sorted(LEGACY, key=lambda e: -scores[e])  # a stable sort keeps LEGACY's order among equals


def legacy_encoding(raw: bytes) -> str:
    """The encoding of :data:`LEGACY` in which ``raw`` (bytes that are not UTF-8) reads as the most plausible
    words, the first of them on a tie (Windows-1251 when nothing tells them apart).

    Read wrongly, Russian KOI8-R bytes give words like "рТЙЧЕФ" in Windows-1251, Windows-1251 bytes give
    "Ïðèâåò" in Windows-1252, and a Western "Café" gives "Cafй": the right reading has the most words
    in one script and cased as words are.

    Examples
    --------
    >>> legacy_encoding("Привет, Москва".encode("koi8_r"))
    'koi8_r'
    >>> legacy_encoding("Привет, Москва".encode("cp1251"))
    'cp1251'
    >>> legacy_encoding("Café Müller, Zürich".encode("cp1252"))
    'cp1252'
    """
    return legacy_encodings(raw)[0]


def mostly_utf8(raw: bytes) -> bool:
    """Whether ``raw``, which is not all valid UTF-8, is UTF-8 with a few stray bytes: more letters that UTF-8
    reads than bytes it cannot. A single-byte encoding's letters outside ASCII almost never form UTF-8
    sequences (Windows-1251's "Привет" is six bytes UTF-8 refuses), so its text has none."""
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    read = len(text) - len(text.encode("ascii", errors="ignore")) - bad
    return read > bad


def _tone_apart(exc: UnicodeError) -> tuple[str, int]:
    """Error handler ``matcher_tones`` for writing Windows-1258: a toned letter the code page has no place for
    ("ộ") is written as the letter without its tone ("ô", which it has) and the tone as the accent after it,
    as Vietnamese Windows writes it and as :func:`lenient` reads it back."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for char in exc.object[exc.start : exc.end]:
        parts = unicodedata.normalize("NFD", char)
        tone = next((c for c in parts if c in TONES), None)
        if tone is None:
            raise exc
        out.append(unicodedata.normalize("NFC", parts.replace(tone, "", 1)) + tone)
    return "".join(out), exc.end


codecs.register_error("matcher_tones", _tone_apart)


def encode_errors(encoding: str) -> str:
    """The ``errors`` to write text in ``encoding`` with: Windows-1258's tones apart, else strict."""
    return "matcher_tones" if codecs.lookup(encoding).name == "cp1258" else "strict"


def lenient(encoding: str, repair: bool = False) -> str:
    """The name of a codec that reads ``encoding`` with a replacement character for a byte it does not map
    (0x98 in Windows-1251), for Arrow, whose decoder would otherwise stop the whole file there.

    UTF-8 stays Arrow's own (faster, and it says where a byte is not UTF-8), but with ``repair``
    (:attr:`FileFormat.repair`)."""
    name = codecs.lookup(encoding).name
    if name == "utf-8" and not repair:
        return encoding
    return f"matcher_lenient_{name.replace('-', '_')}"


def _lenient_codec(name: str) -> codecs.CodecInfo | None:
    """The codecs :func:`lenient` names: the standard one, decoding with ``errors="replace"``; Windows-1258's
    also joins each tone accent to its letter (NFC), as the same text typed in UTF-8 has it."""
    if not name.startswith("matcher_lenient_"):
        return None
    base = codecs.lookup(name.removeprefix("matcher_lenient_"))
    composes = base.name == "cp1258"

    class Decoder(base.incrementaldecoder):  # type: ignore[name-defined, misc]
        def __init__(self, errors: str = "replace") -> None:
            super().__init__(errors)
            self.held = ""  # the end of a chunk: the next may start with an accent of its last letter

        def decode(self, data: bytes, final: bool = False) -> str:
            text = super().decode(data, final)
            if not composes:
                return text
            text, self.held = self.held + text, ""
            if not final:  # held back: the last letter and its accents so far, which more accents may join
                cut = next((i for i in range(len(text) - 1, -1, -1) if not unicodedata.combining(text[i])), 0)
                text, self.held = text[:cut], text[cut:]
            return unicodedata.normalize("NFC", text)

        def reset(self) -> None:
            super().reset()
            self.held = ""

    def decode(data: bytes, errors: str = "replace") -> tuple[str, int]:
        text, size = base.decode(data, errors)
        return (unicodedata.normalize("NFC", text) if composes else text), size

    return codecs.CodecInfo(base.encode, decode, incrementaldecoder=Decoder, name=name)


codecs.register(_lenient_codec)


def sniff(path: str | Path) -> FileFormat:
    """Find the encoding (UTF-8, UTF-8 with BOM, UTF-16 or UTF-32 with BOM, else one of :data:`LEGACY`), the
    delimiter and the header.

    Raises
    ------
    InputFileError
        For an empty or binary file, or one without a ``name`` column.
    """
    with open(path, "rb") as handle:
        raw = handle.read(SAMPLE_BYTES)
    wide = next((encoding for bom, encoding, _ in WIDE_BOMS if raw.startswith(bom)), None)
    repair = False
    if wide is not None:  # Excel's "Unicode text": UTF-16 (or UTF-32) with its BOM, NUL bytes and all
        candidates = [wide]
    else:
        if b"\x00" in raw:
            raise InputFileError("this is a binary file, not a CSV text file (it contains NUL bytes)")
        candidates = ["utf-8"]
        try:
            codecs.getincrementaldecoder("utf-8")().decode(raw, final=len(raw) < SAMPLE_BYTES)
        except UnicodeDecodeError:
            repair = raw.startswith(BOM) or mostly_utf8(raw)  # a BOM says UTF-8 whatever follows
            # Single-byte readings, likeliest first; the first whose header has a name column wins (KOI8-R
            # capitals are Windows-1251 small letters: a header in capitals alone scores both alike).
            candidates = ["utf-8"] if repair else legacy_encodings(raw)
    refused = None
    for encoding in candidates:
        try:
            delimiter, headers, records, skip, text = _header(
                raw.decode(lenient(encoding, repair), errors="replace"), len(raw) == SAMPLE_BYTES
            )
            break
        except InputFileError as exc:
            refused = refused or exc
    else:
        raise refused  # the likeliest reading's reason
    # The whole file is its header: Arrow, told to skip the header, would wait for its end.
    header_only = len(raw) < SAMPLE_BYTES and next(records, None) is None
    lines = text.count("\n") or text.count("\r")
    bom = raw.startswith(BOM) or wide is not None  # output "as the input" is then UTF-8 with BOM
    return FileFormat(encoding, delimiter, headers, len(raw) / max(lines, 1), header_only, bom, skip, repair)


#: A delimiter a ``sep=`` line may name: one ASCII character that is no letter, digit, quote or space.
#: Why a file with nothing but blank space (after a ``sep=`` line, if any) cannot be scored.
EMPTY = "the file is empty: a header row with at least a 'name' column is needed"
_DELIMITERS = frozenset(",;\t|:!#$%&'*+-./<=>?@\\^_`~()[]{}")


def _header(text: str, cut: bool):
    """The delimiter, header, record reader (past the header), lines skipped and text of a file's decoded
    first megabyte (``cut``: the file goes on past it); raises :class:`InputFileError` for a file that has
    no usable header."""
    text = text.lstrip("\ufeff")
    if not text.strip(" \r\n\t"):
        raise InputFileError(EMPTY)
    if cut and "\n" not in text and "\r" not in text:
        raise InputFileError("the header row is longer than 1 MiB: this is not a CSV file of firm profiles")
    sep = _SEP_LINE.match(text)
    if sep is not None:
        if sep.group(1) not in _DELIMITERS:
            raise InputFileError(
                f"the first line {sep.group(0).strip()!r} names no delimiter: Excel's line is 'sep=' and one "
                "character such as ; or , (a tab, | or another ASCII sign also does)"
            )
        text = text[sep.end() :]
        if not text.strip(" \r\n\t"):
            raise InputFileError(EMPTY)
    first = _LINE_END.split(text, 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    if sep is not None:
        delimiter = sep.group(1)
    # newline="": records end at CR, LF or CR LF alike (old Mac files end lines with CR alone)
    records = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(records, [])
    check_headers(headers)
    return delimiter, headers, records, (0 if sep is None else 1), text


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
    "koi8_r": "KOI8-R",
    "cp1252": "Windows-1252",
    "cp1258": "Windows-1258",
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
}
#: The ``charset`` of a file written in each encoding, as HTTP names it.
CHARSETS = {"cp1251": "windows-1251", "koi8_r": "koi8-r", "cp1252": "windows-1252", "cp1258": "windows-1258"}
