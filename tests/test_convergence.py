"""Convergence is real: a fit that did not converge (the optimiser's verdict), a level without events
(an infinite coefficient) and a logistic fit with complete or quasi-complete separation reach every table
as "not estimable" with the reason, never as a number; the other terms of the same fit stay published
where R publishes them."""

import warnings

import numpy as np
import pandas as pd
import pytest

from helpers import survival
from helpers.analysis import models
from helpers.pipeline import validate
from helpers import paths
from helpers.analysis import cohort as cohort_mod
from helpers.report import model_tables
from helpers.stats import finegray, survival as survival_stats

CUTS = [1.8, 2.2]


@pytest.fixture(scope="module")
def analysed():
    cohort = validate.load_cohort(paths.DATA / "cohort.csv")
    return cohort_mod.analysis_cohort(cohort, CUTS, 2.6)


def _capped(df, duration, event, covariates, cause=1):
    return survival_stats.fit_cox(df, duration, event, covariates, cause, max_iter=1)


def test_the_iteration_cap_reached_is_not_estimable(analysed):
    results = models.fit_models(analysed, _capped, "followup_years", "status", models={"Model 4": models.MODEL_4})
    assert results["hr"].isna().all()
    assert results["reason"].str.startswith("not estimable: the model did not converge").all()
    table = model_tables.ratio_table(results, CUTS)
    assert table.iloc[0, 2].startswith("not estimable: the model did not converge")


def test_a_level_without_events_is_not_estimable_and_the_other_term_is_as_coxph_gives_it(analysed):
    data = analysed.assign(status=analysed["status"].where(~((analysed["mg_low"] == 1) & (analysed["status"] == 1)), 0))
    results = models.fit_models(data, survival.cause_specific_cox, "followup_years", "status", models={"Crude": []})
    low, high = results.iloc[0], results.iloc[1]
    assert low["reason"] == "not estimable: no event in the low-Mg group" and np.isnan(low["hr"])
    # The high group's ratio is finite: as coxph, which reports it beside the infinite one; here checked
    # against the same model fitted without the low group's patients (the limit of the likelihood).
    without = data[data["mg_low"] == 0]
    alone = survival.cause_specific_cox(without, "followup_years", "status", ["mg_high"])
    assert low["reason"] and high["reason"] == ""
    np.testing.assert_allclose(high["coef"], alone.at["mg_high", "coef"], atol=1e-6)


def _logistic_data(seed=1, n=300):
    rng = np.random.default_rng(seed)
    mg = rng.choice([1.6, 2.0, 2.4], n, p=[0.2, 0.5, 0.3])
    age = rng.normal(60, 10, n)
    return pd.DataFrame({"mg_low": (mg < 1.8).astype(float), "mg_high": (mg > 2.2).astype(float), "age": age,
                         "y": (rng.random(n) < 0.3).astype(float)})


def test_perfect_separation_is_not_estimable():
    data = _logistic_data()
    data["y"] = (data["age"] > 60).astype(float)  # age separates the outcome completely
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = models.fit_logistic_models(data, "y", models={"Model": ["age"]})
    assert results["or"].isna().all() and results["reason"].str.contains("separates").all()
    shown = model_tables.ratio_table(results, CUTS, "OR")
    assert all("separates" in shown.iloc[0, c] for c in (2, 4))


def test_quasi_complete_separation_is_not_estimable():
    data = _logistic_data()
    data.loc[data["mg_low"] == 1, "y"] = 1.0  # every low-Mg patient has the outcome
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = models.fit_logistic_models(data, "y", models={"Model": ["age"]})
    low = results[results["term"] == "mg_low"].iloc[0]
    assert np.isnan(low["or"]) and "separation" in low["reason"]
    shown = model_tables.ratio_table(results, CUTS, "OR")  # the page's table: the reason where the ratio would be
    assert "separation" in shown.iloc[0, 2] and not any(ch.isdigit() for ch in shown.iloc[0, 2])


def test_a_well_behaved_logistic_fit_is_published():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = models.fit_logistic_models(_logistic_data(), "y", models={"Model": ["age"]})
    assert results["or"].notna().all() and (results["reason"] == "").all()


def test_a_fine_gray_fit_that_did_not_converge_is_not_estimable(analysed):
    def stalled(*args, **kwargs):  # one Newton step: the optimiser's own verdict is 'not converged'
        return finegray.fit_fine_gray(*args, **kwargs, max_iter=1)

    results = models.fit_models(analysed, stalled, "followup_years", "status", models={"Crude": []})
    assert results["hr"].isna().all() and results["reason"].str.contains("did not converge").all()


def test_a_fine_gray_fit_run_to_its_optimum_converges(analysed):
    from helpers.stats import finegray

    fit = finegray.fit_fine_gray(analysed, "followup_years", "status", models.covariates("Crude"))
    assert fit.converged and not finegray.fit_fine_gray(analysed, "followup_years", "status",
                                                        models.covariates("Crude"), max_iter=1).converged


@pytest.mark.parametrize("fitter", [survival.cause_specific_cox, survival.fine_gray], ids=["cox", "fine-gray"])
def test_without_a_patient_in_the_reference_group_every_contrast_says_why(analysed, fitter):
    # Every patient low or high: the two indicators sum to 1, so neither has a contrast with the reference.
    data = analysed.assign(mg_low=(analysed["mg"] < 2.0).astype(float), mg_high=(analysed["mg"] >= 2.0).astype(float))
    results = models.fit_models(data, fitter, "followup_years", "status", models={"Model 1": models.MODEL_1})
    assert results["hr"].isna().all()
    assert (results["reason"] == "not estimable: no patient in the reference group").all()
