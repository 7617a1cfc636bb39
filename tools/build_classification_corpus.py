"""Copy the official activity classifications into the package, as compact training text.

Usage::

    python tools/build_classification_corpus.py [SOURCE_DIR]

``SOURCE_DIR`` defaults to ``../shared/data/classifications`` beside the repository (or one level
further up, from a git worktree; see its
``SOURCES.md``). The script reads the three files there and writes, under
``matcher/data/classifications/``, only what sector detection needs:

- ``okved2_ru.csv``: ``code,level,title`` (OKVED 2, Russian; sections dropped);
- ``nace_rev2_en.csv``: ``code,level,title,isic,notes`` (NACE Rev. 2, English; ``notes`` joins
  Eurostat's "This item includes" and "This item also includes", never "excludes" or rulings,
  which name other classes' activities; ``isic`` is the ISIC Rev. 4 class it refines);
- ``vsic_vi.csv``: ``code,level,title`` (VSIC 2007, Vietnamese; codes without dots, as VSIC
  writes them).

Levels are named ``division``, ``group``, ``class``, ``subclass``, ``type`` in every file. The
output is sorted as the source is and written with ``\\n`` line ends, so running the script
again on the same sources changes nothing. ``matcher/data/classifications/SOURCES.md`` names
the sources and is kept by hand.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: ``../shared`` beside the main checkout; a worktree one level deeper looks one level up.
SOURCE_CANDIDATES = [base / "shared" / "data" / "classifications" for base in (ROOT.parent, ROOT.parent.parent)]
TARGET = ROOT / "matcher" / "data" / "classifications"
NUMBERED_LEVELS = {"2": "division", "3": "group", "4": "class", "5": "subclass"}
_SPACES = re.compile(r"[ \t]*\n[ \t\n]*|[ \t]+")


def squeeze(text: str) -> str:
    """One line of text: runs of blanks become one space, line breaks become ``" / "``."""
    text = _SPACES.sub(lambda m: " / " if "\n" in m.group() else " ", text.strip())
    return text


def read_okved(source: Path) -> list[dict[str, str]]:
    """OKVED 2 rows below section level: code, level, Russian title."""
    with open(source / "okved2_ru.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {"code": r["code"], "level": r["level"], "title": squeeze(r["name_ru"])}
        for r in rows
        if r["level"] != "section"
    ]


def read_nace(source: Path) -> list[dict[str, str]]:
    """NACE Rev. 2 rows below section level: code, level, English title, ISIC class, includes notes."""
    with open(source / "nace_rev2_en.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    out = []
    for r in rows:
        if r["Level"] == "1":
            continue
        notes = " / ".join(squeeze(r[k]) for k in ("This_item_includes", "This_item_also_includes") if r[k].strip())
        out.append(
            {
                "code": r["Code"],
                "level": NUMBERED_LEVELS[r["Level"]],
                "title": squeeze(r["Description"]),
                "isic": r["Reference_to_ISIC_Rev._4"].strip(),
                "notes": notes,
            }
        )
    return out


def read_vsic(source: Path) -> list[dict[str, str]]:
    """VSIC 2007 rows below section level: code, level, Vietnamese title."""
    with open(source / "vsic2007_vi.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {"code": r["code"], "level": NUMBERED_LEVELS[r["level"]], "title": squeeze(r["name_vi"])}
        for r in rows
        if r["level"] != "1"
    ]


def write(path: Path, rows: list[dict[str, str]]) -> None:
    """Write rows as UTF-8 CSV with a header and ``\\n`` line ends."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else next((p for p in SOURCE_CANDIDATES if p.is_dir()), SOURCE_CANDIDATES[0])
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, reader in (("okved2_ru.csv", read_okved), ("nace_rev2_en.csv", read_nace), ("vsic_vi.csv", read_vsic)):
        rows = reader(source)
        write(TARGET / name, rows)
        print(f"{name}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
