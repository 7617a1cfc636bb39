"""Tests for `matcher match FIRMS.csv --opportunities FILE -o OUT.csv`."""

from __future__ import annotations

import pytest
from matcher_testlib import read_csv
from test_match import SMALL

from matcher.cli import main
from matcher.match_batch import result_columns

ROWS = [
    ["id", "name", "description", "okved", "tech_transfer", "training", "vietnam_presence"],
    ["1", "ООО «Софт»", "Разрабатываем программное обеспечение", "62.01", "да", "да", "office"],
    ["2", "Hotel Ltd", "Hotel chain", "55.10", "no", "", ""],
    ["3", "Broken", "x", "04.1", "", "", ""],
    ["4", "=HYPERLINK(1)", "chips", "26.11", "committed", "committed", "project"],
]


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_match_writes_top_k_columns_and_error_report(capsys, write_csv, tmp_path):
    opps = tmp_path / "opps.yaml"
    opps.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out.csv"
    code, stdout, stderr = run(capsys, "match", write_csv(ROWS), "--opportunities", opps, "-o", out, "-k", 2)
    assert (code, stdout) == (0, "")
    assert "4 rows: 3 matched" in stderr and "1 errors" in stderr
    rows = read_csv(out)
    assert rows[0] == ROWS[0] + result_columns(2)
    by_name = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    soft = by_name["ООО «Софт»"]
    assert soft["match_1"] == "park" and soft["match_1_reason"].startswith("Tech Park — " + soft["match_1_score"])
    assert by_name["Hotel Ltd"]["match_1"] == "" and by_name["Hotel Ltd"]["match_1_score"] == ""
    assert "'=HYPERLINK(1)" in by_name  # formula defused like matcher score does
    assert "especially_encouraged_hitech" in by_name["'=HYPERLINK(1)"]["incentives"].split(";")
    errors = read_csv(tmp_path / "out.errors.csv")
    assert errors[1][:2] == ["4", "okved"]


def test_match_defaults_to_the_project_catalogue_in_russian(capsys, write_csv, tmp_path):
    out = tmp_path / "out.csv"
    code, _, _ = run(capsys, "match", write_csv(ROWS[:2]), "-o", out, "--lang", "ru", "-q", "--kinds", "park")
    assert code == 0
    header, row = read_csv(out)
    record = dict(zip(header, row, strict=True))
    # four parks target software (Hoa Lac, its innovation centre, two digital zones): no fifth match
    assert record["match_4"] and record["match_5"] == "" and "отрасль +" in record["match_1_reason"]


def test_bad_opportunities_file_is_one_line_naming_the_line(capsys, write_csv, tmp_path):
    opps = tmp_path / "opps.yaml"
    opps.write_text(
        SMALL.replace("    targets: {software: 1.0, electronics: 0.5}", "    targets: {warp: 1.0}"), encoding="utf-8"
    )
    code, _, stderr = run(capsys, "match", write_csv(ROWS), "--opportunities", opps, "-o", tmp_path / "o.csv")
    line = SMALL.splitlines().index("    targets: {software: 1.0, electronics: 0.5}") + 1
    assert code == 3
    assert (
        stderr == f"matcher: error: {opps}:{line}: opportunities.park.targets.warp: unknown sector 'warp'; "
        "sector ids are those of sectors.yaml\n"
    )


@pytest.mark.parametrize("k", ["0", "-1"])
def test_k_must_be_positive(capsys, write_csv, tmp_path, k):
    code, _, stderr = run(capsys, "match", write_csv(ROWS), "-o", tmp_path / "o.csv", "-k", k)
    assert code == 2 and "-k must be at least 1" in stderr


def test_malformed_and_cut_short_rows_go_to_the_error_report_worded(capsys, tmp_path):
    """A row with too many fields and a last row whose quote never closes are reported like ``matcher score``
    reports them, in the run's language: input rows = matched rows + error rows."""
    opps = tmp_path / "opps.yaml"
    opps.write_text(SMALL, encoding="utf-8")
    src = tmp_path / "firms.csv"
    src.write_text(
        'name,description,okved\nAlpha,Software,62.01\nBeta,x,62.01,extra,fields\nGamma,Chips,26.11\nDelta,Robots,"28.99',
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    code, _stdout, stderr = run(capsys, "match", src, "--opportunities", opps, "-o", out, "--lang", "ru")
    assert code == 0 and "4 rows" in stderr
    assert [r[0] for r in read_csv(out)[1:]] == ["Alpha", "Gamma"]
    errors = {r[0]: r for r in read_csv(tmp_path / "out.errors.csv")[1:]}
    assert sorted(errors) == ["3", "5"]
    assert errors["3"][1:3] == ["(row)", "в строке полей: 5, а в заголовке: 3"]  # a sentence, not "(5, 3)"
    assert errors["5"][0] == "5" and "кавыч" in errors["5"][2]
