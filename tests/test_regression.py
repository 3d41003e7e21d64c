"""Logistic regression and restricted cubic splines against R (tests/golden/regression.R): 1e-6."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers import regression

DATA = pd.read_csv(GOLDEN / "regression_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "regression.csv", keep_default_na=False, float_precision="round_trip")
GOLD["value"] = GOLD["value"].astype(float)
GRID = np.round(np.arange(1.6, 2.6 + 1e-9, 0.05), 2)
TERMS = ["low", "high", "z1", "z2", "z3"]


def _gold(what, term, quantity):
    row = GOLD[(GOLD["what"] == what) & (GOLD["term"] == term) & (GOLD["quantity"] == quantity)]
    assert len(row) == 1, (what, term, quantity)
    return float(row["value"].iloc[0])


def test_logistic_matches_glm():
    fit = regression.logistic(DATA, "y", TERMS)
    for term, r_term in zip(["Intercept", *TERMS], ["(Intercept)", *TERMS]):
        assert fit.at[term, "coef"] == pytest.approx(_gold("glm", r_term, "coef"), rel=1e-6, abs=1e-9)
        assert fit.at[term, "se"] == pytest.approx(_gold("glm", r_term, "se"), rel=1e-6)
        assert fit.at[term, "p"] == pytest.approx(_gold("glm", r_term, "p"), rel=1e-6)
    assert fit.attrs["loglik"] == pytest.approx(_gold("glm", "", "loglik"), rel=1e-9)
    assert np.allclose(fit["or"], np.exp(fit["coef"]))


def test_linear_matches_lm():
    """Coefficients and standard errors to 1e-9 relative, P to 1e-7 (summary(lm), t on residual df)."""
    from helpers.stats import regression as stats_regression

    fit = stats_regression.linear(DATA, "z3", ["low", "high", "z1", "z2", "mgc"])
    for term in ["Intercept", "low", "high", "z1", "z2", "mgc"]:
        r = "(Intercept)" if term == "Intercept" else term
        assert fit.at[term, "coef"] == pytest.approx(_gold("lm", r, "coef"), rel=1e-9)
        assert fit.at[term, "se"] == pytest.approx(_gold("lm", r, "se"), rel=1e-9)
        assert fit.at[term, "p"] == pytest.approx(_gold("lm", r, "p"), rel=1e-7)


def test_logistic_drops_incomplete_rows():
    d = DATA.copy()
    d.loc[:9, "z1"] = np.nan
    fit = regression.logistic(d, "y", TERMS)
    assert fit.attrs["n"] == len(d) - 10 and fit.attrs["events"] == int(d["y"].iloc[10:].sum())


@pytest.mark.parametrize("k", [3, 4, 5, 6, 7])
def test_knots_match_rcspline_eval(k):
    expected = [_gold(f"knots_{k}", str(j), "knot") for j in range(1, k + 1)]
    np.testing.assert_allclose(regression.harrell_knots(DATA["mgc"], k), expected, rtol=1e-9)


def test_tied_quantiles_give_fewer_knots():
    x = np.repeat([1.9, 2.0, 2.1, 2.2, 2.3], [10, 60, 200, 60, 10])
    knots = regression.harrell_knots(x, 4)
    assert len(knots) < 4 and np.all(np.diff(knots) > 0)


@pytest.mark.parametrize("name, knots", [("rcs_4", [1.9, 2.1, 2.3, 2.5]), ("rcs_5", [1.8, 2.0, 2.1, 2.2, 2.4])])
def test_rcs_basis_matches_rms(name, knots):
    basis = regression.rcs_basis(GRID, knots)
    assert basis.shape == (len(GRID), len(knots) - 1)
    for j in range(basis.shape[1]):
        expected = [_gold(name, str(j + 1), str(i + 1)) for i in range(len(GRID))]
        np.testing.assert_allclose(basis.iloc[:, j], expected, rtol=1e-9, atol=1e-14)


def test_spline_is_linear_beyond_the_outer_knots():
    basis = regression.rcs_basis([3.0, 4.0, 5.0], [1.9, 2.1, 2.3, 2.5])
    assert np.allclose(np.diff(basis.to_numpy(), n=2, axis=0), 0.0)


def test_spline_odds_ratios_match_lrm_contrast_and_anova():
    fit = regression.spline_odds_ratios(DATA, "y", "mg", ["z1", "z2", "z3"], [1.9, 2.1, 2.3, 2.5], 2.0, GRID)
    contrasts = GOLD[GOLD["what"] == "lrm_contrast"]
    for i, x in enumerate(GRID):
        key = contrasts[np.isclose(contrasts["term"].astype(float), x)]["term"].iloc[0]
        assert fit.curve.at[i, "log_or"] == pytest.approx(_gold("lrm_contrast", key, "log_or"), rel=1e-6, abs=1e-9)
        assert fit.curve.at[i, "se"] == pytest.approx(_gold("lrm_contrast", key, "se"), rel=1e-6, abs=1e-12)
    assert fit.nonlinearity_chisq == pytest.approx(_gold("lrm_anova", "Nonlinear", "chisq"), rel=1e-6)
    assert fit.nonlinearity_df == _gold("lrm_anova", "Nonlinear", "df")
    assert fit.nonlinearity_p == pytest.approx(_gold("lrm_anova", "Nonlinear", "p"), rel=1e-6)
    ref = fit.curve[np.isclose(fit.curve["mg"], 2.0)].iloc[0]
    assert ref["or"] == pytest.approx(1.0) and ref["se"] == pytest.approx(0.0, abs=1e-12)


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("regression.R", tmp_path, "regression.csv", "regression_data.csv", rtol=1e-6, atol=1e-9)


def test_spline_knots_take_a_number_or_explicit_positions():
    x = np.linspace(1.5, 2.8, 200)
    np.testing.assert_array_equal(regression.spline_knots(x, 4), regression.harrell_knots(x, 4))
    np.testing.assert_array_equal(regression.spline_knots(x, [2.5, 1.6, 1.9, 2.2, 2.2]), [1.6, 1.9, 2.2, 2.5])
    with pytest.raises(ValueError):
        regression.spline_knots(x, [1.8, 2.2])


def test_separated_data_do_not_converge():
    # R's glm warns "fitted probabilities numerically 0 or 1 occurred": no maximum exists. The optimiser's
    # verdict says so (statsmodels' GLM IRLS reported this data set as converged).
    d = pd.DataFrame({"x": np.arange(20.0), "y": (np.arange(20) > 9).astype(float)})
    assert regression.logistic(d, "y", ["x"]).attrs["converged"] is False
    d.loc[[9, 10], "y"] = [1.0, 0.0]  # one overlap: a maximum exists
    assert regression.logistic(d, "y", ["x"]).attrs["converged"] is True
