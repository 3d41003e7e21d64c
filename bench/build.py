"""Benchmark of the book build: the shipped book's cold build and no-change rebuild, then a cost table of
every page on registry-sized cohorts.

    .venv/bin/python bench/build.py                                  # shipped book, then 10^4, 10^5, 10^6
    .venv/bin/python bench/build.py --skip-shipped --sizes 10000 100000
    .venv/bin/python bench/build.py --skip-large                     # the shipped book only
    .venv/bin/python bench/build.py --skip-shipped --sizes 100000 --html-of _build   # pages' HTML against the shipped book's

Each build runs in a fresh process into a temporary folder. A registry-sized cohort is the synthetic one
resampled with replacement to n patients (new identifiers) with follow-up jittered by up to ±0.02 year and
recorded to 0.001 year, so that the number of distinct event times grows with n as in a registry (to about
9,000 over nine years). Resampling repeats the synthetic patients' covariates: standardized risks sweep each
distinct covariate row once, so they cost (distinct rows × event times), less than on a registry whose every
patient differs.

The cost table gives each page's execution time (pages run side by side, one per core, so a page's time
includes waiting for the core), the build's wall time and the peak memory of its largest process
(a notebook's kernel or the build itself), and each page's growth exponent: the slope of log(time) against
log(n) between the two largest sizes (1 is linear; n log n over a decade reads about 1.1).
"""

import argparse
import os
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


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes), as ``uptime`` prints them: on a shared machine a
    figure means little without them."""
    return "load " + ", ".join(f"{v:.1f}" for v in os.getloadavg())


def run_build(out: Path, *extra: str, timeout: float | None = None) -> tuple[float, str, float]:
    """Wall seconds, the build's log (with the CPU seconds of all its processes added) and the peak resident
    memory (MB) of its largest process."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
            "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr);"
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); print('PEAK', u.ru_maxrss, 'CPU', u.ru_utime + u.ru_stime);"
            "sys.exit(r.returncode)")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "helpers.pipeline.build", "--out",
                             str(out), *extra], capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    peak = float(re.findall(r"PEAK (\d+)", result.stdout)[-1]) / 1024
    cpu = float(re.findall(r"CPU ([\d.]+)", result.stdout)[-1])
    return seconds, result.stdout + f"\nCPU seconds of every process: {cpu:.0f}\n", peak


def page_times(log: str) -> dict[str, float]:
    return {name: float(s) for name, s in re.findall(r"executed (.+?) in ([\d.]+) s", log)}


def report_steps(log: str, wall: float) -> None:
    """Per-notebook execution times (slowest first), jupyter-book's time and the remainder of the wall time."""
    executed = sorted(page_times(log).items(), key=lambda item: -item[1])
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
    cpu = re.findall(r"CPU seconds of every process: (\d+)", log)
    if cpu:  # wall time depends on the machine's load; the CPU time much less
        print(f"CPU seconds of every process of the build (notebooks' kernels and workers, jupyter-book): {cpu[-1]}")
    print(f"the rest (validation, staging, publishing, starting Python): {wall - notebooks - jupyter_book:6.1f} s")


