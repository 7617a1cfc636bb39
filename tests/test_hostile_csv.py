"""Hostile CSV files through ``matcher score`` (in process): one clear line or every row accounted for.

Empty, binary, cut short inside a quote, a 20 MB cell, duplicate headers, 100,000 columns, a header
longer than the sniffer reads. A file that cannot be read at all is one ``matcher: error:`` line and
exit status 3; any other file is scored with input rows = scored rows + error-report rows. Every
exported cell a spreadsheet would run as a formula is defused; the numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import random

import pytest

from matcher.cli import main
from matcher.io.defuse import FORMULA_CHARS
from matcher.io.formats import MAX_COLUMNS

HEADER = b"id,name,description,employees,notes\n"


@pytest.fixture
def big_fields():
    """Let Python's csv module read the 20 MB cells written here (its default limit is 128 KiB)."""
    old = csv.field_size_limit(1 << 30)
    yield
    csv.field_size_limit(old)


def run(capsys, tmp_path, data: bytes):
    """Write ``data`` as in.csv, score it; return (exit code, stderr, output rows, error-report rows)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(data)
    code = main(["score", str(src), "-o", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    rows = _read(out) if code == 0 else []
    report = _read(tmp_path / "out.errors.csv") if code == 0 else []
    return code, err, rows, report


def _read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 3  # unreadable input
    assert err.count("\n") == 1 and err.startswith("matcher: error: "), err
    for word in words:
        assert word in err


def assert_nothing_lost(err: str, rows, report, n_rows: int) -> None:
    """Input rows = scored rows + error-report rows, and the summary line says the same."""
    assert len(rows) - 1 + len(report) - 1 == n_rows
    assert err.startswith(f"{n_rows} rows: {len(rows) - 1} scored") and f"{len(report) - 1} errors" in err


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", ["the file is empty"]),
        (b"\xef\xbb\xbf \r\n\r\n", ["the file is empty"]),
        (bytes(range(256)) * 64, ["binary file", "NUL"]),
        (b"PK\x03\x04\x14\x00\x06\x00" + bytes(2000), ["binary file"]),  # an .xlsx is a zip
        (b"name,notes,Name\nA,1,B\n", ["'name' appears twice", "columns 1 and 3"]),
        (b"Company,name\nA,B\n", ["'name' appears twice", "columns 1 and 2"]),
        (b"firm_title,city\nA,B\n", ["no 'name' column", "'firm_title'"]),
    ],
    ids=["empty", "bom-and-blank-lines", "binary", "xlsx", "name-twice", "alias-twice", "no-name"],
)
def test_unreadable_files_get_one_clear_line(capsys, tmp_path, data, words):
    code, err, _, _ = run(capsys, tmp_path, data)
    assert_one_line_error(code, err, *words)


def test_random_bytes_without_nul_get_one_clear_line(capsys, tmp_path):
    noise = bytes(random.Random(5).choice(range(1, 256)) for _ in range(5000))
    code, err, _, _ = run(capsys, tmp_path, noise)
    assert_one_line_error(code, err, "no 'name' column")
    assert len(err) < 600  # the garbage header is shown cut short


def test_one_hundred_thousand_columns_are_refused_at_once(capsys, tmp_path):
    n = 100_000
    header = ",".join(["name", *(f"c{i}" for i in range(n))])
    code, err, _, _ = run(capsys, tmp_path, (header + "\nFirm" + ",1" * n + "\n").encode())
    assert_one_line_error(code, err, "100,001 columns", f"at most {MAX_COLUMNS:,}")


def test_a_header_longer_than_the_sniffer_reads_is_refused(capsys, tmp_path):
    header = ",".join(["name", *(f"column_number_{i:08d}" for i in range(60_000))])  # 1.4 MB
    code, err, _, _ = run(capsys, tmp_path, (header + "\nFirm\n").encode())
    assert_one_line_error(code, err, "header row is longer than 1 MiB")


@pytest.mark.parametrize("ending", ["\n", ""])
def test_a_file_cut_short_inside_a_quote_reports_that_row(capsys, tmp_path, ending):
    data = HEADER + b'1,Volga,robots,5,ok\n2,Kama,software,7,"the file was cut here' + ending.encode()
    code, err, rows, report = run(capsys, tmp_path, data)
    assert code == 0
    assert [r[1] for r in rows[1:]] == ["Volga"]
    assert report[1][:3] == [
        "3",
        "notes",
        "the quoted value is not closed before the end of the file (is the file cut short?)",
    ]
    assert report[1][3:] == ["2", "Kama", "software", "7", "the file was cut here" + ending]
    assert_nothing_lost(err, rows, report, 2)


def test_a_quote_cut_short_before_the_last_column_is_a_bad_row(capsys, tmp_path):
    data = HEADER + b'1,Volga,robots,5,ok\n2,Kama,"software and\nmore\n'
    code, err, rows, report = run(capsys, tmp_path, data)
    assert code == 0 and [r[1] for r in rows[1:]] == ["Volga"]
    assert report[1][:2] == ["3", "(row)"]
    assert report[1][2].startswith('has 3 fields where the header has 5: a quote (") opened in it is not closed')
    assert_nothing_lost(err, rows, report, 2)


def test_closed_quotes_at_the_end_are_not_mistaken_for_a_cut(capsys, tmp_path):
    for tail in (b'"done"\n', b'"say ""hi"""', b'""\n', b'"line\nbreak"'):
        code, err, rows, report = run(capsys, tmp_path, HEADER + b"1,Volga,robots,5," + tail)
        assert code == 0 and len(rows) == 2 and len(report) == 1, tail


