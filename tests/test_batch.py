"""Tests for matcher/batch.py: `score_file` on real CSV files (encodings, delimiters, errors, ranks)."""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pytest
from matcher_testlib import SAMPLE_CSV, read_csv

from matcher import InputFileError
from matcher.batch import score_file
from matcher.io.defuse import defuse_cell
from matcher.io.formats import lenient, sniff

CRITERIA = ["c_sector_fit", "c_green", "c_tech_transfer", "c_training", "c_local_linkage", "c_capacity", "c_readiness"]
RESULT_COLUMNS = [
    "score",
    "rank",
    "band",
    "sector",
    *CRITERIA,
    "completeness",
    "missing",
    "explanation",
    "top_improvement",
    "sectors",
    "sector_confidence",
    "okved_suggested",
]


def score(scorer, in_path, **kwargs):
    """Score ``in_path`` next to itself; return (summary, output rows as dicts, error rows as lists)."""
    out = in_path.with_name("out.csv")
    summary = score_file(in_path, out, scorer, **kwargs)
    rows = read_csv(out)
    header, body = rows[0], rows[1:]
    errors = read_csv(in_path.with_name("out.errors.csv"))
    return summary, header, [dict(zip(header, r, strict=True)) for r in body], errors


def test_result_columns_follow_design(config):
    from matcher.batch import result_columns

    assert result_columns(config) == RESULT_COLUMNS


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_encodings_and_delimiters(scorer, write_csv, encoding, delimiter):
    rows = [
        ["name", "description", "training", "city"],
        ["ООО «Ромашка»", "Разрабатываем программное обеспечение", "да", "Москва"],
        ["АО Гостиница", "Сеть гостиниц, кафе", "нет", "Казань"],
    ]
    path = write_csv(rows, encoding=encoding, delimiter=delimiter)
    fmt = sniff(path)
    assert fmt.delimiter == delimiter
    assert fmt.encoding == ("cp1251" if encoding == "cp1251" else "utf-8")
    assert fmt.headers == rows[0]  # no BOM left on the first header
    summary, header, out, errors = score(scorer, path)
    assert header == [*rows[0], *RESULT_COLUMNS]
    assert [r["name"] for r in out] == ["ООО «Ромашка»", "АО Гостиница"]
    assert [r["city"] for r in out] == ["Москва", "Казань"]
    assert [r["sector"] for r in out] == ["software", "hospitality"]
    # software 30 + training 12 = 42.0; hospitality 10.5 + 0 = 10.5
    assert [r["score"] for r in out] == ["42.0", "10.5"]
    assert (summary.rows, summary.scored, summary.errors) == (2, 2, 0)
    assert errors == [["row", "column", "reason", *rows[0]]]


def test_header_names_case_insensitive_with_spaces(scorer, write_csv):
    path = write_csv(
        [
            [" NAME ", "Investment USD", "Tech Transfer", "OKVED", "Vietnam_Presence", "ESG Report", "DESCRIPTION"],
            ["Firm", "5m", "committed", "62.01", "project", "yes", ""],
        ]
    )
    _, header, out, _ = score(scorer, path)
    assert header[:7] == [
        " NAME ",
        "Investment USD",
        "Tech Transfer",
        "OKVED",
        "Vietnam_Presence",
        "ESG Report",
        "DESCRIPTION",
    ]
    row = out[0]
    # 30 (software) + 16 (tech transfer) + 8 x 0.7 x 0.75 = 4.2 (capacity) + 8 (readiness) + 14 x 0.2 = 2.8 (ESG)
    assert (row["c_sector_fit"], row["c_tech_transfer"], row["c_capacity"], row["c_readiness"], row["c_green"]) == (
        "30.0",
        "16.0",
        "4.2",
        "8.0",
        "2.8",
    )
    assert row["score"] == "61.0"


def test_unknown_columns_passed_through_in_order(scorer, write_csv):
    header = ["Notes", "name", "Extra col", "okved", "description", "Внутренний номер"]
    path = write_csv([header, ["n1", "Firm A", "x", "62.01", "", "77"], ["n2", "Firm B", "", "55.10", "", ""]])
    _, out_header, out, _ = score(scorer, path)
    assert out_header == [*header, *RESULT_COLUMNS]
    assert [(r["Notes"], r["Extra col"], r["Внутренний номер"]) for r in out] == [("n1", "x", "77"), ("n2", "", "")]


def test_rank_is_one_for_the_best_and_ties_share(scorer, write_csv):
    path = write_csv(
        [
            ["name", "okved", "description"],
            ["hospitality", "55.10", ""],  # 10.5
            ["software", "62.01", ""],  # 30.0
            ["software too", "26.30", ""],  # 30.0
            ["logistics", "52.10", ""],  # 21.0
            ["finance", "64.19", ""],  # 4.5
        ]
    )
    _, _, out, _ = score(scorer, path)
    assert [(r["name"], r["score"], r["rank"]) for r in out] == [
        ("hospitality", "10.5", "4"),
        ("software", "30.0", "1"),
        ("software too", "30.0", "1"),
        ("logistics", "21.0", "3"),
        ("finance", "4.5", "5"),
    ]


def test_contributions_add_up_and_other_columns(scorer, write_csv):
    path = write_csv(
        [
            ["name", "okved", "description", "investment_usd", "employees", "training", "green"],
            ["A", "62.01", "", "2m", "120", "yes", "planned"],
            ["B", "", "Hotel chain", "", "", "", ""],
        ]
    )
    _, _, out, _ = score(scorer, path)
    for row in out:
        assert round(sum(float(row[c]) for c in CRITERIA), 1) == float(row["score"])
    a, b = out
    # A: 30 + 14 x 0.4 = 5.6 + 12 + 4.28 = 51.88 -> 51.9
    assert (a["score"], a["band"], a["c_green"], a["c_capacity"]) == ("51.9", "C", "5.6", "4.3")
    assert a["missing"] == "esg_report;tech_transfer;local_partner;vietnam_presence"
    assert a["top_improvement"] == "commit to transferring technology to Vietnamese partners: +16.0"
    assert a["explanation"].startswith("51.9 of 100, band C (partial fit); sector IT and software")
    # B: only the sector is known: 10.5; completeness = 30 / 100 points known
    assert (b["score"], b["sector"], b["completeness"]) == ("10.5", "hospitality", "0.3")
    # A: unknown ESG (14 x 0.2), technology transfer (16), partner (12), presence (8) -> 1 - 38.8 / 100
    assert a["completeness"] == "0.61"