def registry_cohort(n: int, path: Path, seed: int = 1) -> int:
    """The synthetic cohort resampled to n patients, follow-up jittered and recorded to 0.001 year;
    returns the number of distinct event times."""
    cohort = pd.read_csv(ROOT / "data" / "cohort.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(seed)
    sample = cohort.iloc[rng.integers(0, len(cohort), n)].reset_index(drop=True)
    sample["patient_id"] = [f"L{i:08d}" for i in range(n)]
    years = pd.to_numeric(sample["followup_years"], errors="coerce").to_numpy()
    jittered = np.round(np.clip(years + rng.uniform(-0.02, 0.02, n), 0.001, None), 3)
    sample["followup_years"] = np.where(np.isnan(years), "", pd.Series(jittered).map("{:.3f}".format))
    sample.to_csv(path, index=False)
    status = pd.to_numeric(sample["status"], errors="coerce")
    return int(pd.Series(jittered)[status.to_numpy() > 0].nunique())


def html_sizes(out: Path) -> dict[str, float]:
    """Each page of a built book: its HTML file and the images it shows (kB)."""
    html, sizes = out / "html", {}
    for page in sorted(html.glob("*/*.html")):
        if page.parent.name in ("notebooks", "book"):
            images = set(re.findall(r'src="\.\./(_images/[^"]+)"', page.read_text(encoding="utf-8")))
            sizes[page.relative_to(html).with_suffix("").as_posix()] = (
                page.stat().st_size + sum((html / i).stat().st_size for i in images if (html / i).is_file())) / 1000
    return sizes


def report_html(sizes: dict[int, dict[str, float]]) -> None:
    """Each page's HTML size at each n: scatter-like figures and at-risk tables are binned for display, so no
    page should grow with the patients (the issue's goal); the largest ratio is printed."""
    done = sorted(sizes)
    pages = sorted({p for n in done for p in sizes[n]})
    print(f"\n{'page HTML + images (kB)':<40}" + "".join(f"{f'n = {n:.0e}':>12}" for n in done) + f"{'largest/smallest':>18}")
    ratios = []
    for page in pages:
        cells = [sizes[n].get(page, float("nan")) for n in done]
        ratio = max(cells) / min(cells) if min(cells) > 0 else float("nan")
        ratios.append(ratio)
        print(f"{page:<40}" + "".join(f"{c:12.0f}" for c in cells) + f"{ratio:18.2f}")
    print(f"largest growth of any page's HTML over these sizes: {max(ratios):.2f}x")


def cost_table(sizes: list[int], timeout: float, shipped: Path | None = None) -> None:
    rows, peaks, walls, cpus, html = {}, {}, {}, {}, {}
    if shipped:  # a book built on the shipped cohort (2,000 patients): the HTML sizes to compare with
        html[len(pd.read_csv(ROOT / "data" / "cohort.csv", usecols=[0]))] = html_sizes(shipped)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in sizes:
            data = tmp / f"cohort_{n}.csv"
            times = registry_cohort(n, data)
            params = tmp / f"params_{n}.yml"
            params.write_text(f"cohort_csv: {data}\n")
            print(f"n = {n:,}: building ({load()})", flush=True)
            try:
                wall, log, peak = run_build(tmp / f"book_{n}", "--no-cache", "--params", str(params), timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"n = {n:,}: stopped after {timeout:.0f} s", flush=True)
                continue
            rows[n], peaks[n], walls[n] = page_times(log), peak, wall
            cpus[n] = float(re.findall(r"CPU seconds of every process: (\d+)", log)[-1])
            html[n] = html_sizes(tmp / f"book_{n}")
            print(f"n = {n:,} ({times:,} distinct event times): whole book {wall:.0f} s, peak memory {peak:,.0f} MB "
                  f"({load()} at the end)", flush=True)
    done = sorted(rows)
    if not done:
        return
    pages = sorted({p for n in done for p in rows[n]}, key=lambda p: -rows[done[-1]].get(p, 0.0))
    head = "".join(f"{f'n = {n:.0e}':>12}" for n in done)
    print(f"\n{'page (seconds)':<40}{head}{'exponent':>10}")
    for page in pages:
        cells = "".join(f"{rows[n].get(page, float('nan')):12.1f}" for n in done)
        print(f"{page:<40}{cells}{_exponent(done, [rows[n].get(page, np.nan) for n in done]):>10}")
    print(f"{'whole book (wall)':<40}" + "".join(f"{walls[n]:12.0f}" for n in done) + _exponent(done, [walls[n] for n in done]).rjust(10))
    print(f"{'CPU seconds, every process':<40}" + "".join(f"{cpus[n]:12.0f}" for n in done) + _exponent(done, [cpus[n] for n in done]).rjust(10))
    print(f"{'peak memory (MB)':<40}" + "".join(f"{peaks[n]:12,.0f}" for n in done))
    print("targets at n = 10^6: whole book < 300 s, peak memory < 8,192 MB")
    if len(html) > 1:
        report_html(html)


def _exponent(sizes, seconds) -> str:
    if len(sizes) < 2 or not np.all(np.isfinite(seconds[-2:])) or min(seconds[-2:]) <= 0:
        return "—"
    return f"{np.log(seconds[-1] / seconds[-2]) / np.log(sizes[-1] / sizes[-2]):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="only the shipped book's cold and no-change builds")
    parser.add_argument("--skip-shipped", action="store_true", help="only the cost table")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds before a build is stopped")
    parser.add_argument("--html-of", type=Path, default=None, metavar="OUT",
                        help="a book built on the shipped cohort (mg-book --out OUT): its pages' HTML sizes are "
                             "compared with those at each n")
    args = parser.parse_args()
    if not args.skip_shipped:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            before = load()
            cold, log, peak = run_build(tmp / "book", "--no-cache")
            print(f"cold build (environment installed): {cold:6.1f} s   target < 60 s (peak memory {peak:,.0f} MB; "
                  f"{before} before, {load()} after)", flush=True)
            for _ in range(3):
                warm, warm_log, _ = run_build(tmp / "book")
                print(f"no-change rebuild:                  {warm:6.1f} s   target < 2 s   "
                      f"({warm_log.strip().splitlines()[0]}; {load()})", flush=True)
            report_steps(log, cold)
    if not args.skip_large:
        cost_table(args.sizes, args.timeout, args.html_of)


if __name__ == "__main__":
    main()
