"""Benchmark ``matcher match``: 100,000 leads x 500 opportunities, top 5 each, against a plain Arrow read + write.

Usage::

    python bench/bench_match.py                       # 100,000 leads, 500 opportunities, k = 5
    python bench/bench_match.py --rows 20000 --opportunities 200

It writes the synthetic leads of ``bench_score.py`` and an opportunities file holding the
project's parks plus synthetic projects and partners (random target sectors, asks and capital
minimums) up to the number asked for, then runs, each in its own process so that peak memory
is measured cleanly:

* baseline: pyarrow reads the CSV in chunks and writes it back out, nothing else;
* matcher:  ``matcher match IN.csv --opportunities FILE -o OUT.csv -k 5`` (read, detect sectors,
  one (firms x opportunities) pass per chunk, incentive rules, reasons, write).

It prints wall time and peak RSS of both and the ratio matcher / baseline; the targets are
under 10 s and under 1 GB.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_score import BASELINE, DATA, make_csv  # noqa: E402

ROOT = HERE.parent


def make_opportunities(path: Path, n: int, seed: int = 11) -> None:
    """The project's catalogue plus synthetic projects and partners, ``n`` opportunities in all."""
    data = yaml.safe_load((ROOT / "matcher" / "data" / "opportunities.yaml").read_text(encoding="utf-8"))
    sectors = list(yaml.safe_load((ROOT / "matcher" / "data" / "sectors.yaml").read_text(encoding="utf-8"))["sectors"])
    rng = random.Random(seed)
    asks = ["tech_transfer", "training", "local_partner", "green"]
    for i in range(n - len(data["opportunities"])):
        kind = rng.choice(["project", "partner"])
        opp = {
            "kind": kind,
            "name": {lang: f"{kind} {i} ({lang})" for lang in ("en", "ru", "vi")},
            "targets": {s: rng.choice([0.5, 1.0]) for s in rng.sample(sectors, rng.randint(1, 4))},
            "asks": rng.sample(asks, rng.randint(0, 3)),
            "location_type": rng.choice(["industrial_park", "hi_tech_park", "digital_zone", "other"]),
        }
        if kind == "project":
            opp["capital_min_usd"] = rng.choice([10**5, 10**6, 5 * 10**6, 5 * 10**7])
        data["opportunities"][f"synthetic_{i}"] = opp
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system) and peak RSS (MB) of one command, from a wrapper process of its own.

    CPU time is printed beside wall time because the machines this runs on are often shared:
    a loaded machine stretches the wall time, much less the CPU time the command needed.
    """
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(time.perf_counter() - t, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True, env=env)
    seconds, cpu, peak = out.stdout.split()
    return float(seconds), float(cpu), float(peak)


def measure(n_rows: int, n_opps: int, k: int) -> dict[str, float]:
    DATA.mkdir(exist_ok=True)
    src = DATA / f"profiles_{n_rows}.csv"
    if not src.exists():
        print(f"writing {src} ...", flush=True)
        make_csv(src, n_rows)
    opps = DATA / f"opportunities_{n_opps}.yaml"
    make_opportunities(opps, n_opps)
    base = _child([sys.executable, "-c", BASELINE, str(src), str(DATA / "baseline_out.csv")])
    cache = DATA / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    env = {"MATCHER_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = DATA / "matched.csv"
    command = [
        sys.executable,
        "-m",
        "matcher.cli",
        "match",
        str(src),
        "--opportunities",
        str(opps),
        "-o",
        str(out),
        "-k",
        str(k),
        "-q",
    ]
    subprocess.run(
        [sys.executable, "-m", "matcher.cli", "score", str(src), "-o", str(DATA / "scored.csv"), "-q"],
        check=True,
        env=env,
    )  # fills the vocabulary cache, as any earlier run would
    run = _child(command, env)
    return {
        "rows": n_rows,
        "opps": n_opps,
        "base_s": base[0],
        "base_cpu": base[1],
        "base_mb": base[2],
        "s": run[0],
        "cpu": run[1],
        "mb": run[2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="leads (default 100,000)")
    parser.add_argument("--opportunities", type=int, default=500, help="opportunities (default 500)")
    parser.add_argument("-k", type=int, default=5, help="matches per lead (default 5)")
    args = parser.parse_args()
    r = measure(args.rows, args.opportunities, args.k)
    print(
        f"{'leads':>8} {'opps':>5} | {'baseline s':>10} {'cpu s':>6} {'peak MB':>8} | {'match s':>8} {'cpu s':>6} "
        f"{'pairs/s':>12} {'peak MB':>8} | {'ratio':>6} {'cpu ratio':>9}"
    )
    print(
        f"{r['rows']:>8,} {r['opps']:>5} | {r['base_s']:>10.2f} {r['base_cpu']:>6.2f} {r['base_mb']:>8.0f} | "
        f"{r['s']:>8.2f} {r['cpu']:>6.2f} {r['rows'] * r['opps'] / r['s']:>12,.0f} {r['mb']:>8.0f} | "
        f"{r['s'] / r['base_s']:>5.2f}x {r['cpu'] / r['base_cpu']:>8.2f}x"
    )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    ok = r["s"] < 10 and r["mb"] < 1024
    print("targets (< 10 s, < 1 GB):", "met" if ok else "MISSED")


if __name__ == "__main__":
    main()
