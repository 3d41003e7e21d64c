"""Model definitions and the Table 2.2.2 layout."""

import numpy as np
import pandas as pd

from helpers.analysis import derive, models
from helpers.report import model_tables
from helpers import survival
from helpers.report import published


def test_models_add_covariates_in_the_thesis_order():
    assert models.MODEL_1 == ["age", "male", "bmi"]
    assert models.MODEL_2[3:] == ["egfr", "total_chol", "albumin", "phosphate", "corrected_calcium"]
    assert models.MODEL_3[-1] == "map" and models.MODEL_4[-1] == "diabetes"
    assert models.covariates("Model 4")[:2] == ["mg_low", "mg_high"]


def _cohort(seed=3, n=400):
    rng = np.random.default_rng(seed)
    mg = pd.Series(rng.choice([1.7, 2.0, 2.1, 2.4], n, p=[0.1, 0.3, 0.3, 0.3]))
    df = pd.DataFrame({
        "mg": mg, "sex": rng.choice(["M", "F"], n), "age": rng.normal(55, 10, n), "bmi": rng.normal(24, 3, n),
        "calcium": 9.0, "albumin": rng.normal(4.1, 0.3, n), "sbp": 120.0, "dbp": 80.0,
        "followup_years": rng.exponential(5, n).round(2) + 0.01, "status": rng.choice([0, 1, 2], n, p=[0.7, 0.2, 0.1]),
    })
    return derive.add_derived(df, [1.8, 2.2])


def test_fit_models_collects_each_model_and_term():
    df = _cohort()
    few = {"Model 1": models.MODEL_1, "Sex only": ["male"]}
    res = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models=few, cause=1)
    assert list(res["model"]) == ["Model 1", "Model 1", "Sex only", "Sex only"]
    direct = survival.cause_specific_cox(df, "followup_years", "status", ["mg_low", "mg_high", "male"])
    got = res[(res["model"] == "Sex only") & (res["term"] == "mg_low")].iloc[0]
    assert got["hr"] == direct.at["mg_low", "hr"] and got["events"] == direct.attrs["events"]


def test_group_profiles_set_indicators_and_means():
    df = _cohort()
    cov = models.covariates("Model 1")
    prof = models.group_profiles(df, cov, [1.8, 2.2])
    assert list(prof.index) == ["<1.8", "1.8–2.2", ">2.2"]
    assert prof[["mg_low", "mg_high"]].values.tolist() == [[1, 0], [0, 0], [0, 1]]
    assert prof.loc["<1.8", "age"] == df[cov].dropna()["age"].mean()


def test_cutpoint_sensitivity_regroups_and_refits():
    df = _cohort()
    out = models.cutpoint_sensitivity(df, [[1.8, 2.2], [2.05, 2.2]], {"CS": survival.cause_specific_cox},
                                      "followup_years", "status", model="Model 1")
    first = out[(out["cut-points"] == "1.8 / 2.2") & (out["group"] == "<1.8")].iloc[0]
    direct = survival.cause_specific_cox(df, "followup_years", "status", models.covariates("Model 1"))
    assert first["hr"] == direct.at["mg_low", "hr"]
    second = out[(out["cut-points"] == "2.05 / 2.2") & (out["group"] == "<2.05")].iloc[0]
    assert second["participants"] == int((df["mg"] < 2.05).sum())


def test_cutpoint_sensitivity_through_a_map_gives_the_serial_rows():
    df = _cohort()
    pairs = [[1.8, 2.2], [1.7, 2.3], [2.05, 2.2]]
    fitters = {"CS": survival.cause_specific_cox, "FG": survival.fine_gray}
    serial = models.cutpoint_sensitivity(df, pairs, fitters, "followup_years", "status", model="Model 1")
    seen = []

    def reversed_map(function, items):  # another order of execution, as a pool or a cluster may take
        seen.extend(items)
        return [function(i) for i in reversed(items)][::-1]

    mapped = models.cutpoint_sensitivity(df, pairs, fitters, "followup_years", "status", model="Model 1",
                                         map=reversed_map)
    assert seen == pairs
    pd.testing.assert_frame_equal(serial, mapped, check_exact=True)


