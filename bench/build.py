"""Benchmark of the book build: where a cold build's time goes, the no-change rebuild, a 100,000-patient run.

    .venv/bin/python bench/build.py               # all of it
    .venv/bin/python bench/build.py --skip-large  # without the 100,000-patient cohort

A cold build's time is split into its steps: each notebook's execution (notebooks run side by side, one
per core, so their sum exceeds the wall time), jupyter-book's HTML build, and the rest (validation,
staging, publishing). The test suite's own figures come from bench/tests.py.

Each build runs in a fresh process into a temporary folder. The large cohort is the synthetic one
resampled with replacement to 100,000 patients (new identifiers); its peak memory is that of the largest
process (a notebook's kernel or the build itself).
"""

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def run_build(out: Path, *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(out), *extra],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return time.perf_counter() - start, result.stdout


def report_steps(log: str, wall: float) -> None:
    """Per-notebook execution times (slowest first), jupyter-book's time and the remainder of the wall time."""
    executed = sorted(((name, float(s)) for name, s in re.findall(r"executed (.+?) in ([\d.]+) s", log)),
                      key=lambda item: -item[1])
    html = re.search(r"built the HTML in ([\d.]+) s", log)
    jupyter_book = float(html.group(1)) if html else 0.0
    print("per notebook (executed side by side, one per core):")
    for name, seconds in executed:
        print(f"  {name:<48} {seconds:6.1f} s")
    phase = re.search(r"ran (\d+) notebook\(s\) in ([\d.]+) s, (\d+) at a time", log)
    notebooks = float(phase.group(2)) if phase else 0.0
    print(f"  {'sum of the notebooks':<48} {sum(s for _, s in executed):6.1f} s")
    print(f"  {'wall time of the notebooks' + (f' ({phase.group(3)} at a time)' if phase else ''):<48} {notebooks:6.1f} s")
    print(f"jupyter-book (HTML):                {jupyter_book:6.1f} s")
    print(f"the rest (validation, staging, publishing, starting Python): {wall - notebooks - jupyter_book:6.1f} s")


def large_cohort(n: int, path: Path) -> None:
    cohort = pd.read_csv(ROOT / "data" / "cohort.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(1)
    sample = cohort.iloc[rng.integers(0, len(cohort), n)].reset_index(drop=True)
    sample["patient_id"] = [f"L{i:07d}" for i in range(n)]
    sample.to_csv(path, index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold, log = run_build(tmp / "book", "--no-cache")
        warm, warm_log = run_build(tmp / "book")
        print(f"cold build (environment installed): {cold:6.1f} s   target < 60 s")
        print(f"no-change rebuild:                  {warm:6.1f} s   target < 5 s   ({warm_log.strip().splitlines()[0]})")
        report_steps(log, cold)
        if args.skip_large:
            return
        data = tmp / "large.csv"
        large_cohort(args.patients, data)
        params = tmp / "large.yml"
        params.write_text(f"cohort_csv: {data}\n")
        seconds, _ = run_build(tmp / "large", "--no-cache", "--params", str(params))
        peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        print(f"whole pipeline, {args.patients:,} patients: {seconds:6.1f} s, peak memory {peak / 1024:,.0f} MB "
              "(largest process)   target < 300 s and < 4,096 MB")


if __name__ == "__main__":
    main()
