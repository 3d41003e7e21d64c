"""Restricted cubic splines in survival models against R (tests/golden/spline.R): rms::cph + rcs for the
cause-specific Cox model and cmprsk::crr (gtol 1e-12) on the rcspline.eval basis for Fine–Gray, on R's own
data sets (survival::lung, rotterdam, mgus2); the knots as rms places them, ties at an outer knot included."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.stats import spline

DATA = pd.read_csv(GOLDEN / "spline_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "spline.csv", keep_default_na=False, float_precision="round_trip")
GOLD["value"] = GOLD["value"].astype(float)
CASES = {  # name: model, number of knots, values of the curve, reference
    "lung": ("cox", 4, [45, 55, 70, 80], 62),
    "rotterdam": ("cox", 5, [0, 2, 6, 10], 5),
    "rotterdam_fg": ("fine_gray", 5, [0, 2, 6, 10], 5),
    "mgus2_fg": ("fine_gray", 4, [50, 65, 80], 70),
}


def _gold(name, term, quantity):
    row = GOLD[(GOLD["dataset"] == name) & (GOLD["term"] == term) & (GOLD["quantity"] == quantity)]
    assert len(row) == 1, (name, term, quantity)
    return float(row["value"].iloc[0])


def _fit(name):
    model, knots, values, reference = CASES[name]
    d = DATA[DATA["dataset"] == name]
    return spline.spline_hazard_ratios(d, "time", "status", "x", ["z1", "z2"], values, knots=knots,
                                       reference=reference, model=model)


@pytest.mark.parametrize("name", CASES)
def test_knots_are_placed_as_rms_places_them(name):
    _, knots, _, _ = CASES[name]
    expected = [_gold(name, "x", f"knot{k}") for k in range(1, knots + 1)]
    np.testing.assert_allclose(spline.rcs_knots(DATA.loc[DATA["dataset"] == name, "x"], knots), expected, rtol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_spline_model_matches_r(name):
    """Coefficients to 1e-6 absolute, standard errors to 1e-4 relative (crr's sandwich; Cox agrees far
    closer), the Wald tests of anova.rms and the contrasts to 1e-4 relative."""
    fit = _fit(name)
    model, knots, values, _ = CASES[name]
    assert fit.converged
    r_names = ["x", "x'", "x''", "x'''", "x''''"][: knots - 1] if model == "cox" else [f"s{k}" for k in range(1, knots)]
    ours = [*fit.summary.index[: knots - 1], "z1", "z2"]
    for mine, theirs in zip(ours, [*r_names, "z1", "z2"]):
        assert fit.summary.at[mine, "coef"] == pytest.approx(_gold(name, theirs, "coef"), abs=1e-6)
        assert fit.summary.at[mine, "se"] == pytest.approx(_gold(name, theirs, "se"), rel=1e-4)
    for test, result in (("overall", fit.overall), ("nonlinear", fit.nonlinear)):
        assert result.statistic == pytest.approx(_gold(name, test, "chisq"), rel=1e-4)
        assert result.pvalue == pytest.approx(_gold(name, test, "p"), rel=1e-3)
    assert (fit.overall.df, fit.nonlinear.df) == (knots - 1, knots - 2)
    for value, row in zip(values, fit.curve.itertuples()):
        assert row.log_hr == pytest.approx(_gold(name, f"{value:g}", "log_hr"), rel=1e-4, abs=1e-6)
        assert row.se == pytest.approx(_gold(name, f"{value:g}", "se_log_hr"), rel=1e-4)


def test_the_curve_is_one_at_the_reference_and_its_band_closes_there():
    fit = spline.spline_hazard_ratios(DATA[DATA["dataset"] == "lung"], "time", "status", "x", ["z1", "z2"],
                                      [50.0, 62.0, 70.0], knots=4, reference=62.0)
    at = fit.curve.set_index("x")
    assert at.at[62.0, "hr"] == 1.0 and at.at[62.0, "se"] == 0.0


def test_ties_at_the_lower_end_move_the_first_knot_inward():
    """A value shared by 20% of patients at the bottom: the first knot goes to the next distinct value and
    the other knots are placed above it (rcspline.eval's fractied rule); without the rule the first two
    quantiles would both fall on the tied value."""
    x = np.concatenate([np.zeros(200), np.arange(1, 801) / 10.0])
    knots = spline.rcs_knots(x, 4)
    assert knots[0] == 0.1 and len(knots) == 4
    assert knots[1] > 0.1
    no_rule = spline.rcs_knots(x, 4, fractied=0)
    assert no_rule[0] == 0.0


def test_few_distinct_values_give_the_inner_ones_as_knots():
    x = np.repeat([1.6, 1.7, 1.8, 1.9, 2.0, 2.1], 20)
    np.testing.assert_allclose(spline.rcs_knots(x, 5), [1.7, 1.8, 1.9, 2.0])


def test_golden_values_are_what_r_makes(tmp_path):
    rerun("spline.R", tmp_path, "spline.csv", "spline_data.csv", rtol=1e-6)


def test_chapter_3_dose_response_on_the_shipped_cohort_matches_r():
    """helpers.analysis.dose_response at the default parameters (4 knots, reference the middle of the
    reference range, 2.0 mg/dL) against rms::cph + rcs and crr on data/cohort.csv (spline.R derives the
    Model 4 covariates itself). Same tolerances as above."""
    from helpers.analysis import dose_response
    from helpers.pipeline import params as params_mod, validate

    p = params_mod.load()
    _, analysed = validate.cohorts(p)
    assert dose_response.reference_mg(p) == 2.0
    fits = dose_response.mg_splines(analysed, p)
    for model, name, r_terms in (("cox", "cohort", ["mg", "mg'", "mg''"]), ("fine_gray", "cohort_fg", ["s1", "s2", "s3"])):
        fit = fits[model]
        for mine, theirs in zip(fit.summary.index[:3], r_terms):
            assert fit.summary.at[mine, "coef"] == pytest.approx(_gold(name, theirs, "coef"), abs=1e-6)
            assert fit.summary.at[mine, "se"] == pytest.approx(_gold(name, theirs, "se"), rel=1e-4)
        assert fit.overall.statistic == pytest.approx(_gold(name, "overall", "chisq"), rel=1e-4)
        assert fit.nonlinear.statistic == pytest.approx(_gold(name, "nonlinear", "chisq"), rel=1e-4)
    np.testing.assert_allclose(fits["cox"].knots, [_gold("cohort", "mg", f"knot{k}") for k in range(1, 5)])
    curve = fits["cox"].ratio_at([1.6, 1.7, 2.2, 2.4])
    for value, row in zip([1.6, 1.7, 2.2, 2.4], curve.itertuples()):
        assert row.log_ratio == pytest.approx(_gold("cohort", f"{value:g}", "log_hr"), rel=1e-4)
        assert row.se == pytest.approx(_gold("cohort", f"{value:g}", "se_log_hr"), rel=1e-4)


def test_the_chapter_3_summary_reads_well_without_a_low_group():
    """A cohort with no patient below the lower cut-point: the curves are still fitted, and the sentence says
    what cannot be read instead of printing 'nan'."""
    from helpers.analysis import dose_response
    from helpers.pipeline import params as params_mod, validate
    from helpers.report import outputs

    p = params_mod.load()
    _, analysed = validate.cohorts(p)
    no_low = analysed[analysed["mg_group"] != "<1.8"]
    table = dose_response.spline_summary(dose_response.mg_splines(no_low, p), dose_response.reading_points(no_low))
    words = dose_response.in_words(table, outputs.format_ratio, outputs.format_p)
    assert words["low_mg"] == "no patient in the group" and words["cs_low"] == "not estimable"
    assert "nan" not in " ".join(words.values())