def test_fit_logistic_models_match_a_direct_fit():
    df = _cohort(seed=5, n=600)
    df["progressed"] = (np.random.default_rng(2).random(len(df)) < 0.3).astype(float)
    res = models.fit_logistic_models(df, "progressed", models={"Model 1": models.MODEL_1}, extra=["albumin"])
    from helpers import regression

    direct = regression.logistic(df, "progressed", [*models.covariates("Model 1"), "albumin"])
    assert res.set_index("term").at["mg_low", "or"] == direct.at["mg_low", "or"]


def test_crude_model_sits_beside_the_adjusted_ones_with_a_dash_for_the_thesis():
    df = _cohort()
    df.loc[:4, "bmi"] = np.nan
    few = {k: models.WITH_CRUDE[k] for k in ("Crude", "Model 1")}
    res = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models=few)
    crude = survival.cause_specific_cox(df, "followup_years", "status", ["mg_low", "mg_high"])
    got = res[(res["model"] == "Crude") & (res["term"] == "mg_low")].iloc[0]
    assert got["hr"] == crude.at["mg_low", "hr"] and got["n"] == len(df) and got["n_dropped"] == 0
    m1 = res[res["model"] == "Model 1"].iloc[0]
    assert m1["n"] == len(df) - 5 and m1["n_dropped"] == 5 and m1["dropped_reason"] == "5 missing bmi"
    table, _ = model_tables.hazard_ratio_tables(res, df, "status", 1, [1.8, 2.2], published.hazards())
    thesis = table[table[("", "Source")] == "Thesis"].set_index(("", "Model"))
    assert (thesis.loc["Crude"].iloc[1:] == "–").all()
    assert (thesis.loc["Model 1"].iloc[1:] != "–").all()
    cc = model_tables.complete_cases_table(res)
    assert cc["Left out"].tolist() == [0, 5]


def test_fine_gray_curves_standardized_over_the_cohort():
    """With the Mg indicators alone there is nothing to average: the standardized curve of each group is its
    profile's (predict.crr, golden-tested in test_fine_gray.py). With covariates, it is the mean of every
    patient's curve, which differs from the curve at the mean covariates (the exponential is not linear)."""
    from helpers.pipeline import params as params_mod, validate
    from helpers.stats import survival

    _, df = validate.cohorts(params_mod.load())
    crude = models.fine_gray_standardized_curves(df, "followup_years", "status", models.EXPOSURE, [1.8, 2.2])
    profiles = models.group_profiles(df, models.EXPOSURE, [1.8, 2.2])
    direct = survival.fine_gray_cumulative_incidence(df, "followup_years", "status", models.EXPOSURE, profiles)
    np.testing.assert_allclose(crude["cif"], direct["cif"], rtol=1e-12)
    cov = models.covariates("Model 4")
    averaged = models.fine_gray_standardized_curves(df, "followup_years", "status", cov, [1.8, 2.2])
    at_means = survival.fine_gray_cumulative_incidence(df, "followup_years", "status", cov,
                                                       models.group_profiles(df, cov, [1.8, 2.2]))
    assert list(averaged["profile"].unique()) == ["<1.8", "1.8–2.2", ">2.2"]
    assert not np.allclose(averaged["cif"], at_means["cif"], rtol=1e-3)


def test_the_mean_curve_is_the_mean_of_every_patients_curve_in_any_slices():
    """``FineGrayFit.mean_cumulative_incidence`` (shared curves for equal linear predictors, summed in
    slices) against the plain mean of one ``predict.crr`` curve per patient; duplicated patients and slices
    of one and of seven predictors must not change it."""
    from helpers.pipeline import params as params_mod, validate
    from helpers.stats import finegray

    _, df = validate.cohorts(params_mod.load())
    cov = models.covariates("Model 2")
    fit = finegray.fit_fine_gray(df, "followup_years", "status", cov)
    rows = df[cov].dropna().iloc[:60]
    rows = pd.concat([rows, rows.iloc[:15]], ignore_index=True)  # equal predictors share a curve
    plain = fit.cumulative_incidence(rows).groupby("time", sort=True)["cif"].mean()
    for cells in (1, 7 * len(fit.times), 4_000_000):
        mean = fit.mean_cumulative_incidence(rows, cells=cells)
        np.testing.assert_allclose(mean["time"], plain.index, rtol=0)
        np.testing.assert_allclose(mean["cif"], plain.to_numpy(), rtol=1e-12, atol=1e-15)
