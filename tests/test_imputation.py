"""Multiple imputation and Rubin's rules (helpers.stats.imputation) against R's mice
(tests/golden/imputation.R), and the behaviour of the multiply imputed Cox model."""

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from golden_values import GOLDEN, rerun
from helpers.stats import imputation
from imputation_data import COVARIATES, MARKERS, cohort_with_missing_markers

POOLED = pd.read_csv(GOLDEN / "imputation.csv", float_precision="round_trip")
COX = pd.read_csv(GOLDEN / "imputation_cox.csv", float_precision="round_trip")
COX_DATA = pd.read_csv(GOLDEN / "imputation_cox_data.csv", float_precision="round_trip")
FIELDS = ["qbar", "ubar", "b", "t", "df", "r", "fmi"]


def _floats(text):
    return np.array([float(v) for v in text.split()])


@pytest.mark.parametrize("name", POOLED["set"])
def test_pool_rubin_matches_mice_pool_scalar(name):
    row = POOLED.set_index("set").loc[name]
    pooled = imputation.pool_rubin(_floats(row["Q"]), _floats(row["U"]), n=float(row["n"]), k=int(row["k"]))
    assert pooled.m == row["m"]
    for field in FIELDS:
        # Tolerance 1e-10 relative (1e-15 absolute for the exact zeros of b and r when B = 0);
        # seen: 8e-15 relative at worst (mice 3.15.0, R 4.2.2).
        assert getattr(pooled, field) == pytest.approx(float(row[field]), rel=1e-10, abs=1e-15), field


def test_pool_rubin_with_no_between_variance_follows_mice_floor():
    # mice floors lambda at 1e-4, so with B = 0 the df is finite and fmi = 2 / (df + 3) > 0 (not 0).
    row = POOLED.set_index("set").loc["b_zero"]
    pooled = imputation.pool_rubin(_floats(row["Q"]), _floats(row["U"]), n=float(row["n"]), k=int(row["k"]))
    assert pooled.b == 0 and pooled.r == 0
    assert pooled.fmi == pytest.approx(2 / (pooled.df + 3), rel=1e-14)
    assert pooled.t == pooled.ubar


def test_pool_rubin_rejects_a_single_imputation():
    with pytest.raises(ValueError):
        imputation.pool_rubin([0.1], [0.01], n=100)


def test_pool_rubin_table_matches_mice_pool_of_coxph():
    estimates, variances, events = [], [], None
    for _, d in COX_DATA.groupby("imputation", sort=True):
        coef, var, converged = imputation._cox(d["time"].to_numpy(float), (d["status"] == 1).to_numpy(float),
                                               d[["x1", "x2", "x3"]].to_numpy(float))
        assert converged
        estimates.append(coef)
        variances.append(var)
        events = int((d["status"] == 1).sum())
    terms = ["x1", "x2", "x3"]
    assert events - len(terms) == COX["dfcom"].iloc[0]  # mice's complete-data df for coxph
    table = imputation.pool_rubin_table(pd.DataFrame(estimates, columns=terms), pd.DataFrame(variances, columns=terms),
                                        n=events, k=len(terms))
    assert list(table.columns[:8]) == ["term", "estimate", "se", "df", "lower", "upper", "p", "fmi"]
    gold = COX.set_index("term")
    for column in ["estimate", "se", "df", "lower", "upper", "p", "fmi", "riv", "lambda"]:
        # Tolerance 1e-9 relative (the Cox fits converge to 1e-12); seen: 3e-14 relative at worst.
        np.testing.assert_allclose(table[column], gold.loc[terms, column], rtol=1e-9, err_msg=column)


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("imputation.R", tmp_path, "imputation.csv", "imputation_cox.csv", "imputation_cox_data.csv", rtol=1e-9, atol=1e-15)


# --- the imputation model ---------------------------------------------------------------------------------


