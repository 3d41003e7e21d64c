"""Fit objects (helpers.stats: fit_cox, fit_fine_gray, fit_logistic) and the public frames built from them,
on the golden data of tests/golden (survival_data.csv, regression_data.csv)."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN
from helpers import regression, survival
from helpers.stats import finegray, regression as stats_regression, survival as stats_survival
from helpers.stats._common import SUMMARY_COLUMNS, Z95

DATA = pd.read_csv(GOLDEN / "survival_data.csv", float_precision="round_trip")
COVARIATES = ["grplow", "grphigh", "x1", "x2", "x3"]
ATTRS = {"n", "n_dropped", "dropped_reason", "events", "loglik", "converged"}


def _data(name):
    d = DATA[DATA["dataset"] == name].copy()
    d["grplow"] = (d["grp"] == "low").astype(float)
    d["grphigh"] = (d["grp"] == "high").astype(float)
    return d


def test_public_frames_keep_their_columns():
    d = _data("time_zero")
    for frame in (survival.cause_specific_cox(d, "time", "status", COVARIATES),
                  survival.fine_gray(d, "time", "status", COVARIATES)):
        assert list(frame.columns) == ["coef", "se", "hr", "lower", "upper", "p"]
        assert list(frame.index) == COVARIATES and frame.index.name == "covariate"
        assert ATTRS <= set(frame.attrs)
    reg = pd.read_csv(GOLDEN / "regression_data.csv")
    out = regression.logistic(reg, "y", ["low", "high", "z1"])
    assert list(out.columns) == ["coef", "se", "or", "lower", "upper", "p"]
    assert list(out.index) == ["Intercept", "low", "high", "z1"] and out.index.name == "term"
    assert ATTRS <= set(out.attrs)


@pytest.mark.parametrize("fitter", [stats_survival.fit_cox, finegray.fit_fine_gray])
def test_fit_objects_share_one_summary_scheme(fitter):
    fit = fitter(_data("ties"), "time", "status", COVARIATES)
    assert list(fit.summary.columns) == SUMMARY_COLUMNS
    s = fit.summary
    np.testing.assert_allclose(s["ratio"], np.exp(s["coef"]))
    np.testing.assert_allclose(np.log(s["upper"]) - s["coef"], Z95 * s["se"])
    assert fit.converged and fit.n == 300 and fit.n_dropped == 0 and fit.dropped_reason == ""
    assert fit.events == int((_data("ties")["status"] == 1).sum())
    frame = fit.table()
    np.testing.assert_array_equal(frame["hr"], s["ratio"])
    assert frame.attrs["loglik"] == fit.loglik


def test_time_zero_records_are_kept_and_missing_ones_are_counted():
    d = _data("time_zero")
    assert (d["time"] == 0).sum() == 4
    d.loc[d.index[10:13], "x1"] = np.nan
    d.loc[d.index[20], "time"] = np.nan
    for fitter in (stats_survival.fit_cox, finegray.fit_fine_gray):
        fit = fitter(d, "time", "status", COVARIATES)
        assert fit.n == len(d) - 4 and fit.n_dropped == 4
        assert fit.dropped_reason == "1 missing time; 3 missing x1"


def test_negative_follow_up_is_left_out_with_its_reason():
    d = _data("ties")
    d.loc[d.index[0], "time"] = -1.0
    fit = stats_survival.fit_cox(d, "time", "status", COVARIATES)
    assert fit.n_dropped == 1 and fit.dropped_reason == "1 with negative time"


def test_ph_test_and_predictions_of_a_fit_match_r():
    # The fit's own methods against R: cox.zph of the coxph fit, and predict.crr of the crr fit
    # (tests/golden/survival.R and fine_gray.R; the tolerances of tests/test_survival.py and test_fine_gray.py).
    d = _data("ties").assign(x3k=lambda f: f["x3"] / 1000)
    gold = pd.read_csv(GOLDEN / "survival.csv", float_precision="round_trip")
    zph = gold[(gold["dataset"] == "ties") & (gold["what"] == "ph_efron")].pivot(index="term", columns="quantity", values="value")
    table = stats_survival.fit_cox(d, "time", "status", COVARIATES).ph_test().table
    np.testing.assert_allclose(table.loc[zph.index, "chisq"], zph["chisq"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(table.loc[zph.index, "p"], zph["p"], rtol=1e-6)
    covariates = ["grplow", "grphigh", "x1", "x2", "x3k"]
    profiles = pd.DataFrame([[0, 0, 50, 0, 0.6], [1, 0, 50, 0, 0.6]], index=["mid", "low"], columns=covariates)
    curves = pd.read_csv(GOLDEN / "fine_gray_curves.csv", keep_default_na=False, float_precision="round_trip")
    ours = finegray.fit_fine_gray(d, "time", "status", covariates).cumulative_incidence(profiles)
    for profile in profiles.index:
        r = curves[(curves["kind"] == "predict_crr") & (curves["dataset"] == "ties") & (curves["profile"] == profile)]
        np.testing.assert_allclose(ours.loc[ours["profile"] == profile, "cif"], r["value"].astype(float), rtol=1e-6)


def test_logistic_fit_object():
    rng = np.random.default_rng(1)
    d = pd.DataFrame({"x": rng.normal(size=200)})
    d["y"] = (rng.random(200) < 1 / (1 + np.exp(-d["x"]))).astype(float)
    d.loc[:4, "x"] = np.nan
    fit = stats_regression.fit_logistic(d, "y", ["x"])
    assert list(fit.summary.columns) == SUMMARY_COLUMNS
    assert fit.n == 195 and fit.n_dropped == 5 and fit.dropped_reason == "5 missing x"
    assert fit.events == int(d["y"].iloc[5:].sum()) and fit.converged


def test_curves_rates_and_gray_test_say_what_they_leave_out():
    d = _data("time_zero").assign(grp=lambda x: x["grp"].astype(object))
    d.loc[d.index[5:7], "time"] = np.nan
    d.loc[d.index[8], "grp"] = None
    ci = survival.cumulative_incidence(d, "time", "status", group="grp")
    assert (ci.attrs["n"], ci.attrs["n_dropped"], ci.attrs["dropped_reason"]) == (len(d) - 2, 2, "2 missing time")
    rate = survival.incidence_rate(d, "time", "status", group="grp")
    assert rate.attrs["n_dropped"] == 2 and rate.iloc[-1]["participants"] == len(d) - 2
    gray = survival.gray_test(d, "time", "status", "grp")
    assert (gray.n, gray.n_dropped, gray.dropped_reason) == (len(d) - 3, 3, "2 missing time; 1 missing grp")
    follow = stats_survival.median_follow_up(d, "time", "status")
    assert follow.attrs["n_dropped"] == 2


def test_cox_convergence_is_the_optimisers_verdict():
    d = _data("ties")
    assert stats_survival.fit_cox(d, "time", "status", COVARIATES).converged
    capped = stats_survival.fit_cox(d, "time", "status", COVARIATES, max_iter=1)
    assert not capped.converged and capped.not_estimable == "no convergence in 1 Newton steps"
    assert capped.table().attrs["converged"] is False


def test_cox_level_without_events_is_not_estimable():
    # As coxph warns "Loglik converged before variable 1; coefficient may be infinite" on such data:
    # the partial likelihood keeps rising as the level's coefficient goes to minus infinity.
    d = _data("ties")
    d.loc[d["grplow"] == 1, "status"] = 0
    fit = stats_survival.fit_cox(d, "time", "status", COVARIATES)
    assert not fit.converged and fit.solution.infinite.tolist() == [True, False, False, False, False]
    assert "grplow" in fit.not_estimable and "infinite" in fit.not_estimable
    one = d.index[(d["grplow"] == 1)][0]
    d.loc[one, "status"] = 1  # a single event makes it estimable again
    assert stats_survival.fit_cox(d, "time", "status", COVARIATES).converged
