"""The official activity classifications shipped with the package, each class labelled with a sector.

Three classifications give labelled training text in the three languages (see
``matcher/data/classifications/SOURCES.md``; ``tools/build_classification_corpus.py`` writes
the files):

- OKVED 2 (Russian titles) and NACE Rev. 2 (English titles with Eurostat's "includes" notes)
  share their codes down to the class, so a code gets its sector exactly as a firm's OKVED code
  does: :meth:`matcher.sectors.SectorDetector.code_sector`, the longest prefix ``sectors.yaml``
  lists.
- VSIC 2007 (Vietnamese titles) follows ISIC Rev. 4, which NACE Rev. 2 refines. A VSIC class
  (four digits) is an ISIC class; it takes the sector of the NACE classes whose "Reference to
  ISIC Rev. 4" is that class, when they all agree (ISIC 2813 is NACE 28.13 and 28.14: both
  manufacturing, so 2813 is manufacturing). When they disagree the class is left unlabelled.
  The few VSIC classes that ISIC does not have (VSIC splits ISIC 4510 into 4511-4513) use the
  ISIC group, then the division, on the same rule.
  VSIC subclasses (five digits) take their class's sector. VSIC codes are never read as NACE
  codes digit by digit: SOURCES.md says only the first two digits agree for nearly all
  divisions.

A code whose own prefix maps to no sector (a division such as ``26``, split between electronics
and precision engineering) takes the one sector all the codes below it map to; when they map to
several, it is left unlabelled (``sector`` is ``None``). A code with no listed prefix above or
below it is ``other``: a firm with only that code falls outside every priority sector.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .classfiles import SYSTEMS, read_classification  # noqa: F401 -- read_classification is public here too
from .config import Config, load_sectors

if TYPE_CHECKING:
    from .sectors import SectorDetector

#: How a row got its sector (the ``via`` field of :class:`ClassRow`).
VIA_CODE, VIA_BELOW, VIA_ISIC, VIA_NONE = "code", "below", "isic", "none"


@dataclass(frozen=True)
class ClassRow:
    """One class of a classification, with the sector its code maps to.

    ``sector`` is a sector id, or ``None`` when the codes below disagree; ``via`` says how the
    sector was found (``code``: its own prefix; ``below``: the codes under it; ``isic``: the
    NACE classes refining its ISIC class; ``none``: unlabelled).
    """

    system: str
    lang: str
    code: str
    level: str
    title: str
    notes: str
    sector: str | None
    via: str

    @property
    def text(self) -> str:
        """Title and notes, as training text."""
        return f"{self.title}. {self.notes}" if self.notes else self.title


def _digits(code: str) -> str:
    return code.replace(".", "")


def _nace_form(digits: str) -> str:
    """``"2620"`` -> ``"26.20"``; ``"26201"`` -> ``"26.20.1"`` (the dotted OKVED/NACE spelling)."""
    parts = [digits[:2], digits[2:4], digits[4:]]
    return ".".join(p for p in parts if p)


def label_codes(codes: Iterable[str], detector: SectorDetector) -> dict[str, tuple[str | None, str]]:
    """Sector and ``via`` of each OKVED 2 / NACE Rev. 2 code of one hierarchy.

    Parameters
    ----------
    codes : iterable of str
        Every code of the hierarchy (dotted; parents and children), so that a parent can look
        at the codes below it.
    detector : SectorDetector
        Maps a code to a sector by its longest listed prefix (the same call profiles use).

    Returns
    -------
    dict
        code -> (sector id or ``None``, via).
    """
    ids = detector.config.sector_ids
    other = "other" if "other" in ids else None
    own = {code: detector.code_sector(code)[0] for code in codes}
    below: dict[str, set[str | None]] = {}
    for code, index in own.items():
        digits = _digits(code)
        for n in range(2, len(digits)):
            below.setdefault(digits[:n], set()).add(ids[index] if index >= 0 else other)
    out: dict[str, tuple[str | None, str]] = {}
    for code, index in own.items():
        found = below.get(_digits(code), set())
        if index >= 0:
            out[code] = (ids[index], VIA_CODE)
        elif not found or found == {other}:
            out[code] = (other, VIA_CODE)
        elif len(found) == 1:
            out[code] = (next(iter(found)), VIA_BELOW)
        else:
            out[code] = (None, VIA_NONE)
    return out


def label_vsic(
    codes: Iterable[str], nace_rows: list[Mapping[str, str]], nace_labels: Mapping[str, tuple[str | None, str]]
) -> dict[str, tuple[str | None, str]]:
    """Sector and ``via`` of each VSIC code, through the NACE classes refining its ISIC class.

    Classes (4 digits) take the one sector of the NACE classes whose ISIC reference they are
    (see :func:`_isic_sector` for the few VSIC classes ISIC does not have); subclasses (5 digits) their
    class's; divisions and groups the one sector of their classes.
    Anything else (disagreement, no NACE class) is unlabelled.
    """
    by_isic: dict[str, set[str | None]] = {}
    for row in nace_rows:
        if row["level"] == "class":
            by_isic.setdefault(row["isic"], set()).add(nace_labels[row["code"]][0])
    codes = list(codes)
    classes = {code: _isic_sector(code, by_isic) for code in codes if len(code) == 4}
    out: dict[str, tuple[str | None, str]] = {}
    for code in codes:
        if len(code) >= 4:
            sector = classes.get(code[:4])
        else:
            found = {s for c, s in classes.items() if c.startswith(code)}
            sector = next(iter(found)) if len(found) == 1 else None
        out[code] = (sector, VIA_ISIC if sector is not None else VIA_NONE)
    return out


def _isic_sector(code: str, by_isic: Mapping[str, set[str | None]]) -> str | None:
    """The one sector of the NACE classes under an ISIC class, else its group, else its division.

    VSIC 2007 splits or merges a few ISIC classes (wholesale of cars 4511-4513 for ISIC 4510,
    road transport 4920-4933): those classes fall back to the nearest ISIC level that exists.
    A class the NACE classes of its ISIC class disagree on stays unlabelled.
    """
    for n in (4, 3, 2):
        found = set().union(*(v for k, v in by_isic.items() if k.startswith(code[:n])))
        if found:
            return next(iter(found)) if len(found) == 1 else None
    return None


def labelled_classes(
    config: Config | None = None, detector: SectorDetector | None = None, systems: Iterable[str] = tuple(SYSTEMS)
) -> list[ClassRow]:
    """Every row of the shipped classifications, with its sector.

    Parameters
    ----------
    config : Config, optional
        The sectors whose code prefixes decide; the project's ``sectors.yaml`` by default.
    detector : SectorDetector, optional
        An already built detector (e.g. a fitted scorer's ``detector_``); wins over ``config``.
    systems : iterable of str
        Which classifications to read (keys of :data:`SYSTEMS`).

    Returns
    -------
    list of ClassRow
        In source order, classification by classification; unlabelled rows included
        (``sector is None``), so callers choose whether to drop them.
    """
    from .sectors import SectorDetector

    detector = detector or SectorDetector(config or load_sectors())
    nace = read_classification("nace2")
    nace_labels = label_codes([r["code"] for r in nace], detector)
    out = []
    for system in systems:
        rows = nace if system == "nace2" else read_classification(system)
        if system == "vsic2007":
            labels = label_vsic([r["code"] for r in rows], nace, nace_labels)
        else:
            labels = nace_labels if system == "nace2" else label_codes([r["code"] for r in rows], detector)
        lang = SYSTEMS[system][0]
        out.extend(
            ClassRow(system, lang, r["code"], r["level"], r["title"], r.get("notes", ""), *labels[r["code"]])
            for r in rows
        )
    return out


def coverage_gaps(rows: Iterable[ClassRow], sector_ids: Iterable[str]) -> dict[str, list[str]]:
    """Per language, the sector ids that no labelled row teaches (the gaps to fill by hand).

    Examples
    --------
    >>> row = ClassRow("nace2", "en", "62.01", "class", "Computer programming", "", "software", "code")
    >>> coverage_gaps([row], ["software", "cybersecurity"])
    {'en': ['cybersecurity']}
    """
    rows = list(rows)
    ids = list(sector_ids)
    out = {}
    for lang in sorted({r.lang for r in rows}):
        seen = {r.sector for r in rows if r.lang == lang}
        out[lang] = [s for s in ids if s not in seen]
    return out
