"""Mutation check: for each statistic of the public API, a deliberately wrong variant must make a test fail.

    .venv/bin/python bench/mutations.py             # every mutation; prints one line each and a summary
    .venv/bin/python bench/mutations.py breslow     # those whose names contain a word

Each mutation wraps one public function (in every ``helpers`` module that holds it, so that every import
route sees it) with a classic mistake: Breslow's ties for Efron's, a tied event dropped, a sign flipped,
competing events censored, a normalisation left out. The tests named after the helper then run in a fresh
pytest process with this file as a plugin (``-p mutations``, the mutation named by ``MG_MUTATION``); the
mutation is *killed* when at least one test fails. A mutation that survives means the tests cannot tell
that wrong variant from the right one. The script exits 1 when any survives. It prints figures, it is
not a test: each mutation re-imports the helpers, about ten seconds apiece.
"""

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ENV = "MG_MUTATION"


# --- wrong variants: each takes the original function and returns the mutant ---------------------------

def _drop_a_tie(duration_arg: int = 1, event_arg: int = 2):
    """Leave out one record of the first tied event time (a tie dropped from the data)."""
    def mutate(original):
        def mutant(df, *args, **kwargs):
            duration, event = (df, *args)[duration_arg], (df, *args)[event_arg]
            events = df[df[event] != 0]
            tied = events[events.duplicated(duration, keep=False)]
            return original(df.drop(tied.index[:1]), *args, **kwargs)
        return mutant
    return mutate


def _breslow(original):
    def mutant(*args, **kwargs):
        return original(*args[:5], **{**kwargs, "ties": "breslow"})
    return mutant


def _flip_ratio_frame(original):
    """The sign of every coefficient flipped (a contrast taken the wrong way round)."""
    def mutant(*args, **kwargs):
        out = original(*args, **kwargs).copy()
        ratio = "hr" if "hr" in out else "or"
        out["coef"] = -out["coef"]
        out[ratio], out["lower"], out["upper"] = 1 / out[ratio], 1 / out["upper"], 1 / out["lower"]
        return out
    return mutant


def _censor_competing(original):
    """Competing events treated as censored: 1 − Kaplan–Meier in place of the Aalen–Johansen estimator."""
    def mutant(df, duration, event, cause=1, *args, **kwargs):
        d = df.assign(**{event: np.where(df[event] == cause, cause, 0)})
        return original(d, duration, event, cause, *args, **kwargs)
    return mutant


def _count_competing(original):
    """Every event counted, not only those of the cause."""
    def mutant(df, duration, event, cause=1, *args, **kwargs):
        d = df.assign(**{event: np.where(df[event] != 0, cause, 0)})
        return original(d, duration, event, cause, *args, **kwargs)
    return mutant


def _break_a_tie(original):
    """One tied value nudged apart (ties no longer counted one half)."""
    def mutant(values, groups):
        v = pd.Series(values, dtype=float).reset_index(drop=True)
        first = v[v.duplicated(keep=False)].index[0]
        return original(v.where(v.index != first, v[first] + 1e-9), groups)
    return mutant


def _n_not_n_minus_1(original):
    """Mantel's statistic as N r² instead of (N − 1) r²."""
    def mutant(x, y):
        r = original(x, y)
        n = int((~(pd.isna(pd.Series(x)).to_numpy() | pd.isna(pd.Series(y)).to_numpy())).sum())
        return dataclasses.replace(r, statistic=r.statistic * n / (n - 1))
    return mutant


def _drop_last(original):
    """The last observation left out."""
    def mutant(*args, **kwargs):
        first, *rest = args
        return original(first[:-1] if not isinstance(first, pd.DataFrame) else first.iloc[:-1],
                        *[a[:-1] if hasattr(a, "__len__") and len(a) == len(first) else a for a in rest], **kwargs)
    return mutant


def _yates(original):
    """Yates' continuity correction applied (R's chisq.test default, which the helper turns off)."""
    from scipy import stats

    def mutant(x, y):
        r = original(x, y)
        frame = pd.DataFrame({"x": pd.Series(x).to_numpy(), "y": pd.Series(y).to_numpy()}).dropna()
        res = stats.chi2_contingency(pd.crosstab(frame["x"], frame["y"]).to_numpy(), correction=True)
        return dataclasses.replace(r, statistic=float(res.statistic), pvalue=float(res.pvalue))
    return mutant


def _plain_quantiles(original):
    """Knots at numpy's default quantiles of every value (not Harrell's positions on the unique values)."""
    from helpers.stats.regression import knot_quantiles

    def mutant(x, n_knots=4):
        return np.quantile(np.asarray(x, float)[~np.isnan(np.asarray(x, float))], knot_quantiles(n_knots))
    return mutant


def _unnormalised(original):
    """The spline basis without rms's normalisation by (t_k − t_1)²."""
    def mutant(x, knots):
        out = original(x, knots)
        return out * (knots[-1] - knots[0]) ** 2 if out.shape[1] > 1 else out
    return mutant


def _forward_km(original):
    """Median follow-up from the Kaplan–Meier of the events, not the reverse Kaplan–Meier."""
    def mutant(df, duration, event, *args, **kwargs):
        return original(df.assign(**{event: (df[event] == 0).astype(int)}), duration, event, *args, **kwargs)
    return mutant


def _half_the_se(original):
    """Standard errors halved (the variance taken as the standard error squared twice over)."""
    def mutant(*args, **kwargs):
        out = original(*args, **kwargs).copy()
        out["se"] = out["se"] / 2
        return out
    return mutant


