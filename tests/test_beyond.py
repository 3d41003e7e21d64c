"""The chapter 'Beyond the thesis' (helpers.analysis.beyond): standardized risks against the middle group
with log-scale ratio limits, bad input as one message naming the parameter or column (also through the
build command), overlap, a seeded bootstrap independent of the runner, the marker analyses and E-values."""

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.analysis import beyond, cohort as cohort_mod, derive
from helpers.errors import InputError
from helpers.pipeline import params as params_mod, validate
from helpers.stats import evalue, imputation, survival

CUTS = [1.8, 2.2]


@pytest.fixture(scope="module")
def analysed():
    return validate.cohorts(params_mod.load())[1]


@pytest.fixture(scope="module")
def risks(analysed):
    return beyond.standardized_risks(analysed, [3, 5], CUTS)


# --- standardized risks --------------------------------------------------------------------------------

def test_comparisons_are_against_the_middle_group_not_the_first(risks):
    assert beyond.reference_group(CUTS) == "1.8–2.2"
    compared = risks[risks["kind"] != "risk"]
    assert set(compared["group"]) == {"<1.8", ">2.2"}
    at = risks.set_index(["time", "group", "kind"])["estimate"]
    for t in (3.0, 5.0):
        assert at[(t, "<1.8", "ratio")] == pytest.approx(at[(t, "<1.8", "risk")] / at[(t, "1.8–2.2", "risk")], rel=1e-12)
        assert at[(t, ">2.2", "difference")] == pytest.approx(at[(t, ">2.2", "risk")] - at[(t, "1.8–2.2", "risk")], abs=1e-12)


def test_ratio_limits_on_the_log_scale(risks):
    ratio = risks[risks["kind"] == "ratio"]
    log_se = ratio["se"] / ratio["estimate"]  # delta method: se of log(ratio)
    np.testing.assert_allclose(np.log(ratio["lower_log"]), np.log(ratio["estimate"]) - 1.959963984540054 * log_se, rtol=1e-12)
    np.testing.assert_allclose(ratio["lower_log"] * ratio["upper_log"], ratio["estimate"] ** 2, rtol=1e-12)  # symmetric in logs
    assert (ratio["lower_log"] > 0).all()
    assert risks.loc[risks["kind"] != "ratio", ["lower_log", "upper_log"]].isna().all().all()


def test_standardized_curves_pass_through_the_risks_at_their_times(analysed, risks):
    curves = beyond.standardized_curves(analysed, CUTS, step=0.5)
    assert list(dict.fromkeys(curves["group"])) == derive.mg_group_labels(CUTS)
    assert (curves.loc[curves["time"] == 0, "cif"] == 0).all()
    for g, part in curves.groupby("group"):
        assert part["cif"].is_monotonic_increasing
        at5 = risks[(risks["kind"] == "risk") & (risks["group"] == g) & (risks["time"] == 5.0)]["estimate"].iloc[0]
        assert part.loc[part["time"] == 5.0, "cif"].iloc[0] == pytest.approx(at5, rel=1e-10)


@pytest.mark.parametrize("change, fragment", [
    (lambda d: (d, [3, 30], CUTS), "risk_times: 30 years is beyond the last follow-up"),
    (lambda d: (d.assign(diabetes=0), [3], CUTS), "column 'diabetes' of the cohort is constant (0)"),
    (lambda d: (d.assign(sex="F", male=0.0), [3], CUTS), "column 'male' (derived from sex) of the cohort is constant"),
])
def test_bad_input_is_one_message_naming_it(analysed, change, fragment):
    data, times, cuts = change(analysed)
    with pytest.raises(InputError) as err:
        beyond.standardized_risks(data, times, cuts)
    assert fragment in str(err.value) and err.value.__cause__ is None


