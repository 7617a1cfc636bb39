"""Benchmark ``matcher score`` against a plain Arrow read + write of the same file.

Usage::

    python bench/bench_score.py                 # N = 1,000,000 rows
    python bench/bench_score.py --rows 100000 --rows 1000000

For each N it writes a synthetic CSV (mixed Russian/English/Vietnamese descriptions, every
one unique), then runs, each in its own process so peak memory is measured cleanly:

* baseline: pyarrow reads the CSV in chunks and writes it back out, nothing else;
* matcher:  ``matcher score IN.csv -o OUT.csv`` (read, detect sectors, score, write).

It prints wall time, rows/s and peak RSS of both, and the ratio matcher / baseline. The
matcher figures are those of a usual run, with the sector vocabulary that scikit-learn
fitted kept from an earlier run (``MATCHER_CACHE_DIR``); the first run on an empty cache
imports scikit-learn and fits it, and its time is printed too ("cold").
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

FILLER = {
    "en": [
        "Our company",
        "plans to open",
        "an office in Hanoi",
        "with a local partner",
        "and to train staff",
        "for the Vietnamese market",
        "we supply",
        "customers in Southeast Asia",
        "since 2009",
        "and also",
    ],
    "ru": [
        "Наша компания",
        "планирует открыть",
        "представительство в Ханое",
        "совместно с вьетнамским партнёром",
        "и обучать местный персонал",
        "для рынка Вьетнама",
        "мы поставляем",
        "заказчикам в Юго-Восточной Азии",
        "с 2009 года",
        "а также",
    ],
    "vi": [
        "Công ty chúng tôi",
        "dự kiến mở",
        "văn phòng tại Hà Nội",
        "cùng đối tác Việt Nam",
        "và đào tạo nhân viên",
        "cho thị trường Việt Nam",
        "chúng tôi cung cấp",
        "khách hàng Đông Nam Á",
        "từ năm 2009",
        "và cả",
    ],
}
COMMIT = ["committed", "planned", "none", "", "yes", "no", "да", "нет", "có", "không"]
HEADER = [
    "id",
    "name",
    "description",
    "okved",
    "sectors",
    "investment_usd",
    "employees",
    "tech_transfer",
    "training",
    "local_partner",
    "green",
    "esg_report",
    "vietnam_presence",
    "website",
    "contact_email",
    "city",
]


def keywords_by_language() -> dict[str, list[str]]:
    """Every keyword of sectors.yaml, per language, to write descriptions from."""
    import yaml

    data = yaml.safe_load((HERE.parent / "matcher" / "data" / "sectors.yaml").read_text(encoding="utf-8"))
    words: dict[str, list[str]] = {"en": [], "ru": [], "vi": []}
    for sector in data["sectors"].values():
        for lang, items in (sector.get("keywords") or {}).items():
            words[lang].extend(items or [])
    return words


def make_csv(path: Path, n_rows: int, seed: int = 7) -> None:
    """Write ``n_rows`` synthetic profiles; descriptions are unique (a firm name and numbers in each)."""
    rng = random.Random(seed)
    words = keywords_by_language()
    codes = ["62.01", "26.30", "28.99.5", "47.11", "55.10", "41.20", "72.11", "35.11", "", "", "62.01;63.11"]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for i in range(n_rows):
            lang = rng.choice(("en", "ru", "vi"))
            parts = rng.choices(FILLER[lang], k=rng.randint(4, 8)) + rng.choices(words[lang], k=rng.randint(1, 4))
            rng.shuffle(parts)
            desc = f"{' '.join(parts)}. Firm{i} {rng.randint(1, 10**6)}."
            out.writerow(
                [
                    f"B{i}",
                    f"Firm {i}",
                    desc,
                    rng.choice(codes),
                    "",
                    str(rng.randint(10**4, 10**9)),
                    str(rng.randint(1, 20000)),
                    rng.choice(COMMIT),
                    rng.choice(COMMIT),
                    rng.choice(COMMIT),
                    rng.choice(COMMIT),
                    rng.choice(["yes", "no", ""]),
                    rng.choice(["none", "office", "project", ""]),
                    f"https://firm{i}.example",
                    f"info@firm{i}.example",
                    rng.choice(["Moscow", "Kazan", "Томск"]),
                ]
            )


BASELINE = """
import sys, pyarrow as pa, pyarrow.csv as pcsv
src, dst = sys.argv[1], sys.argv[2]
names = open(src, encoding="utf-8").readline().strip().split(",")
reader = pcsv.open_csv(src, read_options=pcsv.ReadOptions(block_size=1 << 23),
                       convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names}))
with pcsv.CSVWriter(dst, reader.schema) as writer:
    for batch in reader:
        writer.write_batch(batch)
"""


def measure(n_rows: int, repeat: int) -> dict[str, float]:
    DATA.mkdir(exist_ok=True)
    src = DATA / f"profiles_{n_rows}.csv"
    if not src.exists():
        print(f"writing {src} ...", flush=True)
        make_csv(src, n_rows)
    size_mb = src.stat().st_size / 2**20
    # RUSAGE_CHILDREN keeps the max over all children, so each run gets a wrapper process
    # of its own that reports the peak of just that run.
    base = min(
        (_child([sys.executable, "-c", BASELINE, str(src), str(DATA / "baseline_out.csv")]) for _ in range(repeat)),
        key=lambda r: r[0],
    )
    cache = DATA / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(os.environ, MATCHER_CACHE_DIR=str(cache))
    command = [sys.executable, "-m", "matcher.cli", "score", str(src), "-o", str(DATA / "scored.csv"), "-q"]
    cold = _child(command, env)  # empty cache: imports scikit-learn, fits and keeps the vocabulary
    score = min((_child(command, env) for _ in range(repeat)), key=lambda r: r[0])
    return {
        "rows": n_rows,
        "mb": size_mb,
        "base_s": base[0],
        "base_mb": base[1],
        "score_s": score[0],
        "score_mb": score[1],
        "cold_s": cold[0],
    }


def _child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one command, measured by a wrapper process of its own."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True, env=env)
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, action="append", help="rows per file (repeatable); default 1,000,000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, best time kept")
    args = parser.parse_args()
    print(
        f"{'rows':>10} {'MB':>7} | {'baseline s':>10} {'rows/s':>10} {'peak MB':>8} | "
        f"{'matcher s':>9} {'rows/s':>10} {'peak MB':>8} | {'ratio':>5} | {'cold s':>6} {'ratio':>6}"
    )
    for n in args.rows or [1_000_000]:
        r = measure(n, args.repeat)
        print(
            f"{r['rows']:>10,} {r['mb']:>7.0f} | {r['base_s']:>10.2f} {n / r['base_s']:>10,.0f} "
            f"{r['base_mb']:>8.0f} | {r['score_s']:>9.2f} {n / r['score_s']:>10,.0f} {r['score_mb']:>8.0f} | "
            f"{r['score_s'] / r['base_s']:>5.2f}x | {r['cold_s']:>6.2f} {r['cold_s'] / r['base_s']:>5.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    main()
