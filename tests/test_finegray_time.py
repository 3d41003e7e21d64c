"""Fine–Gray with a covariate × log(time) term, the test of proportional subdistribution hazards, against
cmprsk::crr(cov2, tf) (tests/golden/finegray_time.R) on tied competing-risks data and on the shipped cohort."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.stats.finegray_time import fine_gray_time_interaction

DATA = pd.read_csv(GOLDEN / "survival_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "finegray_time.csv", keep_default_na=False, float_precision="round_trip")
GOLD["value"] = GOLD["value"].astype(float)


def _gold(name, term, quantity):
    row = GOLD[(GOLD["dataset"] == name) & (GOLD["term"] == term) & (GOLD["quantity"] == quantity)]
    assert len(row) == 1, (name, term, quantity)
    return float(row["value"].iloc[0])


@pytest.mark.parametrize("name", ["ties", "cohort_size"])
def test_time_interaction_matches_crr(name):
    """Coefficients to 1e-6, crr's standard errors to 1e-4 relative, the log likelihood to 1e-9 relative."""
    d = DATA[DATA["dataset"] == name].assign(grplow=lambda x: (x["grp"] == "low").astype(float),
                                             grphigh=lambda x: (x["grp"] == "high").astype(float))
    fit = fine_gray_time_interaction(d, "time", "status", ["grplow", "grphigh", "x1", "x2"], ["grplow"])
    assert fit.converged and fit.df == 1
    for term in ["grplow", "grphigh", "x1", "x2", "grplow:log(t)"]:
        assert fit.summary.at[term, "coef"] == pytest.approx(_gold(name, term, "coef"), abs=1e-6)
        assert fit.summary.at[term, "se"] == pytest.approx(_gold(name, term, "se"), rel=1e-4)
    assert fit.pvalue == pytest.approx(_gold(name, "grplow:log(t)", "p"), rel=1e-4)
    assert fit.loglik == pytest.approx(_gold(name, "", "loglik"), rel=1e-9)


def test_the_shipped_cohort_time_interaction_matches_crr():
    from helpers.analysis import models
    from helpers.pipeline import params as params_mod, validate

    _, analysed = validate.cohorts(params_mod.load())
    fit = fine_gray_time_interaction(analysed, "followup_years", "status", models.covariates("Model 4"), ["mg_low"])
    term = "mg_low:log(t)"
    assert fit.summary.at[term, "coef"] == pytest.approx(_gold("cohort", term, "coef"), abs=1e-6)
    assert fit.summary.at[term, "se"] == pytest.approx(_gold("cohort", term, "se"), rel=1e-4)
    assert fit.loglik == pytest.approx(_gold("cohort", "", "loglik"), rel=1e-9)


def test_rescaling_the_time_function_rescales_its_coefficient_only():
    """g(t) and c·g(t) are the same model: the time term's coefficient divides by c; the others, the log
    likelihood and the test stay."""
    d = DATA[DATA["dataset"] == "ties"].assign(grplow=lambda x: (x["grp"] == "low").astype(float))
    one = fine_gray_time_interaction(d, "time", "status", ["grplow", "x1"], ["grplow"])
    three = fine_gray_time_interaction(d, "time", "status", ["grplow", "x1"], ["grplow"], tf=lambda t: 3 * np.log(t))
    assert three.summary.iloc[-1]["coef"] * 3 == pytest.approx(one.summary.iloc[-1]["coef"], rel=1e-8)
    assert three.summary.at["x1", "coef"] == pytest.approx(one.summary.at["x1", "coef"], rel=1e-8)
    assert three.pvalue == pytest.approx(one.pvalue, rel=1e-8) and three.loglik == pytest.approx(one.loglik, rel=1e-12)


def test_golden_values_are_what_r_makes(tmp_path):
    rerun("finegray_time.R", tmp_path, "finegray_time.csv", rtol=1e-6, atol=1e-9)


def _random_cohort(n=600, seed=3):
    """Tied times (to 0.1), both causes, censoring and records with follow-up 0 of every kind."""
    rng = np.random.default_rng(seed)
    group = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    x = rng.normal(size=(n, 2))
    time = np.round(rng.exponential(2.0 * np.exp(-0.3 * group - 0.2 * x[:, 0]), n), 1)
    time[:12] = 0.0
    status = rng.choice(3, n, p=[0.3, 0.45, 0.25])
    return pd.DataFrame({"time": time, "status": status, "g1": (group == 1) * 1.0, "g2": (group == 2) * 1.0,
                         "x1": x[:, 0], "x2": np.round(x[:, 1], 1)})


@pytest.mark.parametrize("interact", [["g1", "g2"], ["g1", "g2", "x2"]])
def test_pattern_wise_sums_equal_the_dense_ones(interact):
    """The running sums per pattern of the interacting covariates and the sums over (event times × subjects)
    are the same algebra: equal coefficients, log likelihood and crr variance to 1e-10."""
    from helpers.stats import finegray_time as ft

    d = _random_cohort()
    assert (d["time"] == 0).any() and d["time"].duplicated().any()
    args = (d["time"].to_numpy(float), d["status"].to_numpy(), d[["g1", "g2", "x1", "x2"]].to_numpy(float),
            d[interact].to_numpy(float), np.log1p)
    fits = []
    for design in (ft._Patterns(*args), ft._Design(*args)):
        beta, loglik, info, parts, converged = ft._fit(design, 4 + len(interact))
        assert converged
        fits.append((beta, loglik, design.variance(info, parts)))
    (b1, l1, v1), (b2, l2, v2) = fits
    np.testing.assert_allclose(b1, b2, rtol=1e-10, atol=1e-10)
    assert l1 == pytest.approx(l2, rel=1e-12)
    np.testing.assert_allclose(v1, v2, rtol=1e-10, atol=1e-13)


def test_many_distinct_interacting_values_on_a_large_cohort_are_refused(monkeypatch):
    from helpers.stats import finegray_time as ft

    d = _random_cohort()
    monkeypatch.setattr(ft, "DENSE_LIMIT", 1000)
    with pytest.raises(ValueError, match="too many distinct"):
        ft.fine_gray_time_interaction(d, "time", "status", ["x1"], ["x1"], tf=np.log1p)
