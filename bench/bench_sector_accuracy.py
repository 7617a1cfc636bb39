"""Accuracy of sector detection on labelled descriptions and on official classification titles.

Usage::

    python bench/bench_sector_accuracy.py               # compact tables
    python bench/bench_sector_accuracy.py --json        # the same figures as JSON
    python bench/bench_sector_accuracy.py --sectors other.yaml

Two test sets, scored through the public API (:func:`matcher.assess_many`, the main sector of
each result and every sector it lists):

* the hand-written labelled set ``tests/data/sector_descriptions.csv`` (description plus the
  OKVED code where the row gives one): per language, the share whose main sector is right
  (``main``), the share where any detected sector is one of the true ones (``any``), and
  ``main`` on the rows without a code (``text``, text-only detection);
* the official classification titles shipped in ``matcher/data/classifications/`` (OKVED 2 in
  Russian, NACE Rev. 2 in English, VSIC 2007 in Vietnamese), each class and finer level scored
  as a description with no code; the truth is the sector its code maps to
  (:func:`matcher.classifications.labelled_classes`; unlabelled classes are left out, a title
  repeated at a finer level is scored once). ``okved2/class`` is OKVED 2's class level alone
  (the figure issue 10 quotes); ``nace2+notes`` scores title and "includes" notes.

Each set ends with its ten most frequent confusions (true -> detected). The titles are the
learned classifier's training text, so the figures above flatter it; ``--cv`` also prints
held-out accuracy per language (5 folds by class, each scored by a model fitted without it:
:func:`matcher.sector_model.cross_validate`; a few minutes, scikit-learn needed).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path

from matcher import Scorer, assess_many
from matcher.classifications import labelled_classes

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "sector_descriptions.csv"
LANGS = ("ru", "en", "vi")
TITLE_LEVELS = ("class", "subclass", "type")


def detect(scorer, items: list[dict[str, str]]) -> list[tuple[str, list[str]]]:
    """Main sector and every listed sector of each ``{"description", "okved"}`` item."""
    profiles = [
        {"name": f"row {i}", "description": it["description"], "okved": it.get("okved") or None}
        for i, it in enumerate(items)
    ]
    out = []
    for result in assess_many(profiles, scorer):
        if isinstance(result, Exception):  # an unreadable code: nothing detected
            out.append(("", []))
        else:
            out.append((result.sector or "", [s["sector"] for s in result.sectors]))
    return out


def share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 4) if hits else None


def labelled_figures(scorer) -> tuple[list[dict], Counter]:
    """Per-language accuracy on the labelled set, and its confusions."""
    with open(LABELLED, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = detect(scorer, rows)
    confusions: Counter = Counter()
    table = []
    for lang in LANGS:
        pairs = [(row, got) for row, got in zip(rows, found, strict=True) if row["lang"] == lang]
        main = [row["main_sector"] == got[0] for row, got in pairs]
        any_ = [bool(set(row["sectors"].split(";")) & set(got[1])) for row, got in pairs]
        text = [row["main_sector"] == got[0] for row, got in pairs if not row["okved"]]
        table.append(
            {
                "set": "labelled",
                "lang": lang,
                "n": len(pairs),
                "main": share(main),
                "any": share(any_),
                "text_n": len(text),
                "text": share(text),
            }
        )
        confusions.update((row["main_sector"], got[0] or "-") for row, got in pairs if row["main_sector"] != got[0])
    return table, confusions


def title_items(scorer) -> dict[str, list[dict[str, str]]]:
    """Each classification's labelled titles (class level and finer), one item per distinct title."""
    sets: dict[str, list[dict[str, str]]] = {}
    for row in labelled_classes(detector=scorer.detector_):
        if row.sector is None or row.level not in TITLE_LEVELS:
            continue
        sets.setdefault(row.system, []).append(
            {"lang": row.lang, "description": row.title, "truth": row.sector, "text": row.text, "level": row.level}
        )
    for system, items in sets.items():
        seen: set[str] = set()
        sets[system] = [it for it in items if not (it["description"] in seen or seen.add(it["description"]))]
    sets["okved2/class"] = [it for it in sets["okved2"] if it["level"] == "class"]
    sets["nace2+notes"] = [dict(it, description=it["text"]) for it in sets["nace2"]]
    return sets


