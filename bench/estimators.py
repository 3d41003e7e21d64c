"""Micro-benchmark of every estimator of helpers.stats at registry scale: seconds and peak memory.

Each estimator runs once per size in a fresh process on a simulated registry: ten covariates, a
three-level group, two causes and censoring, follow-up recorded to 0.001 year (so the number of distinct
event times grows with n, to about 10,000). Standardized risks and multiple imputation are the costliest
(their cost grows with patients × event times and with imputations × cycles): they run at the sizes
given by --large-sizes.

    .venv/bin/python bench/estimators.py                       # 10^5 and 10^6
    .venv/bin/python bench/estimators.py --sizes 10000000      # 10^7 (about 4 GB for the largest fit)
    .venv/bin/python bench/estimators.py --only cox fine_gray --sizes 1000000

Wall and CPU seconds are printed: on a shared machine the CPU seconds are the steadier figure (BLAS and
the kernels run with one thread). Run each size once, on a quiet machine if you can.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
P = 10
COVARIATES = [f"x{j}" for j in range(P)]
GROUPED = ["grp_b", "grp_c", *COVARIATES]


def registry(n: int, seed: int = 1) -> pd.DataFrame:
    """n patients: group a/b/c, x0..x9 (every third binary), ~20% cause 1 and ~12% cause 2 by 5 years,
    censoring uniform on 2–10 years, times to 0.001 year, a marker missing for 30%."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.binomial(1, 0.4, n) if j % 3 == 0 else rng.normal(0, 1, n) for j in range(P)])
    group = rng.choice(np.array(["a", "b", "c"]), n, p=[0.5, 0.4, 0.1])
    lp1 = x @ np.linspace(-0.3, 0.3, P) + np.select([group == "b", group == "c"], [-0.3, 0.6], 0.0)
    t1 = rng.exponential(1 / (0.045 * np.exp(lp1)))
    t2 = rng.exponential(1 / (0.025 * np.exp(0.2 * x[:, 0] - 0.2 * x[:, 4])))
    t = np.minimum.reduce([t1, t2, rng.uniform(2, 10, n)])
    frame = pd.DataFrame(x, columns=COVARIATES)
    frame.insert(0, "group", group)
    frame["grp_b"], frame["grp_c"] = (group == "b").astype(float), (group == "c").astype(float)
    frame.insert(0, "status", np.select([t == t1, t == t2], [1, 2], 0))
    frame.insert(0, "time", np.round(np.maximum(np.round(t, 3), 0.001), 3))
    frame["progressed"] = (rng.uniform(size=n) < 1 / (1 + np.exp(1.5 - lp1))).astype(float)
    frame["marker"] = np.where(rng.uniform(size=n) < 0.3, np.nan, frame["x1"] + rng.normal(0, 1, n))
    return frame


def _estimators():
    from helpers import regression, survival
    from helpers.stats import imputation, survival as stats_survival
    from helpers.stats.finegray_time import fine_gray_time_interaction

    return {
        "cox": lambda d: survival.cause_specific_cox(d, "time", "status", GROUPED),
        "schoenfeld+ph_test": lambda d: stats_survival.fit_cox(d, "time", "status", GROUPED).ph_test(),
        "fine_gray": lambda d: survival.fine_gray(d, "time", "status", GROUPED),
        "fine_gray_time (grp × log t)": lambda d: fine_gray_time_interaction(d, "time", "status", GROUPED,
                                                                              ["grp_b", "grp_c"]),
        "aalen_johansen": lambda d: survival.cumulative_incidence(d, "time", "status", group="group"),
        "gray_test": lambda d: survival.gray_test(d, "time", "status", "group"),
        "kaplan_meier": lambda d: survival.kaplan_meier(d, "time", "status"),
        "logistic": lambda d: regression.logistic(d, "progressed", GROUPED),
        "standardized_risk": lambda d: survival.standardized_risk(d, "time", "status", "group", COVARIATES, [3.0, 5.0]),
        "multiple_imputation (5 × 5 cycles)": lambda d: imputation.multiple_imputation_cox(
            d, "time", "status", [*GROUPED, "marker"], ["marker"], imputations=5, cycles=5),
    }


LARGE = ("standardized_risk", "multiple_imputation (5 × 5 cycles)")


def _child(name: str, n: int) -> None:
    data = registry(n)
    estimator = _estimators()[name]  # imports outside the timing
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    estimator(data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024, "data_mb": before / 1024,
                      "event_times": int(data.loc[data["status"] > 0, "time"].nunique())}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--large-sizes", type=int, nargs="+", default=[100_000],
                        help="sizes at which standardized risks and multiple imputation run (default 100000)")
    parser.add_argument("--only", nargs="+", default=None, help="estimators to run (names as printed)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    print("machine load (1, 5, 15 min): " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    print(f"{'estimator':<36} {'n':>11} {'event times':>11} {'seconds':>8} {'CPU s':>8} {'peak MB':>8}  (before the fit; 1-min load after)")
    for name in _estimators():
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        for n in (args.large_sizes if name in LARGE else args.sizes):
            if n <= 0:
                continue
            run = subprocess.run([sys.executable, __file__, "--child", name, str(n)], capture_output=True,
                                 text=True, env=env)
            if run.returncode:
                print(f"{name:<36} {n:>11,} failed: {run.stderr.strip().splitlines()[-1]}")
                continue
            r = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"{name:<36} {n:>11,} {r['event_times']:>11,} {r['seconds']:>8.2f} {r['cpu']:>8.2f} {r['peak_mb']:>8,.0f}  "
                  f"({r['data_mb']:,.0f}; load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
