"""The validation appendix: agreement measured from the golden fixtures, recovery of planted HRs, audit."""

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import paths
from helpers.report import agreement, audit, published
from helpers.analysis import simulation


def _stated(tolerance: str) -> tuple[float, str]:
    """'1e-8 (W), 1e-6 (P) relative' -> (1e-6, 'relative'): the loosest number stated, and its kind."""
    return max(map(float, re.findall(r"\d+(?:\.\d+)?e-\d+", tolerance))), tolerance.split()[-1]


def test_agreement_covers_every_statistical_helper_within_its_stated_tolerance():
    table = agreement.agreement_table().set_index("Helper")
    expected = {
        "tables.jonckheere_terpstra", "tables.linear_by_linear", "tables.chi_square", "tables.shapiro_wilk",
        "survival.cause_specific_cox", "survival.proportional_hazards_test", "survival.cumulative_incidence",
        "survival.gray_test", "survival.incidence_rate", "survival.fine_gray: coefficients",
        "survival.fine_gray: standard errors", "survival.fine_gray_cumulative_incidence", "survival.kaplan_meier",
        "regression.logistic", "regression.harrell_knots", "regression.rcs_basis", "regression.spline_odds_ratios",
        "subgroups.interaction_test", "vsmc.compare", "vsmc.compare: Hedges' g",
        "standardized.standardized_risk: risks and contrasts", "standardized.standardized_risk: standard errors",
        "imputation.pool_rubin", "survival.median_follow_up",
        "spline.spline_hazard_ratios (cox): coefficients", "spline.spline_hazard_ratios (cox): SEs and tests",
        "spline.spline_hazard_ratios (fine_gray): coefficients", "spline.spline_hazard_ratios (fine_gray): SEs and tests",
        "finegray_time.fine_gray_time_interaction", "finegray_time.fine_gray_time_interaction: standard errors",
        "regression.linear",
    }
    assert set(table.index) == expected
    assert (table["Values compared"] > 0).all()
    for helper, row in table.iterrows():
        bound, kind = _stated(row["Tolerance in the tests"])
        assert kind in ("relative", "absolute"), helper
        assert row[f"Largest {kind} difference"] <= bound, (helper, row[f"Largest {kind} difference"], bound)


def test_simulation_recovers_the_planted_hazard_ratios():
    summary = simulation.summary(simulation.run(40, seed=7)).set_index(["Design", "Term"])
    assert len(summary) == 4 and (summary["Replicates"] == 40).all()
    assert (summary["Bias (log HR)"].abs() < 0.15).all()
    assert (summary["95% CI coverage"] >= 0.85).all()
    # the planted values are the thesis's Model 4 hazard ratios (Table 2.2.2, as transcribed in data/published)
    thesis = published.hazards().query("model == 'Model 4'").set_index("group")["hr"]
    assert np.allclose(summary["Planted HR"].to_numpy(), thesis[["low", "high", "low", "high"]].to_numpy())


def test_audit_computes_the_sums_it_reports():
    table = audit.thesis_audit()
    text = " ".join(table["The thesis says"])
    # The category sums, recomputed here from data/published/table_2_2_1.csv.
    t = pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str)
    for variable in ("cac_category", "smoking"):
        levels = t[(t["variable"] == variable) & (t["kind"] == "level")]
        total = sum(int(c.split(" ")[0]) for c in levels["total"])
        assert total < 1646 and f"categories sum to {total:,}" in text
    # Quotations of the thesis's text (not computable from its tables).
    assert "6.69" in text and "1.71" in text
    assert len(table) == 8 + len(audit.printed_number_rows(audit.published.table_2_2_1()))


# The printed-number checks, recomputed here from data/published with scipy alone (not audit.py's words).
T221 = pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str)


def _printed(variable):
    rows = T221[(T221["variable"] == variable) & (T221["kind"] == "level")]
    return np.array([[int(c.split(" ")[0]) for c in rows[g]] for g in ("low", "mid", "high")]).T


def _lbl(counts):
    # Mantel's M² = (N − 1) r² on integer scores, written out.
    r, c = np.indices(counts.shape)
    x, y = np.repeat(r.ravel(), counts.ravel()), np.repeat(c.ravel(), counts.ravel())
    m2 = (len(x) - 1) * np.corrcoef(x, y)[0, 1] ** 2
    return stats.chi2.sf(m2, 1)


def test_smoking_p_for_trend_is_a_chi_square_p():
    counts = _printed("smoking")
    printed = float(T221.loc[T221["row"] == "smoking", "p_trend"].iloc[0])
    chi = stats.chi2_contingency(counts, correction=False).pvalue
    assert abs(_lbl(counts) - printed) > 0.02 and abs(chi - printed) < 0.005
    checks = audit.trend_p_checks(audit.published.table_2_2_1())
    assert checks["smoking_lbl"] == pytest.approx(_lbl(counts))
    lo, hi = checks["smoking_chi"]
    assert lo <= chi <= hi
    row = audit.thesis_audit().set_index("Where").loc["Table 2.2.1, smoking"]
    assert "chi-square test, not a trend test" in row["Issue"]


