"""Standardized cumulative incidence against R's riskRegression::ate (tests/golden/standardized.R).

Tolerances: estimates 1e-6 absolute; standard errors and the 95% limits 1e-4 relative (with 1e-12
absolute for a limit truncated at 0). Seen on the golden data: 5e-11 at worst.
"""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.stats import survival
from helpers.stats.standardized import Z95, StandardizedModel, standardized_risk

DATA = pd.read_csv(GOLDEN / "standardized_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "standardized.csv", float_precision="round_trip")
COVARIATES = ["age", "male", "egfr", "upcr"]
CASES = {  # case in standardized.csv: cause, reference, times
    "cause1": (1, None, [1, 2, 3]),
    "cause2": (2, None, [1, 2, 3]),
    "cause2_early": (2, None, [0.1, 0.5]),
    "reference_high": (1, "high", [1, 2, 3]),
}


def _run(data=DATA, **kwargs):
    args = dict(cause=1, times=[1, 2, 3]) | kwargs
    return standardized_risk(data, "time", "status", "group", COVARIATES, **args)


@pytest.mark.parametrize("case", CASES)
def test_matches_riskregression_ate(case):
    cause, reference, times = CASES[case]
    ours = _run(cause=cause, reference=reference, times=times)
    gold = GOLD[GOLD["case"] == case]
    both = gold.merge(ours, on=["time", "group", "kind"], suffixes=("_r", ""), validate="one_to_one")
    assert len(both) == len(gold) == len(ours)
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-4, atol=0)
    np.testing.assert_allclose(both["lower"], both["lower_r"], rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(both["upper"], both["upper_r"], rtol=1e-4, atol=1e-12)


# CSC(list(f1, f2)) in standardized.R: cause 1 with age, male, egfr; cause 2 with age, egfr, upcr.
TWO_FORMULAS = {1: ["age", "male", "egfr"], 2: ["age", "egfr", "upcr"]}


@pytest.mark.parametrize("cause", [1, 2])
def test_each_cause_with_its_own_covariates_matches_ate(cause):
    """The model of ``cause`` takes ``covariates``, the other cause's ``competing_covariates``: the same
    tolerances as above, against ate on CSC(list(f1, f2))."""
    ours = standardized_risk(DATA, "time", "status", "group", TWO_FORMULAS[cause], [1, 2, 3], cause=cause,
                             competing_covariates=TWO_FORMULAS[3 - cause])
    gold = GOLD[GOLD["case"] == f"two_formulas_cause{cause}"]
    both = gold.merge(ours, on=["time", "group", "kind"], suffixes=("_r", ""), validate="one_to_one")
    assert len(both) == len(gold) == len(ours) > 0
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-4, atol=0)


def test_the_competing_set_by_default_is_the_same_set():
    same = _run(competing_covariates=COVARIATES)
    pd.testing.assert_frame_equal(_run(), same)
    other = _run(competing_covariates=["age"])
    assert not np.allclose(other["estimate"], same["estimate"])


def test_layout_and_contrasts():
    out = _run()
    assert list(out.columns) == ["time", "group", "kind", "estimate", "se", "lower", "upper"]
    assert out["kind"].value_counts().to_dict() == {"risk": 9, "difference": 6, "ratio": 6}
    assert out.attrs["reference"] == "ctrl" and out.attrs["levels"] == ["ctrl", "high", "low"]
    assert set(out.loc[out["kind"] != "risk", "group"]) == {"high", "low"}
    risk = out[out["kind"] == "risk"].set_index(["group", "time"])["estimate"]
    for kind, combine in [("difference", np.subtract), ("ratio", np.divide)]:
        rows = out[out["kind"] == kind]
        expected = [combine(risk[(g, t)], risk[("ctrl", t)]) for g, t in zip(rows["group"], rows["time"])]
        np.testing.assert_allclose(rows["estimate"], expected, rtol=1e-12)
    # Wald limits on the natural scale.
    np.testing.assert_allclose(out["upper"] - out["estimate"], Z95 * out["se"], rtol=1e-12)