def test_a_group_without_patients_says_why_and_the_others_are_as_without_that_level():
    from helpers.stats.standardized import standardized_risk

    the_cohort = validate.load_cohort(paths.DATA / "cohort.csv")
    data = cohort_mod.analysis_cohort(the_cohort, [1.0, 2.2], 2.6)  # nobody below 1.0 mg/dL
    risks = beyond.standardized_risks(data, [3], [1.0, 2.2])
    low = risks[risks["group"] == "<1"]
    assert len(low) == 3 and (low["reason"] == "not estimable: no patient in the <1 mg/dL group").all()
    assert low["estimate"].isna().all()
    # The two groups with patients: as the same data with a group column that has only their two levels.
    two = standardized_risk(data.assign(mg_group=data["mg_group"].astype(str)), "followup_years", "status", "mg_group",
                            list(beyond.ADJUSTMENT), [3], reference="1–2.2")
    both = risks.merge(two, on=["time", "group", "kind"], suffixes=("", "_two"))
    assert len(both) == len(two) == 4
    np.testing.assert_allclose(both["estimate"], both["estimate_two"], rtol=1e-12)
    np.testing.assert_allclose(both["se"], both["se_two"], rtol=1e-12)


def test_a_group_without_a_composite_event_is_estimated_as_ate_estimates_it(analysed):
    # The low group without a composite event: its hazard of the composite outcome is 0 (as R's ate on CSC),
    # so its standardized risk is 0 and the page goes on; the cells say why it rests on nothing.
    data = analysed.assign(status=analysed["status"].where(~((analysed["mg_group"] == "<1.8") & (analysed["status"] == 1)), 0))
    risks = beyond.standardized_risks(data, [3], CUTS, source="cohort.csv")
    low = risks[(risks["group"] == "<1.8") & (risks["kind"] == "risk")].iloc[0]
    assert low["estimate"] == 0 and low["events_group"] == 0 and low["competing_group"] > 0


# --- overlap -------------------------------------------------------------------------------------------

def test_overlap_flags_a_group_that_misses_the_cohorts_bulk():
    rng = np.random.default_rng(1)
    n = 400
    group = pd.Categorical(np.repeat(["a", "b"], [40, n - 40]), categories=["a", "b"])
    x = np.where(group == "a", rng.uniform(40, 60, n), rng.uniform(0, 100, n))
    flag = np.where(group == "a", 1.0, rng.integers(0, 2, n).astype(float))
    table = beyond.overlap(pd.DataFrame({"mg_group": group, "x": x, "flag": flag}), ["x", "flag"]).set_index(["covariate", "group"])
    assert not table.at[("x", "a"), "covers"] and "lowest value above" in table.at[("x", "a"), "gap"]
    assert "highest value below" in table.at[("x", "a"), "gap"]
    assert table.at[("x", "b"), "covers"]
    assert table.at[("x", "a"), "cohort_low"] == pytest.approx(np.quantile(x, 0.05))
    assert not table.at[("flag", "a"), "covers"] and table.at[("flag", "a"), "share"] == 1.0
    assert table.at[("flag", "b"), "covers"]


# --- bootstrap -----------------------------------------------------------------------------------------