def test_nelson_aalen_by_hand():
    time = np.array([1, 1, 2, 3, 3, 4, 5.0])
    status = np.array([1, 0, 1, 1, 1, 0, 1.0])
    # At risk 7, 5, 4, 2, 1 at times 1..5; events 1, 1, 2, 0, 1.
    h1, h2, h3, h5 = 1 / 7, 1 / 7 + 1 / 5, 1 / 7 + 1 / 5 + 2 / 4, 1 / 7 + 1 / 5 + 2 / 4 + 1
    np.testing.assert_allclose(imputation.nelson_aalen_at_own_time(time, status), [h1, h1, h2, h3, h3, h3, h5],
                               rtol=1e-15)


def test_imputation_frame_holds_covariates_event_indicators_and_nelson_aalen():
    d = cohort_with_missing_markers()
    d.loc[d.index[:3], "male"] = np.nan  # a covariate that is not imputed: those patients are left out
    frame = imputation.imputation_frame(d, "time", "status", COVARIATES, MARKERS)
    assert list(frame.columns) == [*COVARIATES, "event_1", "nelson_aalen_1", "event_2", "nelson_aalen_2"]
    assert "time" not in frame and "status" not in frame
    kept = d.iloc[3:]
    assert list(frame.index) == list(kept.index)
    assert frame[MARKERS].isna().sum().sum() == kept[MARKERS].isna().sum().sum()  # markers keep their gaps
    for cause in (1, 2):
        status = (kept["status"] == cause).to_numpy(float)
        np.testing.assert_array_equal(frame[f"event_{cause}"], status)
        np.testing.assert_allclose(frame[f"nelson_aalen_{cause}"],
                                   imputation.nelson_aalen_at_own_time(kept["time"].to_numpy(), status), rtol=0)
    # Every other column predicts each marker: the chained equations see the cumulative hazards.
    data = frame.rename(columns={c: f"v{j}" for j, c in enumerate(frame.columns)}).reset_index(drop=True)
    from statsmodels.imputation.mice import MICEData
    formula = MICEData(data).conditional_formula["v2"]  # log_ipth
    assert "v6" in formula and "v8" in formula and "v5" in formula  # nelson_aalen_1, nelson_aalen_2, event_1


def test_an_imputed_marker_takes_observed_values_only():
    d = cohort_with_missing_markers()
    frame = imputation.imputation_frame(d, "time", "status", COVARIATES, MARKERS)
    completed = imputation._impute_once(frame, np.random.SeedSequence(3), cycles=5, donors=5)
    assert not completed.isna().any().any()
    for marker in MARKERS:  # predictive mean matching draws donors' observed values
        assert set(completed[marker]) <= set(frame[marker].dropna())
    observed = frame.notna()
    pd.testing.assert_frame_equal(completed[observed], frame[observed])


# --- the multiply imputed Cox model -------------------------------------------------------------------------


def _run(d, **kw):
    return imputation.multiple_imputation_cox(d, "time", "status", COVARIATES, MARKERS, **{"imputations": 4, "seed": 5, **kw})


def test_same_seed_same_result_and_another_seed_another():
    d = cohort_with_missing_markers()
    a, b, c = _run(d), _run(d), _run(d, seed=6)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert not np.allclose(a.table["estimate"], c.table["estimate"])


def test_counts_and_table():
    d = cohort_with_missing_markers()
    result = _run(d)
    assert result.n == len(d)
    assert result.n_missing == int(d[MARKERS].isna().any(axis=1).sum()) > 0
    assert result.imputations == 4 == len(result.estimates)
    assert result.events == int((d["status"] == 1).sum())
    assert result.table.attrs == {"n": result.n, "n_missing": result.n_missing, "events": result.events, "imputations": 4}
    table = result.table
    assert list(table["term"]) == COVARIATES
    np.testing.assert_allclose(table["hr"], np.exp(table["estimate"]))
    assert (table.loc[table["term"].isin(MARKERS), "b"] > 0).all()
    assert (table["fmi"] > 0).all() and (table["fmi"] < 1).all()


