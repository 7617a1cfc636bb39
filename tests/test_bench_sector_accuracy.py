"""bench/bench_sector_accuracy.py runs and reports every set it promises (no accuracy threshold yet)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "bench_sector_accuracy.py"


def test_json_report_covers_every_language_and_classification(capsys):
    spec = importlib.util.spec_from_file_location("bench_sector_accuracy", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["lang"] for row in report["labelled"]] == ["ru", "en", "vi"]
    assert sum(row["n"] for row in report["labelled"]) == 328
    assert {row["set"]: row["lang"] for row in report["titles"]} == {
        "okved2": "ru",
        "nace2": "en",
        "vsic2007": "vi",
        "okved2/class": "ru",
        "nace2+notes": "en",
    }
    for row in report["labelled"] + report["titles"]:
        assert 0 <= row["main"] <= row["any"] <= 1, row  # a right main sector is among those listed
    for name in ("labelled", "titles"):
        pairs = report["confusions"][name]
        assert 0 < len(pairs) <= 10 and all(p["true"] != p["detected"] for p in pairs)
