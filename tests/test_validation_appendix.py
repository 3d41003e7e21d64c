"""The validation appendix: agreement measured from the golden fixtures, recovery of planted HRs, audit."""

import numpy as np

from helpers.report import agreement, audit
from helpers.analysis import simulation


def test_agreement_covers_every_statistical_helper_and_is_small():
    table = agreement.agreement_table().set_index("Helper")
    expected = {
        "tables.jonckheere_terpstra", "tables.linear_by_linear", "tables.chi_square", "tables.shapiro_wilk",
        "survival.cause_specific_cox", "survival.proportional_hazards_test", "survival.cumulative_incidence",
        "survival.gray_test", "survival.incidence_rate", "survival.fine_gray: coefficients",
        "survival.fine_gray: standard errors", "survival.fine_gray_cumulative_incidence", "survival.kaplan_meier",
        "regression.logistic", "regression.harrell_knots", "regression.rcs_basis", "regression.spline_odds_ratios",
        "subgroups.interaction_test", "vsmc.compare",
    }
    assert set(table.index) == expected
    assert (table["Values compared"] > 0).all()
    # Every helper is within 1e-6 of R, relative (Fine–Gray coefficients: absolute), as the tests require.
    assert (table["Largest relative difference"].drop("survival.fine_gray: coefficients") < 1e-6).all()
    assert table.at["survival.fine_gray: coefficients", "Largest absolute difference"] < 1e-6


def test_simulation_recovers_the_planted_hazard_ratios():
    summary = simulation.summary(simulation.run(40, seed=7, n_jobs=1, progress=False)).set_index(["Design", "Term"])
    assert len(summary) == 4 and (summary["Replicates"] == 40).all()
    assert (summary["Bias (log HR)"].abs() < 0.15).all()
    assert (summary["95% CI coverage"] >= 0.85).all()
    assert np.allclose(summary["Planted HR"].to_numpy(), [2.53, 0.93, 2.53, 0.93])


def test_audit_computes_the_sums_it_reports():
    table = audit.thesis_audit()
    text = " ".join(table["The thesis says"])
    assert "1,590" in text and "1,644" in text and "6.69" in text and "1.71" in text
    assert len(table) == 8