def test_recovers_the_full_data_estimate_roughly():
    d = cohort_with_missing_markers(n=600)
    result = _run(d, imputations=10)
    full = imputation.multiple_imputation_cox(d.attrs["complete"], "time", "status", COVARIATES, MARKERS, imputations=2).table
    gap = (result.table["estimate"] - full["estimate"]).abs() / result.table["se"]
    assert (gap < 1.0).all(), gap.to_dict()


def test_without_missing_values_equals_the_complete_case_fit():
    d = cohort_with_missing_markers().dropna()
    result = _run(d)
    assert result.n_missing == 0
    table = result.table.set_index("term")
    status = (d["status"] == 1).to_numpy(float)
    # statsmodels' PHReg fitted directly, without the standardisation used inside.
    fit = PHReg(d["time"].to_numpy(float), d[COVARIATES].to_numpy(float), status=status, ties="efron").fit(
        disp=False, tol=1e-12)
    np.testing.assert_allclose(table.loc[COVARIATES, "estimate"], fit.params, rtol=1e-8)
    np.testing.assert_allclose(table.loc[COVARIATES, "se"], fit.bse, rtol=1e-8)
    assert (table["b"] == 0).all() and (table["riv"] == 0).all() and (table["lambda"] == 0).all()
    # fmi is not exactly 0: mice floors lambda at 1e-4 and adds 2 / (df + 3) (see pool_rubin).
    np.testing.assert_allclose(table["fmi"], 2 / (table["df"] + 3), rtol=1e-14)


def test_map_is_used_and_seeds_are_spawned_children():
    d = cohort_with_missing_markers()
    seen = []

    def recording_map(function, seeds):
        seen.extend(seeds)
        return [function(s) for s in reversed(seeds)][::-1]  # another order of execution, same result

    a, b = _run(d), _run(d, map=recording_map)
    pd.testing.assert_frame_equal(a.table, b.table, check_exact=True)
    assert [s.spawn_key for s in seen] == [(j,) for j in range(4)]
    assert all(s.entropy == 5 for s in seen)


def test_fast_design_matrices_give_statsmodels_own_imputations():
    from statsmodels.imputation.mice import MICEData

    d = cohort_with_missing_markers(n=200)
    frame = imputation.imputation_frame(d, "time", "status", COVARIATES, MARKERS)
    seed = np.random.SeedSequence(4)
    fast = imputation._impute_once(frame, seed, cycles=3, donors=5)
    stock = imputation._impute_once(frame, seed, cycles=3, donors=5, engine=MICEData)
    pd.testing.assert_frame_equal(fast, stock, check_exact=True)


