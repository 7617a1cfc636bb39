"""Tests for matcher/cli.py: `matcher score IN.csv -o OUT.csv` (in process and as a real command)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import pytest
from matcher_testlib import ROOT, SAMPLE_CSV, read_csv

import matcher
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
    [
        ("ru", ["из 100", "отрасль ИТ и программное обеспечение"]),
        ("vi", ["/100 điểm", "ngành Công nghệ thông tin và phần mềm"]),
        ("en", ["of 100", "sector IT and software"]),
    ],
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
    proc = subprocess.run(
        [exe, "score", str(SAMPLE_CSV), "-o", str(out), "--lang", "ru"], capture_output=True, text=True, timeout=60
    )
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
    proc = subprocess.run(
        [sys.executable, "-m", "matcher.cli", "score", str(empty), "-o", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "Traceback" not in proc.stderr


# --- version, help and exit statuses ------------------------------------------------------------


def command(*argv, stdin: bytes | None = None, env: dict | None = None, cwd=None):
    """Run ``python -m matcher.cli`` of this tree as a real command; return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "matcher.cli", *map(str, argv)],
        input=stdin,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_version_prints_the_package_version():
    proc = command("--version")
    assert (proc.returncode, proc.stdout.decode(), proc.stderr) == (0, f"matcher {matcher.__version__}\n", b"")