def test_bootstrap_is_seeded_per_replicate_and_independent_of_the_runner(analysed):
    plain = beyond.bootstrap_risks(analysed, [3], CUTS, replicates=3, seed=5)
    backwards = beyond.bootstrap_risks(analysed, [3], CUTS, replicates=3, seed=5,
                                       map=lambda f, items: [f(i) for i in reversed(items)][::-1])
    pd.testing.assert_frame_equal(plain, backwards, check_exact=True)
    # Each replicate from its own SeedSequence child: the percentiles of the replicates computed one by one.
    data = analysed[["followup_years", "status", "mg_group", *beyond.ADJUSTMENT]].dropna().reset_index(drop=True)
    draws = np.vstack([beyond._bootstrap_once(s, data, [3], "1.8–2.2", beyond.ADJUSTMENT, 1)
                       for s in np.random.SeedSequence([5, 2]).spawn(3)])
    np.testing.assert_allclose(plain["boot_lower"], np.percentile(draws, 2.5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(plain["boot_upper"], np.percentile(draws, 97.5, axis=0), rtol=1e-12)
    assert (plain["replicates"] == 3).all() and (plain["failed"] == 0).all()
    other = beyond.bootstrap_risks(analysed, [3], CUTS, replicates=3, seed=6)
    assert not np.allclose(other["boot_lower"], plain["boot_lower"])


# --- markers -------------------------------------------------------------------------------------------

def test_hiding_markers_is_seeded_leaves_the_input_alone_and_follows_egfr(analysed):
    before = analysed.copy()
    hidden = beyond.hide_markers(analysed, seed=3)
    pd.testing.assert_frame_equal(analysed, before)
    pd.testing.assert_frame_equal(hidden, beyond.hide_markers(analysed, seed=3))
    share = hidden["ipth"].isna().mean()
    assert 0.15 < share < 0.25
    low_egfr = hidden["egfr"] < hidden["egfr"].median()
    assert hidden.loc[low_egfr, "ipth"].isna().mean() > hidden.loc[~low_egfr, "ipth"].isna().mean()
    assert hidden.drop(columns=["ipth", "vitd25", "hscrp"]).equals(analysed.drop(columns=["ipth", "vitd25", "hscrp"]))


def test_marker_analyses_say_how_many_each_uses(analysed):
    assert beyond.missing_markers(analysed)["n_missing"].sum() == 0  # the shipped cohort records every marker
    result = beyond.marker_analyses(analysed, imputations=2, seed=4)
    assert result.demonstration
    t = result.table
    model4 = t[(t["analysis"] == "Model 4") & (t["term"] == "mg_low")].iloc[0]
    direct = survival.cause_specific_cox(analysed, "followup_years", "status", beyond.MODEL_4)
    assert model4["hr"] == pytest.approx(direct.at["mg_low", "hr"], rel=1e-12) and model4["n"] == len(analysed)
    hidden = beyond.marker_terms(beyond.hide_markers(analysed, 4))
    complete = hidden[["log2_ipth", "vitd25_per_10", "log2_hscrp"]].notna().all(axis=1)
    cc = t[(t["setting"] != "as recorded") & t["analysis"].str.contains("complete cases")]
    mi = t[t["analysis"].str.contains("multiple imputation")]
    assert (cc["n"] == complete.sum()).all() and (mi["n"] == len(analysed)).all()
    assert (mi["n_imputed"] == (~complete).sum()).all() and mi["fmi"].between(0, 1).all() and (mi["df"] > 0).all()


def test_markers_missing_in_the_data_are_imputed_as_recorded(analysed):
    data = analysed.copy()
    data.loc[data.index[::5], "vitd25"] = np.nan
    result = beyond.marker_analyses(data, imputations=2, seed=4)
    assert not result.demonstration
    assert set(result.table["setting"]) == {"as recorded"}
    assert result.missing.set_index("column").at["vitd25", "n_missing"] == len(data.index[::5])
    mi = result.table[result.table["analysis"].str.contains("multiple imputation")]
    assert (mi["n_imputed"] == len(data.index[::5])).all()


def test_fewer_imputations_on_the_same_data_reuse_the_earlier_ones_exactly(analysed, monkeypatch):
    """Exercise beyond-2's solution (fewer imputations, same data and seed) pools the first imputations of the
    page's run instead of imputing again: the same table as a run from nothing, and no new imputation."""
    for memo in (beyond._IMPUTED, beyond._COX):
        monkeypatch.setattr(memo, "items", type(memo.items)())
    larger = beyond.marker_analyses(analysed, imputations=3, seed=7)
    imputed = []
    monkeypatch.setattr(imputation, "multiple_imputation_cox",
                        lambda *a, _run=imputation.multiple_imputation_cox, **k: imputed.append(1) or _run(*a, **k))
    reused = beyond.marker_analyses(analysed.copy(), imputations=2, seed=7)
    assert not imputed and larger.table.shape == reused.table.shape
    for memo in (beyond._IMPUTED, beyond._COX):
        memo.items.clear()
    fresh = beyond.marker_analyses(analysed.copy(), imputations=2, seed=7)
    assert imputed == [1]
    pd.testing.assert_frame_equal(reused.table, fresh.table, check_exact=True)
    pd.testing.assert_frame_equal(reused.trace, fresh.trace, check_exact=True)
    assert reused.needed == fresh.needed
    assert not np.allclose(larger.table["hr"], reused.table["hr"], equal_nan=True)


def test_one_imputation_is_refused_naming_the_parameter(analysed):
    with pytest.raises(InputError, match="imputations: 1 imputed data set is not multiple imputation"):
        beyond.marker_analyses(analysed, imputations=1, seed=1)


# --- E-values ------------------------------------------------------------------------------------------

def test_e_values_check_the_rare_outcome_assumption(analysed):
    fit = survival.cause_specific_cox(analysed, "followup_years", "status", beyond.MODEL_4)
    hr = fit.loc["mg_low", ["hr", "lower", "upper"]].to_numpy(float)
    common = beyond.e_values(analysed, limit=0.0)  # every outcome counts as common: both rows
    assert list(common.table["rare"]) == [True, False] and not common.rare
    expected = evalue.e_value(*hr, rare=False)
    assert common.table.iloc[1]["e_point"] == pytest.approx(expected.point, rel=1e-12)
    assert common.table.iloc[1]["e_ci"] == pytest.approx(expected.ci, rel=1e-12)
    rare = beyond.e_values(analysed, limit=1.0)
    assert len(rare.table) == 1 and rare.rare
    assert rare.table.iloc[0]["e_point"] == pytest.approx(evalue.e_value(*hr).point, rel=1e-12)
    # The check reads the Aalen–Johansen curve at the end of follow-up, overall and in each group.
    end = rare.incidence_end.set_index("group")
    low = survival.cumulative_incidence(analysed[analysed["mg_group"] == "<1.8"], "followup_years", "status")
    assert end.at["<1.8", "cif"] == pytest.approx(low["cif"].iloc[-1], rel=1e-12)
    assert rare.largest == pytest.approx(end["cif"].max())
    assert set(end.index) == {"All patients", "<1.8", "1.8–2.2", ">2.2"}


# --- through the build command -------------------------------------------------------------------------

def _build(tmp_path, text, capsys):
    """``mg-book --params FILE --out OUT --only beyond --no-cache`` in this process (an exception escaping it
    fails the test, as a traceback would); tests/test_book.py runs the command as a separate process once."""
    from helpers.pipeline import build

    params_file = tmp_path / "p.yml"
    params_file.write_text(text)
    code = build.main(["--params", str(params_file), "--out", str(tmp_path / "out"), "--only", "beyond", "--no-cache"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_risk_time_beyond_follow_up_stops_the_build_with_one_message(tmp_path, capsys):
    code, stdout, stderr = _build(tmp_path, "risk_times: [30]\n", capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "risk_times: 30 years is beyond the last follow-up" in lines[0], stderr
    assert not (tmp_path / "out").exists() and "executed" not in stdout  # checked before any notebook runs


def test_a_remote_cluster_is_refused_for_real_data_before_any_notebook_runs(tmp_path, capsys):
    # The build's own check (runs.PREFLIGHT): with data_kind real, an address off this machine is refused
    # before anything connects or executes. (An address where nothing answers: tests/test_distributed.py.)
    code, stdout, stderr = _build(tmp_path, "data_kind: real\ndask_scheduler: tcp://10.20.30.40:8786\n", capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "tcp://10.20.30.40:8786 is not on this machine" in lines[0], stderr
    assert "dask_allow_patient_data: true" in lines[0]
    assert not (tmp_path / "out").exists() and "executed" not in stdout


def test_tied_time_variance_gives_ates_standard_errors_and_the_counted_ones(analysed, risks):
    ties = beyond.tied_time_variance(analysed, [3, 5], [1.8, 2.2])
    assert np.allclose(ties["se_ate"].to_numpy(), risks.set_index(["time", "group", "kind"]).loc[
        list(zip(ties["time"], ties["group"], ties["kind"])), "se"].to_numpy(), rtol=1e-12)
    assert (ties["se_counted"] > 0).all() and np.allclose(ties["ratio"], ties["se_counted"] / ties["se_ate"])
    untied = analysed.assign(followup_years=analysed["followup_years"] + np.arange(len(analysed)) * 1e-7)
    same = beyond.tied_time_variance(untied, [3], [1.8, 2.2])
    assert np.allclose(same["ratio"], 1.0, rtol=1e-9)  # without ties the two forms agree


def test_the_e_value_is_read_from_the_standardized_risk_ratio_first(analysed):
    """The E-value's own scale is the risk ratio: with standardized risks given, the first row starts from
    the low group's standardized risk ratio at the latest time and its log-scale limits, with no conversion;
    the hazard ratio's rows follow, marked as approximations."""
    risks = beyond.standardized_risks(analysed, [3, 5], (1.8, 2.2))
    result = beyond.e_values(analysed, limit=0.0, risks=risks)
    first = result.table.iloc[0]
    ratio = risks[(risks["time"] == 5) & (risks["group"] == "<1.8") & (risks["kind"] == "ratio")].iloc[0]
    assert first["primary"] and first["scale"] == "risk ratio" and result.headline.equals(first)
    assert first["ratio"] == ratio["estimate"] and first["lower"] == ratio["lower_log"]
    assert first["e_point"] == pytest.approx(evalue.e_value_rr(ratio["estimate"]), rel=1e-12)
    expected_ci = 1.0 if ratio["lower_log"] <= 1 else evalue.e_value_rr(ratio["lower_log"])
    assert first["e_ci"] == pytest.approx(expected_ci, rel=1e-12)
    assert list(result.table["scale"][1:]) == ["hazard ratio", "hazard ratio"]
    assert all(a.startswith("approximation") for a in result.table["assumption"][1:])


def test_the_kidney_model_gets_proteinuria_by_default(analysed):
    from helpers.pipeline import params as params_mod

    p = params_mod.load()
    own, kidney, note = beyond.adjustment_sets(p, analysed)
    assert own == beyond.ADJUSTMENT and kidney == [*beyond.ADJUSTMENT, "log2_proteinuria"] and note == ""
    default = beyond.standardized_risks(analysed, [5], (1.8, 2.2))
    with_kidney = beyond.standardized_risks(analysed, [5], (1.8, 2.2), own, competing=kidney)
    assert not default["estimate"].equals(with_kidney["estimate"])
    total, _, _ = beyond.adjustment_sets(p | {"standardization_adjustment": "total_effect"}, analysed)
    assert "phosphate" not in total and "corrected_calcium" not in total
    _, fallback, note = beyond.adjustment_sets(p, analysed.assign(log2_proteinuria=float("nan")))
    assert fallback == beyond.ADJUSTMENT and "no proteinuria" in note


def test_an_e_value_that_cannot_be_read_from_the_risk_ratio_falls_back_to_the_hazard_ratio(analysed):
    """A standardized risk ratio without finite positive limits (here forced) gives no row on that scale; the
    hazard ratio's approximation is then the headline, and nothing raises."""
    risks = beyond.standardized_risks(analysed, [5], (1.8, 2.2))
    risks.loc[risks["kind"] == "ratio", "lower_log"] = 0.0
    result = beyond.e_values(analysed, risks=risks)
    assert not result.table["primary"].any() and result.headline["scale"] == "hazard ratio"