def test_a_20_mb_cell_is_scored_whole(capsys, tmp_path, big_fields):
    huge = b"robots " * (20 * 1024 * 1024 // 7)
    data = HEADER + b"1,Volga,robots,5,ok\n2,Kama," + huge + b',7,x\n3,Oka,hotel,9,"quoted ' + huge + b'"\n'
    code, err, rows, report = run(capsys, tmp_path, data)
    assert code == 0
    assert [r[1] for r in rows[1:]] == ["Volga", "Kama", "Oka"]
    assert len(rows[2][2]) == len(huge) and rows[3][4] == "quoted " + huge.decode()
    assert rows[2][rows[0].index("sector")] == "automation"
    assert_nothing_lost(err, rows, report, 3)


def test_duplicate_unknown_columns_are_kept_apart(capsys, tmp_path):
    code, err, rows, report = run(capsys, tmp_path, b"name,notes,notes,NOTES\nA,1,2,3\n")
    assert code == 0
    assert rows[0][:4] == ["name", "notes", "notes_2", "NOTES"] and rows[1][:4] == ["A", "1", "2", "3"]
    assert_nothing_lost(err, rows, report, 1)


def test_a_row_with_several_bad_values_is_one_report_line_naming_each(capsys, tmp_path):
    data = b"id,name,employees,investment_usd,okved\n1,A,many,lots,99.x\n2,B,5,1m,62.01\n"
    code, err, rows, report = run(capsys, tmp_path, data)
    assert code == 0 and len(report) == 2
    row, column, reason = report[1][:3]
    assert row == "2" and set(column.split("; ")) == {"employees", "investment_usd", "okved"}
    assert "employees: expected a whole number" in reason and "okved: " in reason
    assert_nothing_lost(err, rows, report, 2)


def test_a_mix_of_hostile_rows_loses_nothing(capsys, tmp_path):
    lines = [HEADER.decode().strip()]
    lines += [f"{i},Firm {i},robots,{i},x" for i in range(50)]
    lines += [
        "50,,robots,1,no name",
        "51,A,b,c,d,e,f",
        "52,short",
        ",,,,",
        "53,B,x,-1,neg",
        "54,C,\x01\x02,1,ctrl",
        '55,D,"with ""quotes"" and, commas",2,',
        "56,E,x,1e6,exp",
    ]
    code, err, rows, report = run(capsys, tmp_path, ("\n".join(lines) + "\n").encode())
    assert code == 0
    assert_nothing_lost(err, rows, report, 58)
    assert {r[0] for r in report[1:]} == {"52", "53", "54", "55", "56", "59"}


# --- formula cells in every export -------------------------------------------------------------------

RISKY = ["=1+1", "+7 495", "-2+3", "@SUM(A1)", "\tx", "\rx", " =cmd|' /C calc'!A0", "  @x", "\u00a0-1+1", " \t=1"]


@pytest.mark.parametrize("cell", RISKY)
def test_formula_cells_are_defused_in_the_output_and_the_error_report(capsys, tmp_path, cell):
    rows_in = [
        ["id", cell, "name", "description", "employees", "notes"],
        ["1", cell, cell, cell, "5", cell],
        ["2", cell, cell, "x", cell, cell],
    ]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows_in)
    code, _, rows, report = run(capsys, tmp_path, buffer.getvalue().encode())
    assert code == 0
    defused = "'" + cell
    assert rows[0][1] == defused  # a header is a cell too
    assert rows[1][1:4] == [defused] * 3 and rows[1][5] == defused
    assert report[0][4] == defused
    assert report[1][:2] == ["3", "employees"] and report[1][3:] == ["2", defused, defused, "x", defused, defused]
    for row in rows[1:]:
        for value in row:
            assert value[:1] not in FORMULA_CHARS and value.lstrip()[:1] not in FORMULA_CHARS, value


def test_the_error_report_defuses_its_reason_and_column_too(capsys, tmp_path):
    # the reason quotes the bad item of a cell (in quotes, so it cannot start a formula)
    code, _, _, report = run(capsys, tmp_path, b'name,okved,=x\nA,"62.01; =1+1",=2\n')
    assert code == 0
    row, column, reason, *values = report[1]
    assert (row, column) == ("2", "okved") and reason.startswith("'=1+1': not an OKVED")
    assert values == ["A", "62.01; =1+1", "'=2"]
    assert report[0][5] == "'=x"
    # and whatever a reason or a column name holds, the report writes it defused
    from matcher.io.writing import ErrorReport

    direct = ErrorReport(tmp_path / "direct.csv", ["=h"])
    direct.add(7, "=col", "-reason", [" @v"])
    direct.close()
    assert _read(tmp_path / "direct.csv") == [["row", "column", "reason", "'=h"], ["7", "'=col", "'-reason", "' @v"]]


def test_numbers_stay_numbers(capsys, tmp_path):
    code, _, rows, _ = run(capsys, tmp_path, b"name,description,employees\nA,robots,5\nB,,\n-3,software,2\n")
    assert code == 0
    header = rows[0]
    numeric = [i for i, h in enumerate(header) if h in ("score", "rank", "completeness") or h.startswith("c_")]
    assert len(numeric) >= 5
    for row in rows[1:]:
        for i in numeric:
            float(row[i])  # a plain number, no quote in front
    assert rows[3][0] == "'-3"  # a text cell that looks like a negative number is still defused