def test_error_report_for_bad_values_and_bad_rows(scorer, write_csv):
    text = (
        "name,investment_usd,okved,training,description\n"  # row 1 (header)
        "Good,1m,62.01,yes,\n"  # row 2
        "Bad money,lots,62.01,yes,\n"  # row 3
        "Too many,1m,62.01,yes,,extra\n"  # row 4
        "Bad code,1m,99.999,yes,\n"  # row 5
        "Too few,1m\n"  # row 6
        ",1m,62.01,yes,\n"  # row 7: no name
        "Bad answer,1m,62.01,perhaps,\n"  # row 8
        "Last,,,,hotel\n"  # row 9
    )
    path = write_csv(text)
    summary, _, out, errors = score(scorer, path)
    assert [r["name"] for r in out] == ["Good", "Last"]
    assert errors[0] == ["row", "column", "reason", "name", "investment_usd", "okved", "training", "description"]
    by_row = {int(e[0]): e for e in errors[1:]}
    assert sorted(by_row) == [3, 4, 5, 6, 7, 8]
    assert by_row[3][:2] == ["3", "investment_usd"] and "expected an amount in US$" in by_row[3][2]
    assert by_row[3][3:] == ["Bad money", "lots", "62.01", "yes", ""]
    assert by_row[5][1] == "okved" and "not an OKVED 2" in by_row[5][2] and by_row[5][5] == "99.999"
    assert by_row[7][1] == "name" and by_row[7][3:] == ["", "1m", "62.01", "yes", ""]
    assert by_row[8][1] == "training" and by_row[8][6] == "perhaps"
    # wrong number of fields: reason says so, and the original text is kept
    assert by_row[4][2] == "has 6 fields where the header has 5"
    assert "Too many,1m,62.01,yes,,extra" in by_row[4][3:]
    assert by_row[6][2] == "has 2 fields where the header has 5"
    assert "Too few,1m" in by_row[6][3:]
    assert (summary.rows, summary.scored, summary.errors) == (8, 2, 6)


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00")]
)
def test_excel_unicode_text_is_read_like_utf8(scorer, write_csv, encoding, bom):
    # Excel's "Unicode text": UTF-16 with a BOM, tab-separated (its NUL bytes once made it "a binary file")
    text = "name\temployees\tdescription\nООО Ромашка\t50\tРазработка ПО\nCông ty Điện tử\t120\tSản xuất\nBad\tmany\t\n"
    summary, _, wide, wide_errors = score(scorer, write_csv(bom + text.encode(encoding), name="wide.csv"))
    _, _, plain, plain_errors = score(scorer, write_csv(text, name="plain.csv"))
    assert wide == plain and [e[:3] for e in wide_errors] == [e[:3] for e in plain_errors]
    assert [r["name"] for r in wide] == ["ООО Ромашка", "Công ty Điện tử"] and (summary.scored, summary.errors) == (
        2,
        1,
    )


def test_a_quote_left_open_is_named_as_the_reason(scorer, write_csv):
    # The quote opened in row 3 swallows the lines after it: the row's count of fields alone misleads.
    path = write_csv('name,employees\nGood,5\n"Open,5\nNext,6\nLast,7\n')
    summary, _, out, errors = score(scorer, path)
    assert [r["name"] for r in out] == ["Good"] and summary.errors == 1
    assert errors[1][:2] == ["3", "(row)"] and 'a quote (") opened in it is not closed' in errors[1][2]


def test_a_file_of_malformed_rows_only_numbers_each_row(scorer, write_csv):
    # With no good row, Arrow yields no batch to check: the rows were reported as row -1.
    path = write_csv("name,employees,okved\nA\nB,5\n\nC,1,62.01,x\n")
    summary, _, out, errors = score(scorer, path)
    assert out == [] and sorted((int(e[0]), e[1], e[2]) for e in errors[1:]) == [
        (2, "(row)", "has 1 fields where the header has 3"),
        (3, "(row)", "has 2 fields where the header has 3"),
        (4, "(row)", "the row is empty"),
        (5, "(row)", "has 4 fields where the header has 3"),
    ]
    assert (summary.rows, summary.scored, summary.errors) == (4, 0, 4)


def test_row_numbers_count_records_not_lines(scorer, write_csv):
    # a quoted field with newlines takes several lines but is one spreadsheet row
    text = 'name,description,employees\nA,"one\ntwo\nthree",5\nB,x,many\nC,x,y,z\nD,ok,7\n'
    summary, _, out, errors = score(scorer, write_csv(text))
    assert [r["name"] for r in out] == ["A", "D"]
    assert out[0]["description"] == "one\ntwo\nthree"
    assert {(e[0], e[1]) for e in errors[1:]} == {("3", "employees"), ("4", "(row)")}
    assert summary.rows == 4


def test_quoted_newline_and_delimiter_survive(scorer, write_csv):
    path = write_csv(
        [["name", "description", "notes"], ["Firm; Ltd", "Line one\nRobotics, automation", 'say "hi"']], delimiter=";"
    )
    _, _, out, _ = score(scorer, path)
    assert out[0]["name"] == "Firm; Ltd"
    assert out[0]["description"] == "Line one\nRobotics, automation"
    assert out[0]["notes"] == 'say "hi"'
    assert out[0]["sector"] == "automation"


@pytest.mark.parametrize("cell", ["=1+1", "+7 495 123", "-2", "@SUM(A1)", '=HYPERLINK("x")'])
def test_formula_cells_are_defused_in_output_and_error_report(scorer, write_csv, cell):
    path = write_csv([["name", "notes", "employees", "description"], [cell, cell, "5", cell], [cell, cell, "bad", "x"]])
    _, _, out, errors = score(scorer, path)
    assert out[0]["name"] == "'" + cell
    assert out[0]["notes"] == "'" + cell
    assert out[0]["description"] == "'" + cell
    assert errors[1][3:] == ["'" + cell, "'" + cell, "bad", "x"]
    assert defuse_cell(cell) == "'" + cell


def test_plain_cells_are_not_defused(scorer, write_csv):
    path = write_csv([["name", "notes", "description"], ["Firm", "a=b", "x"], ["Other", "2-3", "y"]])
    _, _, out, _ = score(scorer, path)
    assert [(r["name"], r["notes"]) for r in out] == [("Firm", "a=b"), ("Other", "2-3")]


def test_json_output_has_the_same_rows(scorer, write_csv, tmp_path):
    path = write_csv(
        [
            ["id", "name", "okved", "description", "training"],
            ["1", "A", "62.01", "", "yes"],
            ["2", "B", "55.10", "", ""],
            ["3", "C", "x", "", "yes"],
        ]
    )
    score_file(path, tmp_path / "out.csv", scorer)
    score_file(path, tmp_path / "out.json", scorer, out_format="json")
    csv_rows = read_csv(tmp_path / "out.csv")
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == len(csv_rows) - 1 == 2
    assert list(data[0]) == csv_rows[0]
    for obj, row in zip(data, csv_rows[1:], strict=True):
        for key, value in zip(csv_rows[0], row, strict=True):
            if key in ("score", "completeness") or key.startswith("c_"):
                assert obj[key] == float(value)
            elif key == "rank":
                assert obj[key] == int(value)
            else:
                assert obj[key] == value
    assert (data[0]["score"], data[0]["rank"]) == (42.0, 1)
    assert read_csv(tmp_path / "out.errors.csv")[1][:2] == ["4", "okved"]