def test_help_lists_the_exit_statuses_and_standard_streams(capsys):
    for argv in (["--help"], ["score", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
        text = capsys.readouterr().out
        for code, meaning in [
            ("0", "done"),
            ("2", "usage"),
            ("3", "input"),
            ("4", "output"),
            ("5", "Redis"),
            ("141", "closed"),
        ]:
            assert any(line.split()[:1] == [code] and meaning in line for line in text.splitlines()), (code, text)
    assert "standard input" in text and "-o -" in text and "--errors FILE" in text


@pytest.mark.parametrize(
    ("make_args", "code", "shown"),
    [
        (lambda p, t: ["score", t / "nope.csv", "-o", t / "o.csv"], 3, "nope.csv: no such file"),
        (lambda p, t: ["score", t, "-o", t / "o.csv"], 3, "is a directory, not a CSV file"),
        (lambda p, t: ["score", p(b""), "-o", t / "o.csv"], 3, "the file is empty"),
        (lambda p, t: ["score", p(b"id\n1\n"), "-o", t / "o.csv"], 3, "no 'name' column"),
        (
            lambda p, t: ["score", p(b"name\nA\n"), "-o", t / "o.csv", "--sectors", p(b"version: 7\n", "s.yaml")],
            3,
            "s.yaml",
        ),
        (lambda p, t: ["score", p(b"name\nA\n"), "-o", ""], 4, "-o/--output is empty"),
        (lambda p, t: ["score", p(b"name\nA\n"), "-o", t], 4, "{t}: is a directory"),
        (lambda p, t: ["score", p(b"name\nA\n"), "-o", t / "no" / "o.csv"], 4, "{t}/no/o.csv: cannot write"),
        (
            lambda p, t: ["score", p(b"name\nA\n"), "-o", t / "o.csv", "--errors", t / "no" / "e.csv"],
            4,
            "{t}/no/e.csv: cannot write",
        ),
    ],
    ids=[
        "missing",
        "directory",
        "empty",
        "no-name",
        "bad-sectors",
        "empty-output",
        "output-directory",
        "output-folder-missing",
        "errors-folder-missing",
    ],
)
def test_each_failure_has_its_exit_status_and_one_line(capsys, write_csv, tmp_path, make_args, code, shown):
    code_got, stdout, stderr = run(capsys, *make_args(lambda data, name="in.csv": write_csv(data, name=name), tmp_path))
    assert (code_got, stdout) == (code, "")
    assert stderr.startswith("matcher: error: ") and stderr.count("\n") == 1
    assert shown.format(t=tmp_path) in stderr


def test_usage_error_is_argparse_status_2():
    proc = command("score", "in.csv")  # no -o
    assert proc.returncode == 2 and b"usage: matcher score" in proc.stderr


def test_unwritable_output_names_the_users_path_not_a_temporary_file(write_csv, tmp_path):
    # The output is a link into a folder that does not exist: found only when the file is opened.
    (tmp_path / "out.csv").symlink_to(tmp_path / "gone" / "out.csv")
    proc = command("score", write_csv(ROWS), "-o", "out.csv", cwd=tmp_path)
    stderr = proc.stderr.decode()
    assert proc.returncode == 4
    assert stderr == "matcher: error: out.csv: cannot write: No such file or directory\n"
    assert not list(tmp_path.glob("*.arrow"))


def test_library_names_the_output_path_when_its_folder_is_missing(scorer, write_csv, tmp_path):
    from matcher.batch import score_file

    out = tmp_path / "gone" / "out.csv"
    with pytest.raises(OSError) as info:
        score_file(write_csv(ROWS), out, scorer)
    assert info.value.filename == str(out) and ".arrow" not in str(info.value)


# --- standard input and output -------------------------------------------------------------------


def test_stdin_input_gives_the_file_output_and_leaves_no_spool(write_csv, tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    path = write_csv(ROWS)
    assert command("score", path, "-o", tmp_path / "file.csv", "-q").returncode == 0
    proc = command("score", "-", "-o", tmp_path / "stdin.csv", stdin=path.read_bytes(), env={"TMPDIR": str(spool)})
    assert proc.returncode == 0, proc.stderr
    assert read_csv(tmp_path / "stdin.csv") == read_csv(tmp_path / "file.csv")
    assert read_csv(tmp_path / "stdin.errors.csv") == read_csv(tmp_path / "file.errors.csv")
    assert list(spool.iterdir()) == []  # the spooled input is removed


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_stdout_output_with_errors_told_on_stderr(write_csv, tmp_path, fmt):
    path = write_csv(ROWS)
    assert command("score", path, "-o", tmp_path / f"file.{fmt}", "--format", fmt, "-q").returncode == 0
    proc = command("score", path, "-o", "-", "--format", fmt, cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == (tmp_path / f"file.{fmt}").read_bytes()
    lines = proc.stderr.decode().splitlines()
    assert lines[0].startswith("row 4, okved: ") and "OKVED" in lines[0]
    assert lines[1].startswith("3 rows: 2 scored -> stdout, 1 errors -> stderr")
    assert len(lines) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"file.{fmt}", "file.errors.csv", "in.csv"])


def test_stdout_output_with_an_errors_file(write_csv, tmp_path):
    proc = command("score", "-", "-o", "-", "--errors", tmp_path / "e.csv", "-q", stdin=write_csv(ROWS).read_bytes())
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert [r[1] for r in csv.reader(io.StringIO(proc.stdout.decode()))][1:] == ["ООО «Софт»", "Hotel Ltd"]
    assert read_csv(tmp_path / "e.csv")[1][:2] == ["4", "okved"]


def test_closed_stdout_stops_quietly(tmp_path):
    lines = ["name,okved,description"] + [f"Firm {i},62.01,software" for i in range(20_000)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with subprocess.Popen(
        [sys.executable, "-m", "matcher.cli", "score", str(path), "-o", "-"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout.readline().startswith(b'"name","okved"')
        proc.stdout.close()  # as `| head -1` does
        stderr = proc.stderr.read()
        assert proc.wait(timeout=120) == 141
    assert stderr == b""


# --- line ends -------------------------------------------------------------------------------------


def test_cr_only_file_scores_like_lf(capsys, write_csv, tmp_path):
    text = "\n".join(",".join(row) for row in ROWS) + "\n"
    assert run(capsys, "score", write_csv(text, name="lf.csv"), "-o", tmp_path / "lf_out.csv")[0] == 0
    code, _, stderr = run(
        capsys, "score", write_csv(text.replace("\n", "\r"), name="cr.csv"), "-o", tmp_path / "cr_out.csv"
    )
    assert (code, "Traceback" in stderr) == (0, False)
    assert read_csv(tmp_path / "cr_out.csv") == read_csv(tmp_path / "lf_out.csv")
    assert read_csv(tmp_path / "cr_out.errors.csv") == read_csv(tmp_path / "lf_out.errors.csv")


def test_header_only_file_without_final_newline(capsys, write_csv, tmp_path):
    code, _, stderr = run(capsys, "score", write_csv("name,okved,description"), "-o", tmp_path / "out.csv")
    assert code == 0 and stderr.startswith("0 rows: 0 scored")
    rows = read_csv(tmp_path / "out.csv")
    assert len(rows) == 1 and rows[0][:4] == ["name", "okved", "description", "score"]
    assert read_csv(tmp_path / "out.errors.csv") == [["row", "column", "reason", "name", "okved", "description"]]


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
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_WEB, *argv], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "matcher: error: the web app needs the extra: pip install 'hanoi-matcher[web]'\n"
    assert list(tmp_path.iterdir()) == []


def test_score_and_assess_need_no_web_extra(tmp_path):
    out = tmp_path / "out.csv"
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_WEB, "score", str(SAMPLE_CSV), "-o", str(out), "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert len(read_csv(out)) == 49
    assess = WITHOUT_WEB.replace(
        "from matcher.cli import main\nsys.exit(main(sys.argv[1:]))\n",
        "import matcher\nprint(matcher.assess({'name': 'A', 'training': 'yes'}).band)\n",
    )
    proc = subprocess.run([sys.executable, "-c", assess], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "D", "")


def test_russian_office_file_round_trips_in_its_encoding_with_warnings_and_reasons_in_russian(capsys, tmp_path):
    source = (
        "Название;Инвестиции;Сотрудники;Обучение;Комментарий\n"
        "ООО Ромашка;1 500 000;120;да;позвонить\nАО Бета;много;10;нет;\n"
    )
    path = tmp_path / "in.csv"
    path.write_bytes(source.encode("cp1251"))
    out = tmp_path / "out.csv"
    code, _, stderr = run(capsys, "score", path, "-o", out, "--encoding", "input", "--lang", "ru")
    assert code == 0
    scored = out.read_bytes().decode("cp1251")  # strict: every byte is Windows-1251
    assert scored.startswith('"Название";"Инвестиции";"Сотрудники";"Обучение";"Комментарий";"score"')
    assert '"ООО Ромашка"' in scored and "из 100" in scored
    report = (tmp_path / "out.errors.csv").read_bytes().decode("cp1251")
    assert "3;investment_usd;ожидается сумма в долларах США" in report
    assert stderr.splitlines()[-1] == (
        "matcher: warning: столбцы, не учтённые при оценке (переданы без изменений), 1: 'Комментарий'"
    )


def test_utf8_bom_output_and_errors_told_on_stderr_in_vietnamese(capsys, write_csv, tmp_path):
    path = write_csv([["Tên", "Số nhân viên"], ["Công ty A", "nhiều"], ["Công ty B", "20"]])
    out = tmp_path / "out.csv"
    code, _, stderr = run(capsys, "score", path, "-o", out, "--encoding", "utf-8-bom", "--lang", "vi", "-q")
    assert code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_csv(out, encoding="utf-8-sig")[0][:2] == ["Tên", "Số nhân viên"]
    code, stdout, stderr = run(capsys, "score", path, "-o", "-", "--encoding", "utf-8-bom", "--lang", "vi")
    assert "row 2, employees: cần một số nguyên, ví dụ 250" in stderr.splitlines()


def test_weights_file_errors_are_one_line_with_exit_status_3(capsys, write_csv, tmp_path):
    path = write_csv(ROWS)
    out = tmp_path / "out.csv"
    code, _, stderr = run(capsys, "score", path, "-o", out, "--weights", tmp_path / "none.yaml")
    assert (code, stderr) == (3, f"matcher: error: {tmp_path / 'none.yaml'}: no such weights file\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: hanoi-matcher-weights/1\nweights: {criteria: {training: -1}}\n", encoding="utf-8")
    code, _, stderr = run(capsys, "score", path, "-o", out, "--weights", bad)
    assert code == 3 and stderr.startswith("matcher: error: criteria.training: must be between 0")
    assert stderr.count("\n") == 1 and not out.exists()


def test_jobs_option_scores_in_worker_processes_alike(capsys, write_csv, tmp_path):
    path = write_csv(ROWS * 40)
    outputs = []
    for jobs in ("0", "2"):
        out = tmp_path / f"out{jobs}.csv"
        code, _, stderr = run(capsys, "score", path, "-o", out, "--jobs", jobs, "--lang", "vi")
        assert code == 0, stderr
        outputs.append((out.read_bytes(), (tmp_path / f"out{jobs}.errors.csv").read_bytes()))
    assert outputs[0] == outputs[1]


@pytest.mark.parametrize("value", ["two", "-1", "65"])
def test_jobs_option_refuses_what_is_not_a_count(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["score", "in.csv", "-o", "out.csv", "--jobs", value])
    assert info.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_a_worker_that_dies_is_one_line_and_status_1(write_csv, tmp_path):
    """A worker killed (the out-of-memory killer, say) ends the command with one line, not a traceback."""
    path = write_csv(ROWS * 200)
    code = (
        "import os, signal, sys\n"
        "import matcher.batch as batch\n"
        "real = batch._score_chunk\n"
        "def dying(*args):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "batch._score_chunk = dying\n"
        "from matcher.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "score", str(path), "-o", str(tmp_path / "o.csv"), "-j", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("matcher: error: a worker process stopped") and proc.stderr.count("\n") == 1