def title_figures(scorer) -> tuple[list[dict], Counter]:
    """Accuracy on the classification titles scored as descriptions, and their confusions."""
    confusions: Counter = Counter()
    table = []
    for system, items in title_items(scorer).items():
        found = detect(scorer, items)
        hits = [it["truth"] == got[0] for it, got in zip(items, found, strict=True)]
        any_ = [it["truth"] in got[1] for it, got in zip(items, found, strict=True)]
        table.append(
            {"set": system, "lang": items[0]["lang"], "n": len(items), "main": share(hits), "any": share(any_)}
        )
        if system in ("okved2", "nace2", "vsic2007"):
            confusions.update(
                (it["truth"], got[0] or "-") for it, got in zip(items, found, strict=True) if it["truth"] != got[0]
            )
    return table, confusions


def pct(value: float | None) -> str:
    return "   -  " if value is None else f"{100 * value:5.1f}%"


def print_tables(labelled: list[dict], titles: list[dict], confusions: dict[str, Counter], seconds: float) -> None:
    print("Labelled descriptions (tests/data/sector_descriptions.csv)")
    print(f"  {'lang':<5}{'n':>5}  {'main':>6}  {'any':>6}  {'text-only':>9} (n)")
    for row in labelled:
        print(
            f"  {row['lang']:<5}{row['n']:>5}  {pct(row['main'])}  {pct(row['any'])}  {pct(row['text']):>9} "
            f"({row['text_n']})"
        )
    print("\nClassification titles scored as descriptions (no code)")
    print(f"  {'set':<13}{'lang':<5}{'n':>6}  {'main':>6}  {'any':>6}")
    for row in titles:
        print(f"  {row['set']:<13}{row['lang']:<5}{row['n']:>6}  {pct(row['main'])}  {pct(row['any'])}")
    for name, counter in confusions.items():
        print(f"\nTop 10 confusions, {name} (true -> detected: count)")
        for (truth, got), n in counter.most_common(10):
            print(f"  {truth} -> {got}: {n}")
    print(f"\n({seconds:.1f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sectors", default=None, help="sectors file (default: the project's)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--cv", action="store_true", help="also cross-validate the classifier on the titles")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    scorer = Scorer(sectors_path=args.sectors).fit()
    labelled, labelled_conf = labelled_figures(scorer)
    titles, title_conf = title_figures(scorer)
    confusions = {"labelled": labelled_conf, "titles": title_conf}
    held_out = cross_validated(scorer.config_) if args.cv else None
    seconds = time.perf_counter() - start
    if args.json:
        print(
            json.dumps(
                {
                    "labelled": labelled,
                    "titles": titles,
                    "seconds": round(seconds, 1),
                    "cross_validated": held_out,
                    "confusions": {
                        name: [{"true": t, "detected": g, "n": n} for (t, g), n in c.most_common(10)]
                        for name, c in confusions.items()
                    },
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print_tables(labelled, titles, confusions, seconds)
        if held_out:
            print("\nClassification titles, held out (5 folds by class): main sector right")
            for lang, value in held_out.items():
                print(f"  {lang:<5}{pct(value)}")
    return 0


def cross_validated(config) -> dict[str, float]:
    """Held-out accuracy per language of the classifier on the classification titles."""
    from matcher.sector_model import cross_validate, keyword_phrases, training_examples

    return cross_validate(training_examples(config), config.sector_ids, phrases=keyword_phrases(config))


if __name__ == "__main__":
    raise SystemExit(main())