@pytest.mark.parametrize(
    "text",
    [
        "name,description\n",
        "name,description",
        "name,description\r",
        "name,description\r\n",
        "\ufeffname;description",
        'name,"descr\niption"',
    ],
    ids=["lf", "no-final-newline", "cr", "crlf", "bom-semicolon", "quoted-newline"],
)
def test_header_only_file_gives_empty_output(scorer, write_csv, tmp_path, text):
    summary, header, out, errors = score(scorer, write_csv(text))
    assert out == []
    assert header == [*sniff(tmp_path / "in.csv").headers, *RESULT_COLUMNS]
    assert errors == [["row", "column", "reason", *header[:2]]]
    assert (summary.rows, summary.scored, summary.errors) == (0, 0, 0)
    summary = score_file(write_csv("name,description\n"), tmp_path / "o.json", scorer, out_format="json")
    assert json.loads((tmp_path / "o.json").read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"firm_id,description\n1,x\n", "no 'name' column"),
        (b"name,Name\na,b\n", "the column 'name' appears twice"),
        (b"name,company\na,b\n", "the column 'name' appears twice"),
    ],
)
def test_unreadable_files_raise_input_file_error(scorer, write_csv, tmp_path, content, message):
    with pytest.raises(InputFileError, match=message):
        score_file(write_csv(content), tmp_path / "out.csv", scorer)


@pytest.mark.parametrize("short_rows", [True, False], ids=["with-malformed-rows", "values-errors-only"])
def test_multi_chunk_file_counts_and_row_numbers(scorer, tmp_path, short_rows):
    rng = random.Random(7)
    lines, expected_ok, expected_bad = ["id,name,description,okved,employees,training"], [], {}
    blanks = set()
    for i in range(3000):
        row = i + 2  # spreadsheet numbering: header is row 1
        kind = rng.random()
        if kind < 0.03 and short_rows:
            lines.append(f"{row},short{row}")
            expected_bad[row] = "(row)"
        elif kind < 0.035 and short_rows:
            lines.append("")  # a blank line: no firm, but it still takes a spreadsheet row
            blanks.add(row)
        elif kind < 0.06:
            lines.append(f"{row},bad{row},software,62.01,abc,yes")
            expected_bad[row] = "employees"
        elif kind < 0.08:
            lines.append(f'{row},nl{row},"multi\nline software",,5,yes')
            expected_ok.append(row)
        else:
            desc = rng.choice(["software", "hotel chain", "Разрабатываем роботов", "trí tuệ nhân tạo", "x"])
            code = rng.choice(["", "62.01", "55.10", "28.99.5"])
            lines.append(f"{row},n{row},{desc},{code},{rng.randint(0, 2000)},{rng.choice(['yes', 'no', ''])}")
            expected_ok.append(row)
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score_file(path, tmp_path / "out.csv", scorer, block_bytes=4096)
    out = read_csv(tmp_path / "out.csv")
    errors = read_csv(tmp_path / "out.errors.csv")[1:]
    assert summary.scored + summary.errors == summary.rows
    assert bool(blanks) == short_rows
    assert len(out) - 1 == summary.scored and len(errors) == summary.errors
    assert [int(r[0]) for r in out[1:]] == expected_ok  # input order kept across chunks
    reported = {int(e[0]): e[1] for e in errors}
    # blank lines may be reported as "(row)" errors or left out, but never shift the numbering
    reported_blank = {row for row in reported if row in blanks}
    assert all(reported[row] == "(row)" for row in reported_blank)
    assert {row: col for row, col in reported.items() if row not in blanks} == expected_bad
    assert summary.rows == 3000 - len(blanks) + len(reported_blank)
    for e in errors:  # the row number points at the row whose values are reported
        assert e[3] == e[0] or e[3].startswith(f"{e[0]},short") or int(e[0]) in blanks
    header = out[0]
    scores = [float(r[header.index("score")]) for r in out[1:]]
    ranks = [int(r[header.index("rank")]) for r in out[1:]]
    for s, r in zip(scores, ranks, strict=True):
        assert r == 1 + sum(1 for other in scores if other > s)


def test_sample_profiles_all_score_without_errors(scorer, tmp_path):
    summary = score_file(SAMPLE_CSV, tmp_path / "out.csv", scorer)
    assert (summary.rows, summary.scored, summary.errors) == (48, 48, 0)
    rows = read_csv(tmp_path / "out.csv")
    header = rows[0]
    assert header[-len(RESULT_COLUMNS) :] == RESULT_COLUMNS
    assert len(rows) == 49
    assert read_csv(tmp_path / "out.errors.csv")[1:] == []
    for row in rows[1:]:
        rec = dict(zip(header, row, strict=True))
        assert round(sum(float(rec[c]) for c in CRITERIA), 1) == float(rec["score"])
        assert 0 <= float(rec["score"]) <= 100
        assert 0 <= float(rec["completeness"]) <= 1
        assert rec["band"] in "ABCD"
        assert rec["explanation"].startswith(f"{rec['score']} of 100")
    assert {r[header.index("rank")] for r in rows[1:]} >= {"1"}


def test_sample_profiles_cover_languages_and_tiers(scorer, config, tmp_path):
    score_file(SAMPLE_CSV, tmp_path / "out.csv", scorer)
    rows = read_csv(tmp_path / "out.csv")
    header = rows[0]
    sectors = {r[header.index("sector")] for r in rows[1:]}
    tiers = {config.sector(s).tier for s in sectors if s}
    assert {"hanoi_priority", "connectivity", "existing_fdi"} <= tiers
    descriptions = " ".join(r[header.index("description")] for r in rows[1:])
    assert any("\u0400" <= ch <= "\u04ff" for ch in descriptions)  # Russian
    assert any(ch in "ăâđêôơư" for ch in descriptions)  # Vietnamese


def test_csv_without_description_column(scorer, write_csv):
    # README's CSV data contract: only `name` is required; a file of names and codes must score.
    summary, _, out, _ = score(scorer, write_csv([["name", "okved"], ["A", "62.01"], ["B", "55.10"]]))
    assert [(r["name"], r["sector"], r["score"]) for r in out] == [
        ("A", "software", "30.0"),
        ("B", "hospitality", "10.5"),
    ]
    assert summary.errors == 0


def test_row_with_only_a_name_is_scored(scorer, write_csv):
    # a firm that gave nothing but its name scores 0.0, sector unknown, everything missing
    summary, _, out, _ = score(
        scorer, write_csv([["name", "description", "training"], ["A", "software", "yes"], ["B", "", ""]])
    )
    assert [(r["name"], r["score"]) for r in out] == [("A", "42.0"), ("B", "0.0")]
    assert out[1]["sector"] == ""
    assert out[1]["completeness"] == "0"
    assert out[1]["missing"].startswith("description;okved;")
    assert "sector unknown" in out[1]["explanation"]
    assert summary.errors == 0


@pytest.mark.parametrize(("lang", "word"), [("en", "of 100"), ("ru", "из 100"), ("vi", "/100 điểm")])
def test_lang_changes_explanation(scorer, write_csv, lang, word):
    _, _, out, _ = score(scorer, write_csv([["name", "okved", "description"], ["A", "62.01", ""]]), lang=lang)
    assert word in out[0]["explanation"]


def test_row_numbers_count_blank_lines_as_spreadsheets_do(scorer, write_csv):
    # A spreadsheet opening this file shows the blank line as an empty row 3, so "B" is row 4.
    text = "name,employees,description\nA,1,x\n\nB,bad,x\nC,2,x\n"
    summary, _, out, errors = score(scorer, write_csv(text))
    assert [r["name"] for r in out] == ["A", "C"]
    by_row = {e[0]: e[1] for e in errors[1:]}
    assert by_row["4"] == "employees"
    assert set(by_row) <= {"3", "4"}  # the blank row may be reported (no name), as row 3
    assert summary.scored + summary.errors == summary.rows