def test_reference_is_the_first_level_of_a_categorical():
    data = DATA.assign(group=pd.Categorical(DATA["group"], categories=["high", "ctrl", "low"]))
    pd.testing.assert_frame_equal(
        _run(data).sort_values(["kind", "group", "time"], ignore_index=True),
        _run(reference="high").sort_values(["kind", "group", "time"], ignore_index=True),
    )


def _aalen_johansen(time, status, cause, tau):
    surv, cif = 1.0, 0.0
    for t in np.unique(time[(status != 0) & (time <= tau)]):
        at_risk = np.sum(time >= t)
        cif += surv * np.sum((time == t) & (status == cause)) / at_risk
        surv *= 1.0 - np.sum((time == t) & (status != 0)) / at_risk
    return cif


def test_standardizing_differs_from_the_crude_curves():
    # Group membership depends on age and eGFR in the golden data: the crude Aalen–Johansen risk of the
    # small, older 'low' group at 3 years is well above its risk standardized to the whole cohort.
    out = _run().set_index(["kind", "group", "time"])
    low = DATA[DATA["group"] == "low"]
    crude = _aalen_johansen(low["time"].to_numpy(), low["status"].to_numpy(), 1, 3.0)
    # the loop above is the Aalen–Johansen estimator written out; the helper's curve is checked against cuminc
    curve = survival.cumulative_incidence(low, "time", "status", cause=1)
    assert crude == pytest.approx(survival.at_times(curve, [3.0], "cif")[0], rel=1e-12)
    assert crude - out.loc[("risk", "low", 3.0), "estimate"] > 0.05
    high = DATA[DATA["group"] == "high"]
    crude = _aalen_johansen(high["time"].to_numpy(), high["status"].to_numpy(), 1, 3.0)
    assert out.loc[("risk", "high", 3.0), "estimate"] - crude > 0.02


def test_a_categorical_covariate_is_coded_as_indicators():
    coded = DATA.assign(male=DATA["male"].map({0: "F", 1: "M"}))
    pd.testing.assert_frame_equal(_run(coded), _run(), rtol=1e-9)


def test_tied_events_in_the_coefficients_influence_function():
    # Without ties the two ways of counting tied events agree; with ties (the golden data) riskRegression's
    # way ('ate', each tied time once) gives other standard errors than counting every event.
    untied = DATA.assign(time=DATA["time"] + np.random.default_rng(1).uniform(0, 1e-4, len(DATA)))
    pd.testing.assert_frame_equal(_run(untied), _run(untied, iid_ties="counted"), rtol=1e-12)
    ate, counted = _run(), _run(iid_ties="counted")
    np.testing.assert_allclose(ate["estimate"], counted["estimate"], rtol=1e-12)
    assert np.max(np.abs(counted["se"] / ate["se"] - 1)) > 0.01


def test_rows_with_missing_values_are_dropped_and_counted():
    data = DATA.copy()
    data.loc[[0, 1], "age"] = np.nan
    data.loc[2, "group"] = None
    data.loc[3, "time"] = np.nan
    data.loc[[3, 4], "status"] = np.nan  # row 3 twice: counted once
    data["unused"] = np.nan  # a column that is not used does not matter
    out = _run(data)
    assert out.attrs["n_dropped"] == 5 and out.attrs["n"] == len(DATA) - 5
    pd.testing.assert_frame_equal(out, _run(DATA.drop(index=[0, 1, 2, 3, 4])))


def test_a_time_beyond_the_last_follow_up_is_an_error():
    with pytest.raises(ValueError, match=r"time 6\.5 is beyond the last follow-up time \(6\) of column 'time'"):
        _run(times=[1, 6.5])


def test_a_group_level_without_patients_is_an_error():
    data = DATA.assign(group=pd.Categorical(DATA["group"], categories=["ctrl", "high", "low", "none"]))
    with pytest.raises(ValueError, match="group level 'none' of column 'group' has no patients"):
        _run(data)


def test_a_constant_covariate_is_an_error():
    with pytest.raises(ValueError, match="covariate 'male' is constant"):
        _run(DATA.assign(male=1))


