"""Benchmark of helpers.survival.fine_gray against R's cmprsk::crr and the comprisk package.

Prints, for synthetic competing-risks data with 10 covariates and tied times, the fit time (crr's
variance included) and peak memory of each size, run in a fresh process; crr's time on the same data
where R is installed, for the sizes it finishes within --crr-max; and comprisk's where a Python that has
it is named with --comprisk-python (it reports only naive or robust standard errors, not crr's).

    .venv/bin/python bench/fine_gray.py
    .venv/bin/python bench/fine_gray.py --sizes 1646 5000 --crr-max 5000 --comprisk-python /tmp/cr/bin/python
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

P = 10


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    """n subjects, 10 covariates (binary and continuous), ~10% events of interest, ~15% competing."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.binomial(1, 0.3, n) if j % 3 == 0 else rng.normal(0, 1, n) for j in range(P)])
    lp = x @ np.linspace(-0.3, 0.3, P)
    t1 = rng.exponential(1 / (0.02 * np.exp(lp)))
    t2 = rng.exponential(1 / 0.03, n)
    cens = rng.uniform(2, 10, n)
    t = np.minimum.reduce([t1, t2, cens])
    status = np.select([t == t1, t == t2], [1, 2], 0)
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(P)])
    frame.insert(0, "status", status)
    frame.insert(0, "time", np.maximum(np.round(t, 2), 0.01))  # days-like resolution: many ties
    return frame


def _child(n: int) -> None:
    import resource

    from helpers.survival import fine_gray

    data = make_data(n)
    covariates = [f"x{j}" for j in range(P)]
    start = time.perf_counter()
    fit = fine_gray(data, "time", "status", covariates)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "converged": fit.attrs["converged"]}))


def _ours(n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _crr(n: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        make_data(n).to_csv(path, index=False)
        script = (
            "suppressPackageStartupMessages(library(cmprsk));"
            f"d <- read.csv('{path}'); x <- as.matrix(d[, -(1:2)]);"
            "s <- system.time(crr(d$time, d$status, x))[['elapsed']]; cat(s)"
        )
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
        return float(out.stdout.strip())


def _comprisk(n: int, python: str | None) -> float | None:
    if not python:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        make_data(n).to_csv(path, index=False)
        code = (
            "import time, pandas as pd, comprisk;"
            f"d = pd.read_csv({path!r}); x = d.iloc[:, 2:].to_numpy();"
            "m = comprisk.FineGrayRegression(cause=1);"
            "s = time.perf_counter(); m.fit(x, time=d['time'].to_numpy(), event=d['status'].to_numpy());"
            "print(time.perf_counter() - s)"
        )
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1646, 5000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--crr-max", type=int, default=5000, help="largest n to time crr at (crr grows ~n²)")
    parser.add_argument("--comprisk-python", default=None, help="a Python interpreter with comprisk installed")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    print(f"Fine–Gray fit with crr's variance, {P} covariates, tied times; fresh process per size")
    print(f"{'n':>10} {'ours (s)':>10} {'peak MB':>9} {'crr (s)':>9} {'crr/ours':>9} {'comprisk (s)':>13}")
    for n in args.sizes:
        ours = _ours(n)
        crr = _crr(n) if n <= args.crr_max else None
        comp = _comprisk(n, args.comprisk_python) if n <= 100_000 else None
        ratio = f"{crr / ours['seconds']:9.0f}" if crr else f"{'':>9}"
        print(
            f"{n:>10,} {ours['seconds']:10.3f} {ours['peak_mb']:9.0f} "
            f"{(f'{crr:9.2f}' if crr is not None else f'{chr(8212):>9}')} {ratio} "
            f"{(f'{comp:13.3f}' if comp is not None else f'{chr(8212):>13}')}"
            + ("" if ours["converged"] else "  (not converged)")
        )


if __name__ == "__main__":
    main()
