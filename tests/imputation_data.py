"""A small synthetic cohort with missing markers, for the multiple-imputation tests."""

import numpy as np
import pandas as pd

COVARIATES = ["age", "male", "log_ipth", "vitamin_d", "log_crp"]
MARKERS = ["log_ipth", "vitamin_d", "log_crp"]


def cohort_with_missing_markers(n=300, seed=11, missing=(0.2, 0.25, 0.15)) -> pd.DataFrame:
    """Competing-risks data (0 censored, 1 event of interest, 2 competing event) whose markers depend on age
    and on each other, with markers missing at random given age (older patients miss them more often)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(55, 11, n)
    male = rng.integers(0, 2, n).astype(float)
    log_ipth = rng.normal(4.0 + 0.01 * (age - 55), 0.6)
    vitamin_d = rng.normal(20 - 3 * (log_ipth - 4), 6)
    log_crp = rng.normal(0.3 * (log_ipth - 4), 1.0)
    lp = 0.03 * (age - 55) + 0.3 * male + 0.5 * (log_ipth - 4) - 0.02 * (vitamin_d - 20) + 0.25 * log_crp
    t1 = rng.exponential(1 / (0.06 * np.exp(lp)))
    t2 = rng.exponential(1 / 0.03, n)
    censor = rng.uniform(2, 8, n)
    time = np.minimum.reduce([t1, t2, censor])
    status = np.select([time == t1, time == t2], [1, 2], 0)
    d = pd.DataFrame({"time": np.round(time, 2) + 0.01, "status": status, "age": age, "male": male,
                      "log_ipth": log_ipth, "vitamin_d": vitamin_d, "log_crp": log_crp})
    full = d.copy()
    for column, share in zip(MARKERS, missing):
        p = share * (1 + 0.5 * np.tanh((age - 55) / 10))
        d.loc[rng.random(n) < p, column] = np.nan
    d.attrs["complete"] = full
    return d
