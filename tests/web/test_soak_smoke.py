"""A short run of the load soak (``bench/bench_soak.py``): gunicorn, 4 clients, a few seconds, no error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_short_soak_has_no_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}  # its own SQLite
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_soak.py"),
            "--seconds",
            "4",
            "--clients",
            "4",
            "--workers",
            "1",
            "--threads",
            "4",
            "--batch-rows",
            "300",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = {
        line.split()[0] + " " + line.split()[1]: line.split()
        for line in done.stdout.splitlines()
        if line.startswith(("GET ", "POST ", "batch "))
    }
    for kind in ("GET /assess", "POST /assess/submit", "GET /leads", "POST /batch", "batch job"):
        assert int(lines[kind][2].replace(",", "")) > 0 and lines[kind][-1] == "0", done.stdout
    assert "errors: 0" in done.stdout and "RSS MiB" in done.stdout
