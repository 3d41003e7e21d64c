"""Subgroups: definitions, the interaction test against R, and sparse strata reported, never absurd."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.analysis import derive, models, subgroups

DATA = pd.read_csv(GOLDEN / "survival_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "subgroups.csv", float_precision="round_trip")


def _data(name):
    d = DATA[DATA["dataset"] == name].copy()
    d["low"] = (d["grp"] == "low").astype(float)
    d["high"] = (d["grp"] == "high").astype(float)
    d["old"] = (d["x1"] >= 55).astype(float)
    return d


@pytest.mark.parametrize("name", ["ties", "cohort_size"])
@pytest.mark.parametrize("modifier", ["x2", "old"])
def test_interaction_test_matches_coxph_anova(name, modifier):
    res = subgroups.interaction_test(_data(name), "time", "status", ["low", "high", "x1", "x2", "x3"], ["low", "high"], modifier)
    g = GOLD[(GOLD["dataset"] == name) & (GOLD["modifier"] == modifier)].set_index("quantity")["value"]
    assert res.statistic == pytest.approx(g["chisq"], rel=1e-6, abs=1e-9)
    assert res.df == g["df"]
    assert res.pvalue == pytest.approx(g["p"], rel=1e-6)


@pytest.mark.parametrize("name", ["ties", "cohort_size"])
@pytest.mark.parametrize("modifier", ["x2", "old"])
def test_one_df_interaction_of_the_low_group_matches_coxph_anova(name, modifier):
    """The test of the plotted contrast alone: low × modifier added, 1 df."""
    res = subgroups.interaction_test(_data(name), "time", "status", ["low", "high", "x1", "x2", "x3"], ["low"], modifier)
    g = GOLD[(GOLD["dataset"] == name) & (GOLD["modifier"] == f"{modifier}_low")].set_index("quantity")["value"]
    assert res.df == 1 == g["df"]
    assert res.statistic == pytest.approx(g["chisq"], rel=1e-6, abs=1e-9)
    assert res.pvalue == pytest.approx(g["p"], rel=1e-6)


def _cohort(n=800, seed=11):
    rng = np.random.default_rng(seed)
    mg = pd.Series(rng.choice([1.7, 2.0, 2.1, 2.4], n, p=[0.06, 0.4, 0.2, 0.34]))
    df = pd.DataFrame({
        "mg": mg, "sex": rng.choice(["M", "F"], n), "age": rng.normal(55, 10, n).round(), "bmi": rng.normal(24.5, 3, n),
        "calcium": 9.0, "albumin": rng.normal(4.2, 0.3, n), "sbp": rng.normal(127, 14, n).round(),
        "dbp": rng.normal(77, 10, n).round(), "egfr": rng.normal(50, 20, n).clip(8), "total_chol": rng.normal(172, 35, n),
        "phosphate": rng.normal(3.6, 0.6, n), "diabetes": rng.binomial(1, 0.33, n).astype(float),
        "proteinuria": rng.lognormal(6.3, 1.2, n), "smoking": rng.choice(["never", "former", "current"], n),
        "followup_years": rng.exponential(5, n).round(2) + 0.01, "status": rng.choice([0, 1, 2], n, p=[0.75, 0.15, 0.1]),
    })
    return derive.add_derived(df, [1.8, 2.2])


def test_flags_follow_the_cut_offs():
    df = pd.DataFrame({"age": [59, 60, np.nan], "sex": ["M", "F", "M"], "diabetes": [1.0, 0.0, np.nan],
                       "sbp": [129, 130, 120], "dbp": [79, 70, 80], "bmi": [24.9, 25.0, 30], "egfr": [44.9, 45, 60],
                       "proteinuria": [499, 500, 10], "smoking": ["never", "former", None]})
    f = subgroups.subgroup_flags(df, {})
    assert f["age"].tolist()[:2] == [1.0, 0.0] and np.isnan(f.loc[2, "age"])
    assert f["hypertension"].tolist() == [0.0, 1.0, 1.0]
    assert f["obesity"].tolist() == [0.0, 1.0, 1.0] and f["egfr"].tolist() == [1.0, 0.0, 0.0]
    assert f["smoking"].tolist()[:2] == [0.0, 1.0] and np.isnan(f.loc[2, "smoking"])
    assert subgroups.subgroup_flags(df, {"age": 50})["age"].tolist()[:2] == [0.0, 0.0]


@pytest.fixture(scope="module")
def analysed():
    """One subgroup analysis of the simulated cohort, read by the tests that only look at it."""
    df = _cohort()
    return df, subgroups.subgroup_analysis(df, "followup_years", "status", models.covariates("Model 4"))


def test_every_stratum_is_reported_with_counts_and_no_absurd_estimate(analysed):
    _, out = analysed
    assert len(out) == 16
    assert (out[["n_low", "n_mid", "n_high"]].sum(axis=1) > 0).all()
    est = out[out["estimable"]]
    assert (est["upper"] < 1e4).all() and (est["lower"] > 1e-4).all()
    assert (out.loc[~out["estimable"], "reason"] != "").all()
    assert out["p_interaction"].notna().all()


@pytest.fixture(scope="module")
def no_low_mg_event_in_women():
    """The subgroup analysis of the simulated cohort with every low-Mg woman's event removed."""
    df = _cohort()
    df.loc[(df["mg_low"] == 1) & (df["sex"] == "F"), "status"] = 0
    return subgroups.subgroup_analysis(df, "followup_years", "status", models.covariates("Model 4"))


