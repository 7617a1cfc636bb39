"""The shipped classification files (OKVED 2, NACE Rev. 2, VSIC 2007) and how their codes line up.

Reading only: no sector, no model. :mod:`matcher.classifications` labels the classes with
sectors, :mod:`matcher.okved` looks codes up, :mod:`matcher.suggest` suggests them from text.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

#: Classification -> (language of its titles, file under ``matcher/data/classifications``).
SYSTEMS: dict[str, tuple[str, str]] = {
    "okved2": ("ru", "okved2_ru.csv"),
    "nace2": ("en", "nace_rev2_en.csv"),
    "vsic2007": ("vi", "vsic_vi.csv"),
}
#: OKVED 2 codes whose first four digits are not the NACE Rev. 2 class (see SOURCES.md).
NOT_NACE = ("85", "19.3", "92")


def read_classification(system: str) -> list[dict[str, str]]:
    """The rows of one shipped classification file, as read from the installed package.

    Parameters
    ----------
    system : {"okved2", "nace2", "vsic2007"}

    Returns
    -------
    list of dict
        ``code``, ``level``, ``title`` (and for NACE ``isic`` and ``notes``), in source order.

    Examples
    --------
    >>> [r["title"] for r in read_classification("nace2") if r["code"] == "26.20"]
    ['Manufacture of computers and peripheral equipment']
    """
    if system not in SYSTEMS:
        raise ValueError(f"system must be one of {sorted(SYSTEMS)}, not {system!r}")
    path = resources.files("matcher").joinpath("data", "classifications", SYSTEMS[system][1])
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _outside_nace(code: str) -> bool:
    return any(_digits(code).startswith(_digits(p)) for p in NOT_NACE)


def _digits(code: str) -> str:
    return code.replace(".", "")


def _vsic_safe(nace_rows: list[dict], vsic: dict) -> set[str]:
    """NACE divisions whose VSIC division has the same codes as the ISIC Rev. 4 classes NACE refines there.

    Only divisions: the first two digits are what VSIC and ISIC share ("for nearly all
    divisions", SOURCES.md); equal class code sets are the check that this division is one.
    """
    classes = [r for r in nace_rows if r["level"] == "class"]
    refined_by: dict[str, set[str]] = {}
    for r in classes:
        refined_by.setdefault(r["isic"], set()).add(r["code"])
    safe = set()
    for r in (r for r in nace_rows if r["level"] == "division"):
        key = _digits(r["code"])
        under = {c["code"] for c in classes if _digits(c["code"]).startswith(key)}
        isic = {c["isic"] for c in classes if c["code"] in under}
        own = {c for c in vsic if len(c) == 4 and c.startswith(key)}
        if key in vsic and isic and isic == own and all(refined_by[i] <= under for i in isic):
            safe.add(r["code"])
    return safe