def test_etiology_p_is_given_by_no_ordering():
    counts = _printed("ckd_etiology")
    printed = float(T221.loc[T221["row"] == "etiology", "p_trend"].iloc[0])
    ps = [_lbl(counts[list(order)]) for order in itertools.permutations(range(5))]
    assert min(abs(p - printed) for p in ps) > 0.0005
    assert stats.chi2_contingency(counts, correction=False).pvalue < 0.01
    assert any("no ordering" in i for i in audit.thesis_audit()["Issue"])


def test_percentage_slips_are_found_from_the_counts():
    sizes = {"low": 37, "mid": 914, "high": 695}
    expected = set()
    for _, row in T221[T221["kind"] == "binary"].iterrows():
        for g, size in sizes.items():
            n, pct = int(row[g].split(" ")[0]), float(row[g].split("(")[1].rstrip(")"))
            if round(100 * n / size, 1) != pct and abs(100 * n / size - pct) < 0.2:
                expected.add((row["label"], g))
    found = {(s["label"], s["group"]) for s in audit.percentage_slips(audit.published.table_2_2_1())}
    assert ("Diabetes", "mid") in expected and expected <= found


@pytest.mark.parametrize("table, group, model", [("table_2_2_3", "high", "Model 3"), ("table_2_2_2", "high", "Model 2")])
def test_p_values_outside_their_interval_are_flagged(table, group, model):
    t = pd.read_csv(paths.PUBLISHED / f"{table}.csv")
    r = t[(t["group"] == group) & (t["model"] == model)].iloc[0]
    se = (np.log(r["upper"]) - np.log(r["lower"])) / (2 * stats.norm.ppf(0.975))
    implied = 2 * stats.norm.sf(abs(np.log(r["hr"])) / se)
    assert r["p"] - implied > 0.02
    flagged = {(o["table"], o["group"], o["model"]) for o in audit.wald_p_outliers()}
    assert (table, group, model) in flagged


def _published_counts():
    """Table 2.2.1 as transcribed, read here without the helpers: the leading count of each 'n (p)' cell."""
    table = pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str, keep_default_na=False)
    count = lambda cell: int(re.match(r"([\d,]+) \(", cell).group(1).replace(",", ""))
    return table, count


def _row(audit_table, issue_start):
    rows = audit_table[audit_table["Issue"].str.startswith(issue_start)]
    assert len(rows) == 1, issue_start
    return rows.iloc[0]["The thesis says"]


def test_audit_infers_the_medication_denominators_from_the_percentages():
    table, count = _published_counts()
    said = audit.thesis_audit()
    for variable, issue in (("vitd_agonist", "Vitamin D"), ("phosphate_binder", "Phosphate"), ("diuretic", "Diuretics")):
        total = table.loc[table["variable"] == variable, "total"].iloc[0]
        pct = float(re.search(r"\(([\d.]+)\)", total).group(1))
        assert f"imply about {round(count(total) / pct * 100):,} patients" in _row(said, issue)


def test_audit_quotes_the_interval_of_table_2_2_2():
    t222 = pd.read_csv(paths.PUBLISHED / "table_2_2_2.csv")
    m4 = t222[(t222["group"] == "low") & (t222["model"] == "Model 4")].iloc[0]
    said = _row(audit.thesis_audit(), "Model 4 confidence interval")
    assert f"{m4['hr']:.2f} ({m4['lower']:.2f}–{m4['upper']:.2f}) in Table 2.2.2" in said


def test_audit_follows_the_published_table(monkeypatch):
    """Change one transcribed cell and the audit's sums change with it: nothing in it is typed."""
    from helpers.report import published

    before = _row(audit.thesis_audit(), "Smoking: categories")
    table = published.table_2_2_1()
    never = table.index[table["row"] == "smoking_never"][0]
    printed = int(table.loc[never, "total"].split(" ")[0].replace(",", ""))
    table.loc[never, "total"] = f"{printed + 10:,} (52.5)"  # ten more patients than printed
    monkeypatch.setattr(published, "table_2_2_1", lambda: table)
    after = _row(audit.thesis_audit(), "Smoking: categories")
    sum_of = lambda text: int(re.search(r"sum to ([\d,]+)", text).group(1).replace(",", ""))
    assert sum_of(after) == sum_of(before) + 10


def test_recovery_reports_monte_carlo_standard_errors():
    """Morris, White and Crowther (2019): bias MC SE = SD/√R; coverage MC SE √(0.95 · 0.05/R), 0.01 at 475."""
    results = simulation.run(12, seed=3)
    summary = simulation.summary(results)
    for _, row in summary.iterrows():
        assert row["MC SE of bias"] == pytest.approx(row["SD of estimates"] / np.sqrt(row["Replicates"]), rel=1e-12)
        assert row["MC SE of coverage"] == pytest.approx(np.sqrt(0.95 * 0.05 / row["Replicates"]), rel=1e-12)
    assert simulation.replicates_needed(0.01) == 475 and simulation.coverage_mcse(475) <= 0.01 + 1e-12
    assert simulation.coverage_mcse(474) > 0.01