LINES = ["name,employees,description", "A,1,x", "B,bad,x", 'C,2,"multi{nl}line"', "Too,few", "", "D,zz,x", 'E,3,"=1+1"']


@pytest.mark.parametrize("newline", ["\r", "\r\n", "mixed"], ids=["cr", "crlf", "mixed"])
def test_any_line_ending_gives_the_rows_and_row_numbers_of_lf(scorer, write_csv, tmp_path, newline):
    # Old Mac files end lines with CR alone; a file pasted together may mix all three.
    lf = score(scorer, write_csv("\n".join(LINES).format(nl="\n") + "\n", name="lf.csv"))
    if newline == "mixed":
        ends = ["\r", "\r\n", "\n"] * 3
        text = "".join(line.format(nl="\r") + end for line, end in zip(LINES, ends, strict=False))
    else:
        text = newline.join(LINES).format(nl=newline) + newline
    summary, header, out, errors = score(scorer, write_csv(text))
    assert header == lf[1]
    assert [[v.replace("\r\n", "\n").replace("\r", "\n") for v in r.values()] for r in out] == [
        list(r.values()) for r in lf[2]
    ]
    assert [r["name"] for r in out] == ["A", "C", "E"]
    # spreadsheet rows: header 1, A 2, B 3, C 4, Too 5, blank 6, D 7
    assert sorted(e[:2] for e in errors[1:] if e[0] != "6") == [["3", "employees"], ["5", "(row)"], ["7", "employees"]]
    assert [e[:2] for e in errors] == [e[:2] for e in lf[3]]
    assert (summary.rows, summary.scored, summary.errors) == (lf[0].rows, 3, lf[0].errors)


def test_cr_only_file_in_many_chunks_keeps_row_numbers(scorer, tmp_path):
    lines = ["name,employees,description"]
    for row in range(2, 2002):
        lines.append(f"n{row},{'bad' if row % 97 == 0 else row},software" if row % 89 else f"short{row}")
    path = tmp_path / "cr.csv"
    path.write_bytes(("\r".join(lines) + "\r").encode())
    summary = score_file(path, tmp_path / "out.csv", scorer, block_bytes=4096)
    out = read_csv(tmp_path / "out.csv")
    errors = read_csv(tmp_path / "out.errors.csv")[1:]
    expected = {row: "employees" for row in range(2, 2002) if row % 97 == 0 and row % 89}
    expected |= {row: "(row)" for row in range(2, 2002) if row % 89 == 0}
    assert {int(e[0]): e[1] for e in errors} == expected
    assert len(out) - 1 == summary.scored == 2000 - len(expected)
    assert all(r[0] == f"n{int(r[1])}" for r in out[1:])


def test_windows_line_endings(scorer, write_csv):
    text = 'name,employees,description\r\nA,1,x\r\nB,bad,x\r\nC,2,"multi\r\nline"\r\nD,zz,x\r\n'
    summary, header, out, errors = score(scorer, write_csv(text))
    assert header[:3] == ["name", "employees", "description"]
    assert [r["name"] for r in out] == ["A", "C"]
    assert [e[:2] for e in errors[1:]] == [["3", "employees"], ["5", "employees"]]


def test_header_cells_are_defused_too(scorer, write_csv):
    # a column name is a cell like any other when the output is opened in a spreadsheet
    _, header, out, errors = score(scorer, write_csv([["=HYPERLINK(1)", "name", "description"], ["1", "A", "x"]]))
    assert header[0] == "'=HYPERLINK(1)"
    assert errors[0][3] == "'=HYPERLINK(1)"
    assert out[0]["name"] == "A"


@pytest.mark.parametrize("encoding", ["cp1251", "koi8_r"])
def test_a_file_whose_first_megabyte_is_ascii_is_read_in_its_later_encoding(scorer, tmp_path, encoding):
    # Sniffing looks at the first 1 MiB; Cyrillic that only appears later must still be read, in the
    # encoding its own bytes read best in (it was always Windows-1251).
    lines = ["name,description,employees"]
    lines += [f"Firm {i},software development services for clients,{i % 500}" for i in range(25_000)]
    lines += ["ООО Ромашка,Разрабатываем программное обеспечение,5"]
    path = tmp_path / "late.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    assert path.stat().st_size > 1 << 20
    summary = score_file(path, tmp_path / "out.csv", scorer)
    assert (summary.rows, summary.scored, summary.errors) == (25_001, 25_001, 0)
    last = read_csv(tmp_path / "out.csv")[-1]
    assert last[:3] == ["ООО Ромашка", "Разрабатываем программное обеспечение", "5"]