def test_a_stratum_without_low_mg_events_is_not_estimable(no_low_mg_event_in_women):
    out = no_low_mg_event_in_women
    female = out[(out["subgroup"] == "Sex") & (out["stratum"] == "Female")].iloc[0]
    assert not female["estimable"] and female["reason"] == "no event with low Mg" and np.isnan(female["hr"])


def test_the_subgroup_variable_is_left_out_within_its_strata(analysed):
    df, out = analysed
    from helpers import survival

    male = df[df["sex"] == "M"]
    within = [c for c in models.covariates("Model 4") if c != "male"]
    direct = survival.cause_specific_cox(male, "followup_years", "status", within)
    row = out[(out["subgroup"] == "Sex") & (out["stratum"] == "Male")].iloc[0]
    assert row["hr"] == pytest.approx(direct.at["mg_low", "hr"])


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("subgroups.R", tmp_path, "subgroups.csv", rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["ties", "cohort_size"])
@pytest.mark.parametrize("modifier, level", [("x2", 1), ("x2", 0), ("old", 1), ("old", 0)])
def test_full_model_within_a_stratum_matches_coxph(name, modifier, level):
    # The default: the full model in each stratum, less covariates constant in it (coxph's NA).
    d = _data(name)
    part = d[d[modifier] == level]
    used = subgroups.stratum_covariates(part, ["low", "high", "x1", "x2", "x3"], exposure=("low", "high"))
    assert ("x2" in used) == (modifier != "x2") and "x1" in used
    from helpers import survival

    fit = survival.cause_specific_cox(part, "time", "status", used)
    g = GOLD[(GOLD["dataset"] == name) & (GOLD["modifier"] == f"stratum_{modifier}_{level}")].set_index("quantity")["value"]
    if modifier == "x2":
        assert np.isnan(g["coef_x2"])
    for term in ("low", "high", "x1"):
        assert fit.at[term, "coef"] == pytest.approx(g[f"coef_{term}"], rel=1e-6, abs=1e-9)
        assert fit.at[term, "se"] == pytest.approx(g[f"se_{term}"], rel=1e-6)


def test_reduced_adjustment_leaves_out_age_bmi_and_egfr_in_their_strata(analysed):
    df, full = analysed
    reduced = subgroups.subgroup_analysis(df, "followup_years", "status", models.covariates("Model 4"), adjustment="reduced")
    from helpers import survival

    old = df[df["age"] >= 60]
    for out, covs in ((full, models.covariates("Model 4")), (reduced, [c for c in models.covariates("Model 4") if c != "age"])):
        row = out[(out["subgroup"] == "Age") & (out["stratum"] == "≥ 60 years")].iloc[0]
        assert row["hr"] == pytest.approx(survival.cause_specific_cox(old, "followup_years", "status", covs).at["mg_low", "hr"])


def test_p_for_interaction_is_left_empty_where_a_stratum_is_not_estimable(no_low_mg_event_in_women):
    out = no_low_mg_event_in_women
    sex = out[out["subgroup"] == "Sex"]
    assert sex["p_interaction"].isna().all() and (sex["p_interaction_note"] == "not estimable in Female").all()
    whole = out.groupby("subgroup")["estimable"].transform("all")
    assert whole.any() and out.loc[whole, "p_interaction"].notna().all()
    assert out.loc[~whole, "p_interaction"].isna().all()


def test_subgroups_through_a_map_give_the_serial_rows(analysed):
    df, serial = analysed
    seen = []

    def reversed_map(function, items):  # another order of execution, as a pool or a cluster may take
        seen.extend(items)
        return [function(i) for i in reversed(items)][::-1]

    mapped = subgroups.subgroup_analysis(df, "followup_years", "status", models.covariates("Model 4"), map=reversed_map)
    assert [s.key for s in seen] == [s.key for s in subgroups.subgroup_definitions(None)]
    pd.testing.assert_frame_equal(serial, mapped, check_exact=True)
