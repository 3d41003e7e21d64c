"""Benchmark of helpers.stats.standardized.standardized_risk against R's riskRegression::ate.

Simulates a cohort (three groups whose membership depends on the covariates, ten covariates, two causes
and censoring, times in days so that events tie), runs standardized_risk with standard errors at times 3
and 5 in a fresh process and prints its wall time and peak memory (resident set size). Where Rscript and
riskRegression are installed, runs ate(CSC(...), se = TRUE) on the same data, at most --r-max patients
because R is slower, and prints its time, our time on the same data and the largest differences.

    .venv/bin/python bench/standardized_risk.py                 # 100,000 patients; R at 20,000
    .venv/bin/python bench/standardized_risk.py --n 20000 --r-max 20000
    .venv/bin/python bench/standardized_risk.py --no-r
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parents[1] / "src"
P = 10
TIMES = (3.0, 5.0)
COVARIATES = [f"x{j}" for j in range(P)]


def make_data(n: int, seed: int = 1, resolution: float = 0.001) -> pd.DataFrame:
    """n patients: group a/b/c (c about 10%), x0..x9 (every third binary), ~20% cause 1, ~12% cause 2 by 5 years."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.binomial(1, 0.4, n) if j % 3 == 0 else rng.normal(0, 1, n) for j in range(P)])
    score = x[:, 1] - 0.5 * x[:, 2] + 0.5 * x[:, 3]
    p_c = 1 / (1 + np.exp(2.4 - 0.8 * score))
    p_b = 1 / (1 + np.exp(0.3 + 0.5 * score))
    u = rng.uniform(size=n)
    group = np.where(u < p_c, "c", np.where(u < p_c + (1 - p_c) * p_b, "b", "a"))
    lp1 = x @ np.linspace(-0.3, 0.3, P) + np.select([group == "b", group == "c"], [-0.3, 0.6], 0.0)
    lp2 = 0.2 * x[:, 0] - 0.2 * x[:, 4] + np.where(group == "c", 0.3, 0.0)
    t1 = rng.exponential(1 / (0.045 * np.exp(lp1)))
    t2 = rng.exponential(1 / (0.025 * np.exp(lp2)))
    cens = rng.uniform(2, 10, n)
    t = np.minimum.reduce([t1, t2, cens])
    status = np.select([t == t1, t == t2], [1, 2], 0)
    frame = pd.DataFrame(x, columns=COVARIATES)
    frame.insert(0, "group", group)
    frame.insert(0, "status", status)
    # Follow-up recorded to ``resolution`` years (0.001 by default, as a registry records dates: the distinct
    # event times grow with n; 1/365.25 gives whole days, where they stop growing at about 3,650).
    frame.insert(0, "time", np.round(np.maximum(np.round(t / resolution), 1) * resolution, 10))
    return frame


def _child(path: str, out: str) -> None:
    import resource

    sys.path.insert(0, str(SRC))
    from helpers.stats.standardized import standardized_risk

    data = pd.read_csv(path, float_precision="round_trip")
    start, cpu = time.perf_counter(), time.process_time()
    result = standardized_risk(data, "time", "status", "group", COVARIATES, TIMES, cause=1)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.to_csv(out, index=False)
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak_mb}))


def _ours(path: str, out: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, __file__, "--child", path, out], capture_output=True, text=True,
                            check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


R_SCRIPT = """
suppressPackageStartupMessages({library(survival); library(riskRegression); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
f <- as.formula(paste("Hist(time, status) ~ group +", paste(sprintf("x%d", 0:9), collapse = " + ")))
s <- system.time({
  fit <- CSC(f, data = d)
  a <- ate(fit, treatment = "group", data = d, times = c(3, 5), cause = 1, se = TRUE, verbose = FALSE)
})[["elapsed"]]
m <- as.data.frame(a$meanRisk)
out <- data.frame(time = m$time, group = as.character(m$treatment), kind = "risk", estimate = m$estimate, se = m$se)
for (kind in c("diffRisk", "ratioRisk")) {
  r <- as.data.frame(a[[kind]]); r <- r[r$A == "a", ]
  out <- rbind(out, data.frame(time = r$time, group = as.character(r$B),
                               kind = if (kind == "diffRisk") "difference" else "ratio",
                               estimate = r$estimate, se = r$se))
}
write.csv(out, args[2], row.names = FALSE)
cat(s, "\\n")
"""


def _r_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    check = subprocess.run(["Rscript", "-e", "library(riskRegression)"], capture_output=True, text=True)
    return check.returncode == 0


def _r(path: str, out: str, tmp: str) -> float:
    script = os.path.join(tmp, "ate.R")
    Path(script).write_text(R_SCRIPT)
    result = subprocess.run(["Rscript", script, path, out], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="patients (default 100000)")
    parser.add_argument("--r-max", type=int, default=20_000,
                        help="largest cohort given to R's ate (default 20000; R is run on min(n, r-max) patients)")
    parser.add_argument("--no-r", action="store_true", help="do not run R")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(args.n)
        path = os.path.join(tmp, "cohort.csv")
        data.to_csv(path, index=False)
        counts = data["status"].value_counts().to_dict()
        print(f"cohort: {args.n} patients, groups {data['group'].value_counts().sort_index().to_dict()}, "
              f"events cause 1 {counts.get(1, 0)}, cause 2 {counts.get(2, 0)}, censored {counts.get(0, 0)}; "
              f"{data.loc[data['status'] > 0, 'time'].nunique()} distinct event times; {P} covariates; times {TIMES}")
        ours = _ours(path, os.path.join(tmp, "ours.csv"))
        print(f"standardized_risk, n = {args.n}: {ours['seconds']:.1f} s ({ours['cpu']:.1f} CPU s), peak memory {ours['peak_mb']:.0f} MB "
              f"(target < 30 s at 100,000; machine load {os.getloadavg()[0]:.1f})", flush=True)

        if args.no_r:
            print("R: skipped (--no-r)")
            return
        if not _r_available():
            print("R: skipped (Rscript with riskRegression is not installed)")
            return
        n_r = min(args.n, args.r_max)
        small = make_data(n_r) if n_r < args.n else data
        path_r = os.path.join(tmp, "cohort_r.csv")
        small.to_csv(path_r, index=False)
        ours_r = _ours(path_r, os.path.join(tmp, "ours_r.csv")) if n_r < args.n else ours
        seconds = _r(path_r, os.path.join(tmp, "r.csv"), tmp)
        mine = pd.read_csv(os.path.join(tmp, "ours_r.csv" if n_r < args.n else "ours.csv"))
        theirs = pd.read_csv(os.path.join(tmp, "r.csv"))
        both = theirs.merge(mine, on=["time", "group", "kind"], suffixes=("_r", ""), validate="one_to_one")
        print(f"riskRegression::ate, n = {n_r}: {seconds:.1f} s; standardized_risk on the same data: "
              f"{ours_r['seconds']:.1f} s, peak {ours_r['peak_mb']:.0f} MB (machine load {os.getloadavg()[0]:.1f})")
        print(f"largest differences against R ({len(both)} rows): estimate "
              f"{np.max(np.abs(both['estimate'] - both['estimate_r'])):.1e} absolute, se "
              f"{np.max(np.abs(both['se'] / both['se_r'] - 1)):.1e} relative")


if __name__ == "__main__":
    main()