def windows_1258(text: str) -> bytes:
    """``text`` as Vietnamese Windows writes it in code page 1258: a letter the code page has, else the letter
    without its tone followed by the tone as an accent ("ệ" -> "ê" + dot below)."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            tone = next(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
            out += unicodedata.normalize("NFC", parts.replace(tone, "")).encode("cp1258") + tone.encode("cp1258")
    return out


RUSSIAN = "name,description\nООО Ромашка,Разрабатываем программное обеспечение\nАО Гостиница,Сеть гостиниц\n"
LEGACY_FILES = {  # encoding -> (text, how to encode it)
    "koi8_r": (RUSSIAN, None),
    "cp1251": (RUSSIAN, None),
    "cp1252": ("name,description\nCafé Müller GmbH,Hôtels et cafés à Zürich\nSociété Générale,Crédit\n", None),
    "cp1258": (
        "name,description\nCông ty Phần mềm Việt,Phát triển phần mềm\nKhách sạn Hà Nội,Du lịch và khách sạn\n",
        windows_1258,
    ),
}


@pytest.mark.parametrize("encoding", sorted(LEGACY_FILES))
def test_single_byte_encodings_are_told_apart_by_their_words(scorer, write_csv, encoding):
    # A file that is not UTF-8 was once always read as Windows-1251: KOI8-R gave "оОП тПНБЫЛБ".
    text, encode = LEGACY_FILES[encoding]
    path = write_csv((encode or (lambda t: t.encode(encoding)))(text), name=f"{encoding}.csv")
    assert sniff(path).encoding == encoding
    summary, _, legacy, _ = score(scorer, path)
    _, _, plain, _ = score(scorer, write_csv(text, name="plain.csv"))
    assert legacy == plain and summary.scored == 2


def test_windows_1258_is_read_with_its_tones_joined_wherever_a_chunk_ends():
    # The tone accent follows its letter: a chunk may end between them, and the next chunk's first
    # character is then an accent the letter before it must still take.
    text = "Công ty Phần mềm Việt, Khách sạn Hà Nội, đầu tư, người được"
    raw = windows_1258(text)
    decoder = codecs.getincrementaldecoder(lenient("cp1258"))()
    for size in (1, 2, 3, 7):
        decoder.reset()
        parts = [decoder.decode(raw[i : i + size]) for i in range(0, len(raw), size)]
        assert "".join(parts) + decoder.decode(b"", final=True) == text


@pytest.mark.parametrize("line", ["sep=;\n", "SEP=;\r\n", '"sep=;"\n'])
def test_excels_sep_line_names_the_delimiter_and_is_hidden_as_excel_hides_it(scorer, write_csv, line):
    # Excel reads and writes a first line "sep=;"; it was taken for the header ("no 'name' column").
    body = "name;employees;okved\nA;5;62.01\nB;x\n\nC;many;1\n"
    summary, header, out, errors = score(scorer, write_csv(line + body, name="sep.csv"))
    _, plain_header, plain, plain_errors = score(scorer, write_csv(body, name="plain.csv"))
    assert (header, out, errors) == (plain_header, plain, plain_errors)
    assert header[:3] == ["name", "employees", "okved"] and [r["name"] for r in out] == ["A"]
    assert sorted(e[:2] for e in errors[1:]) == [["3", "(row)"], ["4", "(row)"], ["5", "employees; okved"]]
    assert summary.rows == 4


def test_a_sep_line_alone_is_an_empty_file(write_csv):
    with pytest.raises(InputFileError, match="the file is empty"):
        sniff(write_csv("sep=;\n"))


@pytest.mark.parametrize(
    "raw",
    [
        "name,city\nСеверный изотоп,Москва\nВолга,Каза".encode()[:-1],  # cut in the middle of a letter
        "name,city\nСеверный изотоп,Москва\n".encode() + b"Caf\xe9 Noir,Paris\n",  # one row from elsewhere
        b"\xef\xbb\xbfname,city\nCaf\xe9 Hanoi,Hanoi\n",  # a BOM says UTF-8 whatever follows
    ],
)
def test_utf8_with_a_stray_byte_stays_utf8(scorer, write_csv, raw):
    # One byte that is not UTF-8 had the whole file read as KOI8-R ("п║п╣п╡...") or refused ("ï»¿name").
    fmt = sniff(write_csv(raw))
    assert (fmt.encoding, fmt.repair) == ("utf-8", True)
    summary, _, out, _ = score(scorer, write_csv(raw))
    assert len(summary.warnings) == 1 and summary.warnings[0].startswith("the file is UTF-8 but for a few bytes")
    assert all("\ufffd" in r["name"] + r["city"] or r["name"].isascii() or r["city"] == "Москва" for r in out)
    assert out[0]["name"] in ("Северный изотоп", "Caf\ufffd Hanoi")


def test_a_late_stray_byte_after_utf8_letters_stays_utf8(scorer, tmp_path):
    # Past the sniffed megabyte: 40,000 UTF-8 rows in Cyrillic and one Windows-1252 row were all read as KOI8-R.
    path = tmp_path / "late.csv"
    text = "name;city\n" + "".join(f"Фирма {i};Москва\n" for i in range(40_000))
    path.write_bytes(text.encode() + "Café Noir;Paris\n".encode("cp1252"))
    summary = score_file(path, tmp_path / "out.csv", scorer)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.scored == 40_001 and rows[1][:2] == ["Фирма 0", "Москва"] and rows[-1][0] == "Caf\ufffd Noir"


def test_a_koi8_r_header_in_capitals_is_told_by_its_name_column(scorer, write_csv):
    # KOI8-R capitals are Windows-1251 small letters: both readings scored alike and "объчбойе" had no name.
    path = write_csv("НАЗВАНИЕ;ГОРОД\r\nООО РОМАШКА;МОСКВА\r\n".encode("koi8_r"))
    assert sniff(path).encoding == "koi8_r"
    assert score(scorer, path)[2][0]["НАЗВАНИЕ"] == "ООО РОМАШКА"


@pytest.mark.parametrize("encoding", ["koi8_r", "cp1251"])
def test_input_encoding_is_the_one_the_file_turned_out_in(scorer, tmp_path, encoding):
    # An ASCII first megabyte sniffs as UTF-8; the output "as the input" was then UTF-8 although the file was not.
    path = tmp_path / "late.csv"
    rows = "".join(f"Firm {i};Moscow\n" for i in range(80_000))
    path.write_text(f"name;city\n{rows}Ромашка;Москва\n", encoding=encoding)
    summary = score_file(path, tmp_path / "out.csv", scorer, out_encoding="input")
    assert (summary.encoding, summary.warnings) == (encoding, [])
    last = (tmp_path / "out.csv").read_bytes().splitlines()[-1].decode(encoding)
    assert last.startswith('"Ромашка";"Москва";')


def test_windows_1258_output_keeps_windows_1258(scorer, write_csv, tmp_path):
    # Python's code page 1258 has no "ộ": the output fell back to UTF-8 with a warning that the input's encoding
    # could not hold the text, though the input was in it. Tones are written apart, as Vietnamese Windows does.
    text = "name,city\r\nCông ty Phần mềm Hà Nội,Huế\r\n"
    summary = score_file(write_csv(windows_1258(text)), tmp_path / "out.csv", scorer, out_encoding="input")
    assert (summary.encoding, summary.warnings) == ("cp1258", [])
    raw = (tmp_path / "out.csv").read_bytes()
    assert windows_1258("Công ty Phần mềm Hà Nội") in raw
    assert read_csv(tmp_path / "out.csv", encoding=lenient("cp1258"))[1][:2] == ["Công ty Phần mềm Hà Nội", "Huế"]


def test_json_output_of_a_windows_1251_file_warns_of_nothing(scorer, write_csv, tmp_path):
    path = write_csv("name;city\nРомашка;Москва\n".encode("cp1251"))
    summary = score_file(path, tmp_path / "out.json", scorer, out_format="json", out_encoding="input")
    assert summary.warnings == [] and json.loads((tmp_path / "out.json").read_text("utf-8"))[0]["name"] == "Ромашка"


@pytest.mark.parametrize("line", ["sep=§\n", "sep=;;\n", "sep=\n", "sep=a\n"])
def test_a_sep_line_that_names_no_delimiter_is_refused_in_words(write_csv, line):
    # "sep=§" stopped the run with pyarrow's "Expecting an ASCII character"; the others said "no 'name' column".
    with pytest.raises(InputFileError, match="names no delimiter"):
        sniff(write_csv(line + "name;city\nA;B\n"))


@pytest.mark.parametrize(
    "raw",
    [
        windows_1258('name,description\r\nCông ty,"phần mềm'),
        '\ufeffname,description\r\nA,"soft'.encode("utf-16-le"),
        '\ufeffname,description\r\nA,"soft'.encode("utf-16-be"),
    ],
)
def test_a_file_cut_in_a_quote_is_caught_in_every_encoding(scorer, write_csv, raw):
    summary, _, out, errors = score(scorer, write_csv(raw))
    assert (summary.scored, summary.errors, out) == (0, 1, []) and "quote" in errors[1][2]


def test_a_byte_the_encoding_lacks_reads_as_a_replacement_not_a_crash(scorer, write_csv):
    # 0x98 has no character in Windows-1251: the decoder stopped the whole file with a traceback.
    raw = "name,description\nПривет ".encode("cp1251") + b"\x98" + ",софт\nДругая,гостиница\n".encode("cp1251")
    path = write_csv(raw)
    summary, _, out, _ = score(scorer, path)
    assert [r["name"] for r in out] == ["Привет \ufffd", "Другая"] and summary.scored == 2


def test_progress_reports_bytes_up_to_the_file_size(scorer, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,description\n" + "".join(f"F{i},software\n" for i in range(2000)), encoding="utf-8")
    seen = []
    score_file(path, tmp_path / "out.csv", scorer, progress=seen.append, block_bytes=4096)
    assert seen == sorted(seen)
    assert seen[-1] == path.stat().st_size
    assert len(seen) > 2


def test_file_where_no_row_scores_still_has_every_output_column(scorer, write_csv):
    summary, header, out, errors = score(
        scorer, write_csv([["name", "employees", "description"], ["A", "bad", "x"], ["", "5", "y"]])
    )
    assert out == []
    assert header == ["name", "employees", "description", *RESULT_COLUMNS]
    assert [e[:2] for e in errors[1:]] == [["2", "employees"], ["3", "name"]]
    assert (summary.rows, summary.scored, summary.errors) == (2, 0, 2)


def test_rescoring_a_scored_file_loses_no_column_in_json(scorer, write_csv, tmp_path):
    # Staff re-score last month's output: its own score, rank, ... columns are input columns now.
    first = write_csv([["name", "okved", "description"], ["A", "62.01", ""], ["B", "55.10", ""]], name="first.csv")
    score_file(first, tmp_path / "scored.csv", scorer)
    score_file(tmp_path / "scored.csv", tmp_path / "again.csv", scorer)
    score_file(tmp_path / "scored.csv", tmp_path / "again.json", scorer, out_format="json")
    rows = read_csv(tmp_path / "again.csv")
    # the old result columns pass through under an "_input" name, so no header repeats
    assert rows[0] == ["name", "okved", "description", *[f"{c}_input" for c in RESULT_COLUMNS], *RESULT_COLUMNS]
    assert len(set(rows[0])) == len(rows[0])
    data = json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))
    assert len(data) == 2
    # every CSV column must reach the JSON object (a passed-through "score" must not be overwritten)
    assert [len(obj) for obj in data] == [len(rows[0])] * 2


def test_batch_settings_are_undone_afterwards():
    """`matcher score` tunes its process while it scores; a process calling it in-line gets it back as it was."""
    import gc

    from threadpoolctl import threadpool_info

    from matcher.perf import tuned_for_batch

    blas = [(i["prefix"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"]
    assert gc.get_freeze_count() == 0
    with tuned_for_batch():
        assert gc.get_freeze_count() > 0
        assert all(i["num_threads"] == 1 for i in threadpool_info() if i["user_api"] == "blas")
    assert gc.get_freeze_count() == 0
    assert [(i["prefix"], i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"] == blas


# --- Russian and Vietnamese offices (issue 13): headers, encodings, reasons in the run's language ----

RU_HEADER = [
    "Название",
    "Инвестиции",
    "Сотрудники",
    "Передача технологий",
    "Обучение",
    "Местный партнёр",
    "Экология",
    "ESG",
    "Описание",
    "ОКВЭД",
    "Присутствие во Вьетнаме",
    "Комментарий",
]
VI_HEADER = [
    "Tên doanh nghiệp",
    "Vốn đầu tư (USD)",
    "Số nhân viên",
    "Chuyển giao công nghệ",
    "Đào tạo",
    "Đối tác địa phương",
    "Môi trường",
    "Báo cáo ESG",
    "Mô tả",
    "Mã OKVED",
    "Hiện diện tại Việt Nam",
    "Ghi chú",
]
EN_HEADER = [
    "name",
    "investment_usd",
    "employees",
    "tech_transfer",
    "training",
    "local_partner",
    "green",
    "esg_report",
    "description",
    "okved",
    "vietnam_presence",
    "notes",
]
ANSWERS = ["Firm", "2m", "300", "yes", "yes", "yes", "yes", "yes", "robots", "28.99", "office", "call back"]


@pytest.mark.parametrize("header", [RU_HEADER, VI_HEADER], ids=["ru", "vi"])
def test_russian_and_vietnamese_headers_score_like_the_contract_names(scorer, write_csv, header):
    _, _, [expected], _ = score(scorer, write_csv([EN_HEADER, ANSWERS], name="en.csv"))
    summary, out_header, [row], _ = score(scorer, write_csv([header, ANSWERS]))
    assert out_header[: len(header)] == header  # input columns as given, then the results
    assert [row[c] for c in RESULT_COLUMNS] == [expected[c] for c in RESULT_COLUMNS]
    assert float(row["score"]) > 80 and row["missing"] == ""
    assert summary.ignored == [header[-1]]


@pytest.mark.parametrize("spelling", ["  ОБУЧЕНИЕ ", "обучение:", "Obuchenie?", "đào_tạo", "DAO TAO", "Đào-tạo"])
def test_header_matching_ignores_case_space_punctuation_and_accents(spelling):
    from matcher.profile import field_for

    expected = None if spelling == "Obuchenie?" else "training"  # no transliteration
    assert field_for(spelling) == expected


def test_every_ignored_column_is_named_in_a_warning_in_the_runs_language(scorer, write_csv, tmp_path):
    path = write_csv([["Название", "Комментарий", "ИНН", "Investments!"], ["Firm", "x", "7701", "5m"]])
    summary = score_file(path, tmp_path / "out.csv", scorer, lang="ru")
    assert summary.ignored == ["Комментарий", "ИНН"]
    assert summary.warnings == ["столбцы, не учтённые при оценке (переданы без изменений), 2: 'Комментарий', 'ИНН'"]
    assert score_file(path, tmp_path / "out.csv", scorer, lang="vi").warnings[0].startswith("2 cột không")
    clean = write_csv([["name"], ["Firm"]], name="clean.csv")
    assert score_file(clean, tmp_path / "out.csv", scorer).warnings == []


@pytest.mark.parametrize(
    ("source", "delimiter", "choice", "expected"),
    [
        ("cp1251", ";", "input", ("cp1251", ";")),
        ("utf-8", ";", "input", ("utf-8", ";")),
        ("utf-8-sig", "\t", "input", ("utf-8-sig", "\t")),
        ("cp1251", ";", "utf-8-sig", ("utf-8-sig", ",")),
        ("cp1251", ";", "utf-8", ("utf-8", ",")),
    ],
)
def test_output_and_report_in_the_inputs_encoding_or_utf8_with_bom(
    scorer, write_csv, tmp_path, source, delimiter, choice, expected
):
    rows = [
        ["Название", "Описание", "Сотрудники"],
        ["ООО «Ромашка»", "программное обеспечение", "120"],
        ["АО Бета", "гостиница", "много"],
    ]
    path = write_csv(rows, encoding=source, delimiter=delimiter)
    out = tmp_path / "out.csv"
    summary = score_file(path, out, scorer, lang="ru", out_encoding=choice)
    assert (summary.encoding, summary.delimiter) == expected and summary.warnings == []
    tables = []
    for written in (out, tmp_path / "out.errors.csv"):
        assert written.read_bytes().startswith(b"\xef\xbb\xbf") == (expected[0] == "utf-8-sig")
        with open(written, encoding=expected[0], newline="") as handle:
            tables.append(list(csv.reader(handle, delimiter=expected[1])))
    scored, report = tables
    assert len(scored) == 2 and scored[0][:3] == rows[0] and scored[1][0] == "ООО «Ромашка»"
    assert "из 100" in scored[1][scored[0].index("explanation")]
    assert len(report) == 2 and report[1][:3] == ["3", "employees", "ожидается целое число, например 250"]


def test_windows_1251_that_cannot_hold_the_text_falls_back_to_utf8_with_bom(scorer, write_csv, tmp_path):
    path = write_csv(
        [["Название", "Описание"], ["ООО Софт", "программное обеспечение"]], encoding="cp1251", delimiter=";"
    )
    summary = score_file(path, tmp_path / "out.csv", scorer, lang="vi", out_encoding="input")  # Vietnamese words
    assert (summary.encoding, summary.delimiter) == ("utf-8-sig", ";")
    assert summary.warnings == [
        "bảng mã Windows-1251 không chứa được mọi ký tự của kết quả: tệp được ghi bằng UTF-8 có BOM"
    ]
    text = (tmp_path / "out.csv").read_bytes().decode("utf-8-sig")
    assert "ООО Софт" in text and "điểm" in text


@pytest.mark.parametrize(
    ("lang", "reasons"),
    [
        ("en", ["a firm name is required", "has 3 fields where the header has 2", "'x1': not an OKVED 2"]),
        ("ru", ["нужно название компании", "в строке полей: 3, а в заголовке: 2", "'x1': это не код ОКВЭД 2"]),
        ("vi", ["cần có tên doanh nghiệp", "dòng có 3 trường trong khi tiêu đề có 2", "'x1': không phải mã OKVED 2"]),
    ],
)
def test_error_reasons_in_the_runs_language(scorer, write_csv, tmp_path, lang, reasons):
    path = write_csv("name,okved\n,62.01\nA,1,2\nB,62.01 x1\n")
    summary = score_file(path, tmp_path / "out.csv", scorer, lang=lang)
    report = read_csv(tmp_path / "out.errors.csv")
    assert summary.errors == 3
    by_row = {r[0]: r[2] for r in report[1:]}
    assert by_row["2"] == reasons[0] and by_row["3"] == reasons[1] and by_row["4"].startswith(reasons[2])


def test_every_reason_is_worded_in_every_language():
    from matcher.fields import COMPLETE_LANGS
    from matcher.messages import REASONS, WARNINGS

    for table in (REASONS, WARNINGS):
        for code, texts in table.items():
            assert set(COMPLETE_LANGS) <= set(texts) and all(texts.values()), code


def test_kept_results_rebuild_each_scored_rows_result_as_assess_gives_it(scorer, tmp_path):
    import pyarrow.ipc as ipc

    from matcher import InvalidValue, assess_many
    from matcher.stored import results_from

    header, *rows = read_csv(SAMPLE_CSV)
    rows = rows[:30] + [["" for _ in header]] + [[("x" if h == "employees" else "Bad") for h in header]]
    path = tmp_path / "in.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    results_path = tmp_path / "results.arrow"
    summary = score_file(
        path, tmp_path / "out.csv", scorer, lang="ru", results_path=results_path, block_bytes=2048
    )  # several chunks
    with ipc.open_file(str(results_path)) as source:
        table = source.read_all()
    assert table.num_rows == summary.scored == 30 and table.column("record").to_pylist() == list(range(30))
    assert json.loads(table.schema.metadata[b"headers"]) == header
    scored = read_csv(tmp_path / "out.csv")
    for lang in ("ru", "en", "vi"):
        kept = list(results_from(scorer, table.to_pylist(), header, lang))
        profiles = [p for p, _, _ in kept]
        assert profiles == [dict(zip(header, r, strict=True)) for r in rows[:30]]
        expected = assess_many(profiles, scorer, lang)
        assert not any(isinstance(e, InvalidValue) for e in expected)
        assert [r for _, r, _ in kept] == expected  # every field, floats bit for bit
        for (_, _, texts), want in zip(kept, assess_many(profiles, scorer, "vi"), strict=True):
            assert texts["vi"] == {
                "explanation": want.explanation,
                "advice": {i.field: i.advice for i in want.improvements},
            }
    assert [f"{r.score:.1f}" for _, r, _ in kept] == [r[scored[0].index("score")] for r in scored[1:]]


def test_a_file_with_no_scorable_row_keeps_an_empty_results_file(scorer, write_csv, tmp_path):
    import pyarrow.ipc as ipc

    path = write_csv([["name", "employees"], ["A", "many"]])
    score_file(path, tmp_path / "out.csv", scorer, results_path=tmp_path / "results.arrow")
    with ipc.open_file(str(tmp_path / "results.arrow")) as source:
        assert source.read_all().num_rows == 0


def _messy_file(path, n: int = 2500) -> None:
    """A file of many chunks with every kind of row: malformed, bad values, blank, quoted newlines, formulas."""
    rng = random.Random(11)
    lines = ["id,name,description,okved,employees,training,sectors"]
    for i in range(n):
        kind = rng.random()
        if kind < 0.03:
            lines.append(f"{i},short{i}")
        elif kind < 0.04:
            lines.append("")
        elif kind < 0.07:
            lines.append(f"{i},bad{i},software,62.01,abc,yes,")
        elif kind < 0.09:
            lines.append(f'{i},nl{i},"multi\nline wind farm",,5,yes,')
        elif kind < 0.1:
            lines.append(f"{i},=cmd{i},=1+1,,5,,software:0.60")
        else:
            desc = rng.choice(
                [
                    "software",
                    "hotel chain",
                    "Разрабатываем роботов",
                    "trí tuệ nhân tạo",
                    "x",
                    "không sản xuất pin, chỉ phân phối",
                    "SIEM and penetration testing",
                ]
            )
            lines.append(
                f"{i},n{i},{desc},{rng.choice(['', '62.01', '55.10', '35.11'])},{rng.randint(0, 2000)},"
                f"{rng.choice(['yes', 'no', ''])},"
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("out_format", "out_encoding"), [("csv", "utf-8"), ("csv", "utf-8-sig"), ("json", "utf-8")])
def test_worker_processes_write_what_threads_write(scorer, tmp_path, out_format, out_encoding):
    """``processes=2`` (forked workers, part files) gives the same output, report, kept results and
    counts as the threads, byte for byte, and leaves no part file behind."""
    src = tmp_path / "messy.csv"
    _messy_file(src)
    outputs = {}
    for processes in (0, 2):
        folder = tmp_path / f"p{processes}"
        folder.mkdir()
        seen = []
        summary = score_file(
            src,
            folder / f"out.{out_format}",
            scorer,
            lang="ru",
            out_format=out_format,
            out_encoding=out_encoding,
            block_bytes=4096,
            processes=processes,
            progress=seen.append,
            error_path=folder / "errors.csv",
            results_path=folder / "results.arrow",
        )
        assert summary.rows == summary.scored + summary.errors and summary.errors > 50
        assert seen[-1] == src.stat().st_size
        assert sorted(p.name for p in folder.iterdir()) == ["errors.csv", f"out.{out_format}", "results.arrow"]
        outputs[processes] = (
            (summary.rows, summary.scored, summary.errors),
            *((folder / name).read_bytes() for name in (f"out.{out_format}", "errors.csv")),
        )
        outputs[processes] += (pa_ipc.open_file(str(folder / "results.arrow")).read_all(),)
    kept = outputs[0][-1]
    assert kept.num_rows == outputs[0][0][1]
    assert outputs[0][:-1] == outputs[2][:-1] and kept.equals(outputs[2][-1])


def test_command_line_uses_processes_for_large_files_only():
    from matcher.perf import MIN_BYTES, default_processes, usable_cores

    assert default_processes(MIN_BYTES - 1) == 0
    assert default_processes(MIN_BYTES) == (usable_cores() if usable_cores() > 1 else 0)


def test_worker_processes_write_to_an_open_stream_as_threads_do(scorer, tmp_path):
    """Standard output is a file object: the parts are copied to it in order, and it is left open."""
    src = tmp_path / "messy.csv"
    _messy_file(src, 600)
    written = []
    for processes in (0, 2):
        sink = io.BytesIO()
        score_file(src, sink, scorer, block_bytes=2048, processes=processes, error_path=tmp_path / f"e{processes}.csv")
        assert not sink.closed
        written.append(sink.getvalue())
    assert written[0] == written[1] and written[0].count(b"\n") > 500


def test_worker_processes_write_to_a_named_pipe_as_threads_do(scorer, tmp_path):
    """An output path that is no regular file (a FIFO, /dev/stdout) cannot be written at offsets: the parts
    are copied to it in order instead."""
    import os
    import threading
    from pathlib import Path

    src = tmp_path / "messy.csv"
    _messy_file(src, 600)
    score_file(src, tmp_path / "threads.csv", scorer, block_bytes=2048, error_path=tmp_path / "e0.csv")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    read = []
    reader = threading.Thread(target=lambda: read.append(Path(fifo).read_bytes()))
    reader.start()
    score_file(src, fifo, scorer, block_bytes=2048, processes=2, error_path=tmp_path / "e2.csv")
    reader.join(timeout=60)
    assert read == [(tmp_path / "threads.csv").read_bytes()]


def _taken_back(path: str) -> tuple[pa.RecordBatch, bool]:
    from pathlib import Path

    from matcher.perf import take

    batch = take(path)
    return pa.RecordBatch.from_pylist(batch.to_pylist(), schema=batch.schema), Path(path).exists()


def test_a_chunk_handed_over_to_a_worker_arrives_whole_and_leaves_no_file(tmp_path):
    from matcher.perf import ChunkPool

    batch = pa.RecordBatch.from_pydict(
        {"f0": ["Роботех", "", "Điện tử Hà Nội", "x" * 100_000], "f1": ["62.01", "=1+1", "", "26.11"]}
    )
    pool = ChunkPool(2, tmp_path / "parts")
    try:
        path = pool.hand_over(batch)
        got, left = pool.submit(_taken_back, path).result(timeout=30)
        assert got.equals(batch) and not left
    finally:
        pool.close()


def _write_part(number: int, text: bytes, delay: float, path: str) -> None:
    """In a worker: take part ``number``'s place after ``delay`` seconds and write ``text`` there."""
    import time

    from matcher.perf import worker_turns, write_at

    time.sleep(delay)
    if text == b"fail":
        worker_turns().place(number, 0)
        raise ValueError(f"part {number} failed")
    write_at(path, worker_turns().place(number, len(text)), text)


