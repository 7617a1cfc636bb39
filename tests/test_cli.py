"""Tests for matcher/cli.py: `matcher score IN.csv -o OUT.csv` (in process and as a real command)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from matcher_testlib import SAMPLE_CSV, read_csv

from matcher.cli import main

ROWS = [
    ["id", "name", "description", "okved", "training"],
    ["1", "ООО «Софт»", "Разрабатываем программное обеспечение", "", "да"],
    ["2", "Hotel Ltd", "Hotel chain", "55.10", "no"],
    ["3", "Broken", "x", "04.1", ""],
]


def run(capsys, *argv):
    """Call ``matcher`` in process; return (exit code, stdout, stderr)."""
    code = main(list(map(str, argv)))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_score_writes_output_error_report_and_summary(capsys, write_csv, tmp_path):
    path = write_csv(ROWS)
    out = tmp_path / "out.csv"
    code, stdout, stderr = run(capsys, "score", path, "-o", out)
    assert code == 0
    assert stdout == ""
    rows = read_csv(out)
    assert rows[0][:5] == ROWS[0]
    assert [r[1] for r in rows[1:]] == ["ООО «Софт»", "Hotel Ltd"]
    errors = read_csv(tmp_path / "out.errors.csv")
    assert errors[1][:2] == ["4", "okved"]
    # the summary line on stderr: counts and where things went
    assert stderr.count("\n") == 1
    assert "3 rows: 2 scored" in stderr and "1 errors" in stderr and "out.errors.csv" in stderr


def test_quiet_prints_nothing(capsys, write_csv, tmp_path):
    code, stdout, stderr = run(capsys, "score", write_csv(ROWS), "-o", tmp_path / "out.csv", "-q")
    assert (code, stdout, stderr) == (0, "", "")
    assert (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("lang", "words"),
    [("ru", ["из 100", "отрасль ИТ и программное обеспечение"]),
     ("vi", ["/100 điểm", "ngành Công nghệ thông tin và phần mềm"]),
     ("en", ["of 100", "sector IT and software"])],
)
def test_lang(capsys, write_csv, tmp_path, lang, words):
    out = tmp_path / "out.csv"
    code, _, _ = run(capsys, "score", write_csv(ROWS), "-o", out, "--lang", lang, "-q")
    assert code == 0
    rows = read_csv(out)
    explanation = rows[1][rows[0].index("explanation")]
    for word in words:
        assert word in explanation


def test_format_json_is_valid_with_the_same_rows(capsys, write_csv, tmp_path):
    path = write_csv(ROWS)
    assert run(capsys, "score", path, "-o", tmp_path / "out.csv", "-q")[0] == 0
    assert run(capsys, "score", path, "-o", tmp_path / "out.json", "--format", "json", "-q")[0] == 0
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    rows = read_csv(tmp_path / "out.csv")
    assert [list(obj) for obj in data] == [rows[0]] * 2
    assert [obj["name"] for obj in data] == [r[1] for r in rows[1:]]
    assert [obj["score"] for obj in data] == [float(r[rows[0].index("score")]) for r in rows[1:]]
    assert [obj["rank"] for obj in data] == [1, 2]
    assert read_csv(tmp_path / "out.errors.csv")[1][:2] == ["4", "okved"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\x00\x01\x02binary\xff\xfe", "binary file"),
        (b"id,title\n1,x\n", "no 'name' column"),
        (b"Name,name\na,b\n", "the column 'name' appears twice"),
    ],
)
def test_unreadable_file_one_line_error_no_traceback(capsys, write_csv, tmp_path, content, message):
    code, stdout, stderr = run(capsys, "score", write_csv(content), "-o", tmp_path / "out.csv")
    assert code != 0
    assert stdout == ""
    assert stderr.startswith("matcher: error: ")
    assert message in stderr
    assert stderr.count("\n") == 1
    assert "Traceback" not in stderr
    assert not (tmp_path / "out.csv").exists()


def test_missing_input_file(capsys, tmp_path):
    code, _, stderr = run(capsys, "score", tmp_path / "nope.csv", "-o", tmp_path / "out.csv")
    assert code != 0
    assert stderr.startswith("matcher: error: ") and "nope.csv" in stderr
    assert stderr.count("\n") == 1


def test_broken_sectors_file(capsys, write_csv, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: hanoi-matcher/sectors\nversion: 7\n", encoding="utf-8")
    code, _, stderr = run(capsys, "score", write_csv(ROWS), "-o", tmp_path / "out.csv", "--sectors", bad)
    assert code != 0
    assert stderr.startswith("matcher: error: ") and "bad.yaml:2: version" in stderr
    assert stderr.count("\n") == 1


def test_bad_arguments_exit_nonzero(capsys):
    with pytest.raises(SystemExit) as info:
        main(["score"])
    assert info.value.code != 0
    assert "usage: matcher" in capsys.readouterr().err


def test_console_script_on_the_sample_profiles(tmp_path):
    # one real subprocess call of the installed `matcher` command
    exe = shutil.which("matcher") or str(tmp_path / "missing-matcher")
    out = tmp_path / "sample_out.csv"
    proc = subprocess.run([exe, "score", str(SAMPLE_CSV), "-o", str(out), "--lang", "ru"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "48 rows: 48 scored" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal
    rows = read_csv(out)
    assert len(rows) == 49
    header = rows[0]
    criteria = [h for h in header if h.startswith("c_")]
    assert len(criteria) == 7
    for row in rows[1:]:
        assert round(sum(float(row[header.index(c)]) for c in criteria), 1) == float(row[header.index("score")])
        assert "из 100" in row[header.index("explanation")]
    assert read_csv(tmp_path / "sample_out.errors.csv")[1:] == []


def test_console_script_error_has_no_traceback(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    proc = subprocess.run([sys.executable, "-m", "matcher.cli", "score", str(empty), "-o", str(tmp_path / "o.csv")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "Traceback" not in proc.stderr


#: Run ``matcher ARGS`` as if the ``web`` extra were not installed: its packages cannot be imported.
WITHOUT_WEB = (
    "import sys\n"
    "for name in ('flask', 'flask_sqlalchemy', 'sqlalchemy', 'alembic', 'flask_wtf', 'wtforms', 'flask_login',\n"
    "             'flask_babel', 'flask_limiter', 'werkzeug', 'redis', 'rq', 'psycopg', 'gunicorn'):\n"
    "    sys.modules[name] = None\n"
    "from matcher.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.mark.parametrize("argv", [["serve", "--port", "1"], ["worker", "--burst"], ["db", "dump", "x.jsonl.gz"]])
def test_web_commands_without_the_web_extra_say_which_extra(tmp_path, argv):
    proc = subprocess.run([sys.executable, "-c", WITHOUT_WEB, *argv], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "matcher: error: the web app needs the extra: pip install 'hanoi-matcher[web]'\n"
    assert list(tmp_path.iterdir()) == []


def test_score_and_assess_need_no_web_extra(tmp_path):
    out = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-c", WITHOUT_WEB, "score", str(SAMPLE_CSV), "-o", str(out), "-q"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert len(read_csv(out)) == 49
    assess = WITHOUT_WEB.replace("from matcher.cli import main\nsys.exit(main(sys.argv[1:]))\n",
                                 "import matcher\nprint(matcher.assess({'name': 'A', 'training': 'yes'}).band)\n")
    proc = subprocess.run([sys.executable, "-c", assess], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "D", "")