def test_fast_imputations_equal_statsmodels_when_a_design_is_not_of_full_rank():
    """A column that is twice another: the fast fits hand over to statsmodels' pseudo-inverse, same draws."""
    from statsmodels.imputation.mice import MICEData

    d = cohort_with_missing_markers(n=300)
    frame = imputation.imputation_frame(d, "time", "status", COVARIATES, MARKERS)
    frame["twice"] = 2.0 * frame[COVARIATES[0]]
    seed = np.random.SeedSequence(7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = imputation._impute_once(frame, seed, cycles=3, donors=5)
        stock = imputation._impute_once(frame, seed, cycles=3, donors=5, engine=MICEData)
    pd.testing.assert_frame_equal(fast, stock, check_exact=True)


def test_refuses_what_it_cannot_fit():
    d = cohort_with_missing_markers(n=100)
    with pytest.raises(ValueError, match="no events of cause 3"):
        _run(d, cause=3)
    with pytest.raises(ValueError, match="at least two imputations"):
        _run(d, imputations=1)
    with pytest.raises(ValueError, match="not in the data: pth"):
        imputation.multiple_imputation_cox(d, "time", "status", COVARIATES, ["pth"])


def test_von_hippels_rule():
    """m = 1 + ½ (FMI / cv)², von Hippel (2020), worked by hand: FMI 0.31 at cv 0.05 gives 20.22, so 21;
    no missing information still needs two imputations to be multiple imputation."""
    from helpers.stats import imputation

    assert imputation.imputations_needed(0.31) == 21
    assert imputation.imputations_needed(0.2, cv=0.1) == 3  # 1 + 0.5 · 4 = 3
    assert imputation.imputations_needed(0.0) == 2
    assert imputation.se_variation(0.31, 21) == pytest.approx(0.31 / np.sqrt(40), rel=1e-12)
    assert imputation.se_variation(0.31, imputation.imputations_needed(0.31)) <= 0.05  # the rule meets its target
    with pytest.raises(ValueError):
        imputation.imputations_needed(1.5)


def test_the_convergence_trace_follows_each_chain_cycle_by_cycle():
    """Every chain, cycle and imputed variable has a row; the first chain repeats itself for the same seed and
    differs for another (each chain draws from its own child seed)."""
    from helpers.stats import imputation

    rng = np.random.default_rng(4)
    n = 120
    frame = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    frame["y"] += frame["x"]
    frame.loc[rng.choice(n, 30, replace=False), "y"] = np.nan
    a = imputation.chain_trace(frame, ["y"], chains=3, cycles=4, seed=1)
    assert len(a) == 12 and set(a["chain"]) == {1, 2, 3} and set(a["cycle"]) == {1, 2, 3, 4}
    pd.testing.assert_frame_equal(a, imputation.chain_trace(frame, ["y"], chains=3, cycles=4, seed=1))
    assert not a["mean"].equals(imputation.chain_trace(frame, ["y"], chains=3, cycles=4, seed=2)["mean"])


def test_the_first_imputations_of_a_larger_run_are_the_smaller_run():
    """Each imputation depends on the data and its own child of the seed, spawned in order: pooling the first
    3 of 5 gives exactly what a run of 3 gives (what chapter 8's exercise beyond-2 reuses)."""
    d = cohort_with_missing_markers()
    small, large = _run(d, imputations=3), _run(d, imputations=5)
    first = imputation.first_imputations(large, 3)
    pd.testing.assert_frame_equal(first.table, small.table, check_exact=True)
    assert (first.imputations, first.converged, first.each_converged) == (3, small.converged, small.each_converged)
    assert not np.allclose(large.table["estimate"], small.table["estimate"])
    with pytest.raises(ValueError, match="between 2 and the 3"):
        imputation.first_imputations(small, 4)


def test_the_trace_follows_the_chains_that_made_the_first_imputations():
    """With trace_chains the first imputations record their own chains (as plot(mice(...)) does) without
    changing a draw: the pooled table is the same, and each traced chain's last cycle is the mean of the
    values imputed in that imputation's completed data."""
    d = cohort_with_missing_markers()
    plain, traced = _run(d), _run(d, trace_chains=2, cycles=3)
    pd.testing.assert_frame_equal(_run(d, cycles=3).table, traced.table, check_exact=True)
    assert plain.trace is None and set(traced.trace["chain"]) == {1, 2} and set(traced.trace["cycle"]) == {1, 2, 3}
    frame = imputation.imputation_frame(d, "time", "status", COVARIATES, MARKERS)
    for chain, seed in enumerate(np.random.SeedSequence(5).spawn(2), start=1):
        completed = imputation._impute_once(frame, seed, cycles=3, donors=5)
        last = traced.trace[(traced.trace["chain"] == chain) & (traced.trace["cycle"] == 3)].set_index("variable")
        for marker in MARKERS:
            assert last.at[marker, "mean"] == pytest.approx(completed.loc[frame[marker].isna(), marker].mean(), rel=1e-12)
    first = imputation.first_imputations(traced, 2)
    pd.testing.assert_frame_equal(first.trace, traced.trace, check_exact=True)
    assert set(imputation.first_imputations(_run(d, trace_chains=3, cycles=3), 2).trace["chain"]) == {1, 2}