def test_parts_written_in_turns_land_in_order_whatever_order_they_finish(tmp_path):
    """Later parts finishing first wait for their turn; a failed part takes no room and holds nobody up."""
    from concurrent.futures import wait

    from matcher.perf import ChunkPool

    out = tmp_path / "out.txt"
    pool = ChunkPool(2, tmp_path / "parts")
    try:
        for texts in ([b"one,", b"two,", b"three,", b"four"], [b"one,", b"fail", b"three,", b"four"]):
            out.write_bytes(b"head|")
            pool.turns.start(5)
            delays = [0.3, 0.2, 0.1, 0.0]  # the first parts take longest
            futures = [
                pool.submit(_write_part, i, t, d, str(out)) for i, (t, d) in enumerate(zip(texts, delays, strict=True))
            ]
            done, not_done = wait(futures, timeout=30)
            assert not not_done
            assert out.read_bytes() == b"head|" + b"".join(t for t in texts if t != b"fail")
            assert [f.exception() is not None for f in futures] == [t == b"fail" for t in texts]
    finally:
        pool.close()


@pytest.mark.parametrize("lang", ["en", "ru", "vi"])
def test_words_of_distinct_combinations_spread_to_every_row(scorer, monkeypatch, lang):
    """Worded once per distinct combination of numbers and spread to the rows, the columns are those
    worded row by row (the sample rows, each twice, and rows that share their numbers)."""
    from matcher import explain
    from matcher.frame import read_frame
    from matcher.profile import table_from_mappings

    header, *values = read_csv(SAMPLE_CSV)
    rows = [dict(zip(header, v, strict=True)) for v in values]
    table, _ = table_from_mappings(rows + rows[::-1] + [{**rows[0], "name": f"Firm {i}"} for i in range(5)])
    frame = read_frame(table, scorer.detector_)
    scores = scorer.evaluate(frame)
    shared = explain.worded_columns(scorer, frame, scores, lang)
    rest, _ = explain._distinct(scores, *explain._worded_numbers(scores))
    assert len(rest.score) < len(scores.score)  # the rows do share their words
    monkeypatch.setattr(explain, "_distinct", lambda scores, *parts: (scores, lambda column: column))
    own = explain.worded_columns(scorer, frame, scores, lang)
    assert {k: v.to_pylist() for k, v in shared.items()} == {k: v.to_pylist() for k, v in own.items()}