# name: (module, function, wrong variant, test files)
MUTATIONS = {
    "cause_specific_cox: Breslow for Efron": ("helpers.stats.survival", "cause_specific_cox", _breslow, ["test_survival.py"]),
    "cause_specific_cox: sign flipped": ("helpers.stats.survival", "cause_specific_cox", _flip_ratio_frame, ["test_survival.py"]),
    "cause_specific_cox: a tie dropped": ("helpers.stats.survival", "cause_specific_cox", _drop_a_tie(), ["test_survival.py"]),
    "proportional_hazards_test: Breslow for Efron": ("helpers.stats.survival", "proportional_hazards_test", _breslow, ["test_survival.py"]),
    "cumulative_incidence: competing events censored": ("helpers.stats.survival", "cumulative_incidence", _censor_competing, ["test_survival.py"]),
    "gray_test: a tie dropped": ("helpers.stats.survival", "gray_test", _drop_a_tie(), ["test_survival.py"]),
    "incidence_rate: competing events counted": ("helpers.stats.survival", "incidence_rate", _count_competing, ["test_survival.py"]),
    "kaplan_meier: a tie dropped": ("helpers.stats.survival", "kaplan_meier", _drop_a_tie(), ["test_fine_gray.py"]),
    "median_follow_up: forward Kaplan-Meier": ("helpers.stats.survival", "median_follow_up", _forward_km, ["test_follow_up.py"]),
    "fine_gray: sign flipped": ("helpers.stats.finegray", "fine_gray", _flip_ratio_frame, ["test_fine_gray.py"]),
    "fine_gray: a tie dropped": ("helpers.stats.finegray", "fine_gray", _drop_a_tie(), ["test_fine_gray.py"]),
    "fine_gray_cumulative_incidence: a tie dropped": ("helpers.stats.finegray", "fine_gray_cumulative_incidence", _drop_a_tie(), ["test_fine_gray.py"]),
    "standardized_risk: a tie dropped": ("helpers.stats.standardized", "standardized_risk", _drop_a_tie(), ["test_standardized.py"]),
    "standardized_risk: standard errors halved": ("helpers.stats.standardized", "standardized_risk", _half_the_se, ["test_standardized.py"]),
    "jonckheere_terpstra: a tie broken": ("helpers.stats.trend", "jonckheere_terpstra", _break_a_tie, ["test_tables.py"]),
    "linear_by_linear: N for N - 1": ("helpers.stats.trend", "linear_by_linear", _n_not_n_minus_1, ["test_tables.py"]),
    "chi_square: Yates' correction": ("helpers.stats.trend", "chi_square", _yates, ["test_tables.py"]),
    "shapiro_wilk: last value dropped": ("helpers.stats.trend", "shapiro_wilk", _drop_last, ["test_tables.py"]),
    "logistic: sign flipped": ("helpers.stats.regression", "logistic", _flip_ratio_frame, ["test_regression.py"]),
    "harrell_knots: plain quantiles": ("helpers.stats.regression", "harrell_knots", _plain_quantiles, ["test_regression.py"]),
    "rcs_basis: not normalised": ("helpers.stats.regression", "rcs_basis", _unnormalised, ["test_regression.py"]),
    "spline_odds_ratios: last row dropped": ("helpers.stats.regression", "spline_odds_ratios", _drop_last, ["test_regression.py"]),
}


def apply(name: str) -> None:
    """Put mutation ``name`` in place: the function replaced in every loaded ``helpers`` module holding it."""
    import importlib

    module_name, function, variant, _ = MUTATIONS[name]
    module = importlib.import_module(module_name)
    original = getattr(module, function)
    mutant = variant(original)
    for loaded in [m for n, m in list(sys.modules.items()) if n == "helpers" or n.startswith("helpers.")]:
        for attribute, value in list(vars(loaded).items()):
            if value is original:
                setattr(loaded, attribute, mutant)


def pytest_configure(config):  # pytest plugin hook: this file loaded with `-p mutations`
    if os.environ.get(ENV):
        import helpers.regression, helpers.survival, helpers.tables  # noqa: F401,E401  (the public modules)

        apply(os.environ[ENV])


def run(name: str) -> tuple[str, float]:
    files = [str(ROOT / "tests" / f) for f in MUTATIONS[name][3]]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
                             "-p", "mutations", "-m", "not book", *files], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, ENV: name, "COLUMNS": "400", "PYTHONPATH": str(ROOT / "bench") + os.pathsep +
                                 str(ROOT / "tests") + os.pathsep + os.environ.get("PYTHONPATH", "")})
    verdict = {0: "SURVIVED", 1: "killed"}.get(result.returncode, f"error ({result.returncode})")
    if verdict.startswith("error"):
        verdict += " " + (result.stdout + result.stderr).strip().splitlines()[-1][:120]
    # what failed: a kill by an exception inside the mutant (not an assertion) would prove nothing
    failed = next((ln for ln in result.stdout.splitlines() if ln.startswith("FAILED ")), "")
    return verdict + (f"  [{failed.removeprefix('FAILED ')[:150]}]" if failed else ""), time.perf_counter() - started


def main(argv: list[str]) -> int:
    chosen = [n for n in MUTATIONS if not argv or any(w in n for w in argv)]
    verdicts = {}
    for name in chosen:
        verdict, seconds = run(name)
        verdicts[name] = verdict
        print(f"{seconds:5.1f} s  {name}: {verdict}", flush=True)
    killed = sum(v.startswith("killed") for v in verdicts.values())
    print(f"{killed} of {len(verdicts)} mutations killed")
    return 0 if killed == len(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
