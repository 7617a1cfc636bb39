"""A short run of the load soak (``bench/bench_soak.py``): gunicorn, 4 clients, a few seconds, no error."""

from __future__ import annotations

from web_testlib import run_bench


def test_short_soak_has_no_error(tmp_path):
    out = run_bench(  # its own SQLite
        "bench_soak.py",
        *("--seconds", "4", "--clients", "4", "--workers", "1", "--threads", "4", "--batch-rows", "300"),
        cwd=tmp_path,
    )
    lines = {
        line.split()[0] + " " + line.split()[1]: line.split()
        for line in out.splitlines()
        if line.startswith(("GET ", "POST ", "batch "))
    }
    for kind in ("GET /assess", "POST /assess/submit", "GET /leads", "POST /batch", "batch job"):
        assert int(lines[kind][2].replace(",", "")) > 0 and lines[kind][-1] == "0", out
    assert "errors: 0" in out and "RSS MiB" in out
