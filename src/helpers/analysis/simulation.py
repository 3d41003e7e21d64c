"""Parameter recovery: do the estimators find hazard ratios planted in data shaped like the thesis's?

Cohorts of 1,646 patients with groups of 37, 914 and 695 (the thesis's sizes) are drawn with a planted
hazard ratio for the low and high magnesium groups; each replicate is fitted, and the estimates are
summarised as bias, the standard deviation of the estimates, the mean standard error and the coverage
of the 95% confidence intervals.

Two designs, because the two models estimate different things when events compete:
- cause-specific: exponential latent times with proportional cause-specific hazards; the planted value
  is the cause-specific HR, fitted by ``survival.cause_specific_cox``;
- subdistribution: Fine and Gray's (1999) design, F₁(t | x) = 1 − [1 − p(1 − e^(−t))]^exp(x'β), in which
  the subdistribution hazard is proportional; fitted by ``survival.fine_gray``.

Each replicate draws from its own seed (from ``numpy.random.SeedSequence(seed)``) and replicates are
independent, so they run through any ``map(function, items) -> list``: a plain loop by default, local
processes or a Dask cluster from ``helpers.pipeline.distributed.mapper``, with identical results for the
same seed (``tests/test_distributed.py`` compares a local run with a Dask ``LocalCluster``).
"""

import numpy as np
import pandas as pd

from helpers.stats import finegray, survival
from helpers.stats._common import Z95, local_map

SIZES = (37, 914, 695)  # low, reference, high: the thesis's groups
PLANTED = {"mg_low": np.log(2.53), "mg_high": np.log(0.93)}  # the thesis's Model 4 estimates
AGE_LOG_HR = np.log(1.04)


def _cohort(rng):
    n = sum(SIZES)
    group = np.repeat([0, 1, 2], SIZES)
    age = rng.normal(54, 12, n)
    x = pd.DataFrame({"mg_low": (group == 0).astype(float), "mg_high": (group == 2).astype(float), "age": age})
    lp = x["mg_low"] * PLANTED["mg_low"] + x["mg_high"] * PLANTED["mg_high"] + AGE_LOG_HR * (age - 54)
    return x, lp.to_numpy()


def _cause_specific(rng):
    x, lp = _cohort(rng)
    n = len(x)
    t1 = rng.exponential(1 / (0.02 * np.exp(lp)))
    t2 = rng.exponential(1 / 0.04, n)
    censor = rng.uniform(3, 9, n)
    time = np.minimum.reduce([t1, t2, censor])
    status = np.select([time == t1, time == t2], [1, 2], 0)
    return x.assign(time=np.round(time, 3) + 0.001, status=status)


def _subdistribution(rng, p: float = 0.15):
    x, lp = _cohort(rng)
    n = len(x)
    # P(cause 1) = 1 − (1 − p)^exp(lp); given cause 1, invert F1 for the time; else exponential(exp(lp)).
    u = rng.uniform(size=n)
    share = 1 - (1 - p) ** np.exp(lp)
    cause1 = u < share
    v = rng.uniform(size=n)
    # Conditional on cause 1: F1(t)/F1(inf) = v  ->  1 - (1 - p(1 - e^-t))^exp(lp) = v * share
    inner = 1 - (1 - v * share) ** (1 / np.exp(lp))
    t1 = -np.log(1 - inner / p)
    t2 = rng.exponential(1 / np.exp(lp))
    event = np.where(cause1, t1, t2)
    censor = rng.uniform(0, 6, n)
    time = np.minimum(event, censor)
    status = np.where(event <= censor, np.where(cause1, 1, 2), 0)
    return x.assign(time=np.round(time, 4) + 1e-4, status=status)


def _replicate(seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for design, draw, fitter in (("cause-specific", _cause_specific, survival.fit_cox),
                                 ("subdistribution", _subdistribution, finegray.fit_fine_gray)):
        data = draw(rng)
        try:
            fit = fitter(data, "time", "status", ["mg_low", "mg_high", "age"])
        except (RuntimeError, np.linalg.LinAlgError, ValueError):
            continue
        if not fit.converged:  # the optimiser's verdict: no number from a fit that did not converge
            continue
        for term, truth in PLANTED.items():
            coef, se = fit.summary.at[term, "coef"], fit.summary.at[term, "se"]
            rows.append({"design": design, "term": term, "seed": seed, "coef": coef, "se": se, "truth": truth,
                         "covered": abs(coef - truth) <= Z95 * se})
    return rows


def run(replicates: int = 20, seed: int = 2024, map=None) -> pd.DataFrame:
    """Fit ``replicates`` simulated cohorts in each design; one row per replicate, design and term.

    ``map(function, items) -> list`` runs the replicates (in the order of the items); None is a plain loop.
    """
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(replicates)]
    results = (map or local_map)(_replicate, seeds)
    return pd.DataFrame([row for rows in results for row in rows])


NOMINAL = 0.95


def coverage_mcse(replicates: int, coverage: float = NOMINAL) -> float:
    """Monte Carlo standard error of an estimated coverage near ``coverage``: √(c(1 − c)/R) (Morris, White
    and Crowther 2019, taken at the nominal level so that a run whose intervals all covered does not claim
    an MC SE of 0)."""
    return float(np.sqrt(coverage * (1 - coverage) / replicates))


def replicates_needed(mcse: float = 0.01, coverage: float = NOMINAL) -> int:
    """Replicates for the coverage's Monte Carlo SE to be at most ``mcse``: c(1 − c)/mcse², 475 for 0.01."""
    return int(np.ceil(coverage * (1 - coverage) / mcse**2 - 1e-9))


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """Bias, spread, mean standard error and 95% CI coverage of the log hazard ratio, by design and term,
    each with its Monte Carlo standard error (Morris, White and Crowther 2019): bias SD/√R, coverage
    √(0.95 · 0.05/R)."""
    out = []
    for (design, term), g in results.groupby(["design", "term"], sort=False):
        r = len(g)
        sd = float(g["coef"].std(ddof=1))
        out.append({
            "Design": design, "Term": term, "Replicates": r, "Planted HR": float(np.exp(g["truth"].iloc[0])),
            "Mean estimated HR": float(np.exp(g["coef"].mean())), "Bias (log HR)": float(g["coef"].mean() - g["truth"].iloc[0]),
            "MC SE of bias": sd / np.sqrt(r), "SD of estimates": sd, "Mean SE": float(g["se"].mean()),
            "95% CI coverage": float(g["covered"].mean()), "MC SE of coverage": coverage_mcse(r),
        })
    return pd.DataFrame(out)