def test_a_collinear_covariate_is_an_error():
    with pytest.raises(ValueError, match="design column 'age_months' is a linear combination"):
        standardized_risk(DATA.assign(age_months=DATA["age"] * 12), "time", "status", "group",
                          COVARIATES + ["age_months"], [1, 2, 3])


def test_a_group_level_without_an_event_of_a_cause_has_that_risk_zero():
    # As ate on CSC (tests/test_edges.py compares with R on pbc): the level's hazard of that cause is 0.
    data = DATA.assign(status=DATA["status"].where((DATA["group"] != "low") | (DATA["status"] != 2), 0))
    out = _run(data, cause=2)
    low = out[(out["group"] == "low") & (out["kind"] == "risk")]
    assert (low["estimate"] == 0).all() and (low["se"] == 0).all()
    others = out[(out["group"] != "low") & (out["kind"] == "risk")]
    assert (others["estimate"] > 0).all() and np.isfinite(out.loc[out["kind"] != "ratio", "se"]).all()


def test_a_cause_that_does_not_occur_is_an_error():
    with pytest.raises(ValueError, match="cause 3 does not occur in column 'status'"):
        _run(cause=3)


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("standardized.R", tmp_path, "standardized.csv", "standardized_data.csv", rtol=1e-4, atol=1e-6)


def test_patients_sharing_covariates_are_swept_once_with_the_same_result():
    # Coarse covariates make many patients identical; they are swept once and weighted by their number.
    # Against the same data with every row made distinct by a perturbation far below the tolerance.
    coarse = DATA.assign(age=(DATA["age"] // 10) * 10, egfr=(DATA["egfr"] // 15) * 15, upcr=DATA["upcr"].round(0))
    assert coarse[COVARIATES + ["group"]].duplicated().mean() > 0.5
    distinct = coarse.assign(age=coarse["age"] + 1e-9 * np.arange(len(coarse)))
    a, b = _run(coarse), _run(distinct)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-6)


def test_one_model_fitted_once_answers_each_time_and_tie_rule():
    """StandardizedModel fits each cause once on every event time: cut at earlier or later times it still gives
    ate's numbers (the golden cases 'cause2' and 'cause2_early'), and both tie rules from one sweep give what
    standardized_risk gives for each, to the last digit."""
    model = StandardizedModel(DATA, "time", "status", "group", COVARIATES, cause=2)
    for case, times in (("cause2_early", [0.1, 0.5]), ("cause2", [1, 2, 3])):
        gold = GOLD[GOLD["case"] == case]
        both = gold.merge(model.risks(times), on=["time", "group", "kind"], suffixes=("_r", ""), validate="one_to_one")
        assert len(both) == len(gold) > 0
        np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=0, atol=1e-6)
        np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-4, atol=0)
    tables = StandardizedModel(DATA, "time", "status", "group", COVARIATES, cause=2).tables([0.5, 2], ("counted", "ate"))
    for rule, table in tables.items():
        pd.testing.assert_frame_equal(table, _run(cause=2, times=[0.5, 2], iid_ties=rule), check_exact=True)
    assert not np.allclose(tables["ate"]["se"], tables["counted"]["se"])  # the golden data have tied times


def test_distinct_rows_are_numpys_unique_rows():
    """The sweep's distinct rows of relative hazards: numpy's row-wise unique (same rows, order, inverse and
    counts), with ties, zeros and a column that decides only among equal first columns."""
    from helpers.stats.standardized import _distinct_rows

    rng = np.random.default_rng(3)
    e = np.round(rng.exponential(size=(5000, 3)), 1)
    e[::7, 1] = 0.0
    e[::11] = e[0]
    rows, inverse, counts = _distinct_rows(e)
    want = np.unique(e, axis=0, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(rows, want[0])
    np.testing.assert_array_equal(inverse, want[1].reshape(-1))
    np.testing.assert_array_equal(counts, want[2])
    np.testing.assert_array_equal(rows[inverse], e)