def test_distinct_combinations_too_wide_for_one_key_are_all_rows(scorer):
    from matcher import explain
    from matcher.frame import read_frame
    from matcher.profile import table_from_mappings

    header, *values = read_csv(SAMPLE_CSV)
    table, _ = table_from_mappings([dict(zip(header, v, strict=True)) for v in values] * 2)
    scores = scorer.evaluate(read_frame(table, scorer.detector_))
    wide = [np.array([0, 1 << 40] * (len(scores.score) // 2), dtype=np.int64)] * 2
    rest, spread = explain._distinct(scores, *wide)
    assert rest is scores
    column = pa.array(range(len(scores.score)))
    assert spread(column) is column
    narrow, spread = explain._distinct(scores, wide[0] >> 40)
    assert len(narrow.score) == 2
    assert spread(pa.array([7, 8])).to_pylist() == [7, 8] * (len(scores.score) // 2)


@pytest.mark.parametrize(
    "values",
    [
        np.linspace(0.0, 1.0, 10_001),
        np.arange(201) / 200,  # halves of a hundredth: rounded to even, as np.round does
        np.array([0.0, 1.0, 0.57, 0.5, 1 / 3, 2 / 3, 0.999999, 0.004999]),
        np.array([0.5, -0.001, 0.2]),  # "-0": written by Arrow
        np.array([0.5, np.nan, 1.0]),
        np.array([1.5, 0.25]),
        np.zeros(0),
    ],
)
def test_hundredths_text_is_the_rounded_floats_cast(values):
    from matcher.explain import hundredths_text

    expected = pa.array(np.round(values, 2)).cast(pa.string())
    assert hundredths_text(values).to_pylist() == expected.to_pylist()
