"""Table 2.2.1: summaries, formats, the choice of summary, and the comparison with the published table."""

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import baseline, derive
from helpers.report import baseline_table as bt, outputs
from helpers import tables


def _cohort():
    """Nine patients in three groups with values whose medians and quartiles are easy to work out."""
    mg = pd.Series([1.6, 1.7, 1.7, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5])
    return pd.DataFrame(
        {
            "mg": mg,
            "mg_group": derive.mg_group(mg, [1.8, 2.2]),
            "age": [40.0, 50.0, 60.0, 41.0, 51.0, 61.0, 42.0, 52.0, np.nan],
            "sex": ["M", "M", "F", "F", "M", "F", "F", "F", "M"],
            "diabetes": [1.0, 0.0, np.nan, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
            "smoking": ["never", "current", "former", "never", "never", None, "never", "former", "never"],
        }
    )


SPEC = pd.DataFrame(
    [
        ["age", "continuous", "age", "", "Age (years)", "", "", "", "", "0.5"],
        ["male", "binary", "sex", "M", "Male", "", "", "", "", ""],
        ["diabetes", "binary", "diabetes", "1", "Diabetes", "", "", "", "", ""],
        ["smoking", "categorical", "smoking", "", "Smoking", "", "", "", "", ""],
        ["smoking_never", "level", "smoking", "never", "Never", "", "", "", "", ""],
        ["smoking_former", "level", "smoking", "former", "Former", "", "", "", "", ""],
        ["smoking_current", "level", "smoking", "current", "Current", "", "", "", "", ""],
        ["missing_var", "continuous", "egfr", "", "eGFR", "", "", "", "", ""],
    ],
    columns=["row", "kind", "variable", "level", "label", "total", "low", "mid", "high", "p_trend"],
)


def test_cells_are_worked_out_by_hand():
    df = _cohort()
    table, _ = bt.baseline_table(df, summary="median", spec=SPEC)
    t = table.set_index("row")
    # Age in the low group: 40, 50, 60 -> median 50, quartiles (type 7) 45 and 55.
    assert t.at["age", "<1.8"] == "50.0 [45.0–55.0]"
    # High group has one missing age: 42, 52 -> median 47, quartiles 44.5 and 49.5.
    assert t.at["age", ">2.2"] == "47.0 [44.5–49.5]"
    assert t.at["age", "Missing"] == 1
    assert t.at["male", "Total"] == "4 (44.4)"
    # Diabetes is missing for one low-group patient: the denominator is written out.
    assert t.at["diabetes", "<1.8"] == "1/2 (50.0)"
    assert t.at["smoking_never", "Total"] == "5/8 (62.5)"
    assert t.at["missing_var", "Test"] == "not in the data"


def test_p_values_are_those_of_the_tested_helpers():
    df = _cohort()
    table, _ = bt.baseline_table(df, summary="median", spec=SPEC)
    t = table.set_index("row")
    assert t.at["age", "p"] == tables.jonckheere_terpstra(df["age"], df["mg_group"]).pvalue
    male = (df["sex"] == "M").astype(float)
    assert t.at["male", "p"] == tables.linear_by_linear(male, df["mg_group"]).pvalue
    codes = df["smoking"].map({"never": 1, "former": 2, "current": 3})
    assert t.at["smoking", "p"] == tables.linear_by_linear(codes, df["mg_group"]).pvalue


def test_nominal_variables_show_chi_square_and_keep_the_trend_p():
    rng = np.random.default_rng(1)
    mg = pd.Series(rng.choice([1.7, 2.0, 2.4], 300))
    df = pd.DataFrame({"mg_group": derive.mg_group(mg, [1.8, 2.2]), "ckd_etiology": rng.choice(["GN", "DN", "HTN"], 300)})
    spec = pd.DataFrame(
        [["e", "categorical", "ckd_etiology", "", "Cause", "", "", "", "", "0.2"]]
        + [[f"e_{lv}", "level", "ckd_etiology", lv, lv, "", "", "", "", ""] for lv in ("GN", "DN", "HTN")],
        columns=SPEC.columns,
    )
    table, _ = bt.baseline_table(df, spec=spec)
    row = table.set_index("row").loc["e"]
    codes = df["ckd_etiology"].map({"GN": 1, "DN": 2, "HTN": 3})
    assert row["p"] == tables.chi_square(codes, df["mg_group"]).pvalue
    assert row["p_trend"] == tables.linear_by_linear(codes, df["mg_group"]).pvalue
    assert row["Test"].startswith("χ² (LbL ")


def test_summary_style_follows_shapiro_wilk_unless_forced():
    rng = np.random.default_rng(7)
    groups = np.repeat([1, 2], 200)
    normal = rng.normal(50, 10, 400)
    skewed = rng.lognormal(0, 1, 400)
    assert baseline.summary_style(normal, groups) == "mean"
    assert baseline.summary_style(skewed, groups) == "median"
    assert baseline.summary_style(skewed, groups, "mean") == "mean"
    with pytest.raises(ValueError):
        baseline.summary_style(normal, groups, "mode")


def test_mean_and_sd_format():
    nums = baseline.continuous_numbers([1.0, 2.0, 3.0, 4.0])
    assert bt.format_continuous(nums, "mean") == "2.5 ± 1.3"


@pytest.mark.parametrize(
    "text, parsed",
    [
        ("54.0 [45.0;63.0]", {"median": 54.0, "q1": 45.0, "q3": 63.0}),
        ("1.7 [ 1.6; 1.7]", {"median": 1.7, "q1": 1.6, "q3": 1.7}),
        ("1,009 (61.3)", {"n": 1009, "pct": 61.3}),
        ("13/232 (5.6)", {"n": 13, "pct": 5.6}),
        ("2.5 ± 1.3", {"mean": 2.5, "sd": 1.3}),
    ],
)
def test_parse_cell(text, parsed):
    assert bt.parse_cell(text) == parsed


def test_p_formats():
    assert outputs.format_p(0.0004) == "<0.001"
    assert outputs.format_p(0.0456) == "0.046"
    assert bt.parse_p("<0.001") == 0.001


def test_comparison_flags_cells_outside_tolerance():
    df = _cohort()
    spec = SPEC.iloc[[0, 1]].copy()
    spec.loc[0, ["total", "low", "mid", "high", "p_trend"]] = [
        "50.6 [41.9;53.0]",  # this run 50.5 [41.75;54.0]: each within 5% or 0.1
        "50.0 [45.0;55.0]",  # exact
        "70.0 [45.0;55.0]",  # this run's median 51.0 is 27% off: outside
        "47.0 [44.5;49.5]",  # exact
        "0.5",
    ]
    spec.loc[1, ["total", "low", "mid", "high", "p_trend"]] = ["4 (44.4)", "2 (66.7)", "2 (66.7)", "1 (33.3)", "0.01"]
    table, numbers = bt.baseline_table(df, summary="median", spec=spec)
    out = bt.compare_with_published(table, numbers, spec).set_index(["Row", "Column"])["Within tolerance"]
    assert out[("Age (years)", "Total")] and out[("Age (years)", "<1.8")] and out[("Age (years)", ">2.2")]
    assert not out[("Age (years)", "1.8–2.2")]
    assert out[("Male", "<1.8")] and not out[("Male", "1.8–2.2")]
    p_age = table.set_index("row").at["age", "p_trend"]
    assert out[("Age (years)", "P for trend")] == (p_age >= 0.05)


def test_a_count_with_another_denominator_is_flagged():
    df = _cohort()
    spec = SPEC.iloc[[1]].copy()
    # Low group: 2 men of 3 (66.7%). Printed as 2 (50.0) the denominator would be 4: not within tolerance.
    spec.loc[1, ["total", "low", "mid", "high", "p_trend"]] = ["4 (44.4)", "2 (50.0)", "1 (33.3)", "1 (33.3)", ""]
    table, numbers = bt.baseline_table(df, summary="median", spec=spec)
    out = bt.compare_with_published(table, numbers, spec).set_index(["Row", "Column"])["Within tolerance"]
    assert out[("Male", "Total")] and out[("Male", "1.8–2.2")] and not out[("Male", "<1.8")]


def test_trend_direction_comes_from_the_sign_of_the_statistic():
    """Age rises with Mg in one copy of the cohort and falls in the other: the arrow follows."""
    df = _cohort()
    up, _ = bt.baseline_table(df, summary="median", spec=SPEC.iloc[[0]])
    down, _ = bt.baseline_table(df.assign(age=-df["age"]), summary="median", spec=SPEC.iloc[[0]])
    z = tables.jonckheere_terpstra(df["age"], df["mg_group"]).z
    assert up.at[0, "Direction"] == ("↑" if z > 0 else "↓")
    assert down.at[0, "Direction"] == ("↓" if z > 0 else "↑")
    assert up.at[0, "z"] == pytest.approx(z)


def test_a_median_cell_is_compared_like_for_like_whatever_the_display():
    """Shown as mean ± SD, the row is still compared on its median and quartiles, and says so."""
    df = _cohort()
    spec = SPEC.iloc[[0]].copy()
    spec.loc[0, ["total", "low", "mid", "high", "p_trend"]] = [
        "50.5 [41.8;54.0]", "50.0 [45.0;55.0]", "51.0 [46.0;56.0]", "47.0 [44.5;49.5]", "0.5"]
    table, numbers = bt.baseline_table(df, summary="mean", spec=spec)
    assert "±" in table.at[0, "Total"]
    out = bt.compare_with_published(table, numbers, spec).set_index(["Row", "Column"])
    assert out.at[("Age (years)", "Total"), "This run"] == "50.5 [41.8–54.0]"
    assert out.at[("Age (years)", "Total"), "Note"] == "shown as mean ± SD in the table above"
    assert out.loc[out.index.get_level_values(1) != "P for trend", "Within tolerance"].all()
    shown_as_median, _ = bt.baseline_table(df, summary="median", spec=spec)
    again = bt.compare_with_published(shown_as_median, _, spec).set_index(["Row", "Column"])
    assert again.at[("Age (years)", "Total"), "Note"] == ""


def test_auto_summarises_a_row_as_the_thesis_prints_it():
    """Under 'auto' a row the thesis prints as median [IQR] is shown so even where Shapiro–Wilk keeps
    normality (the thesis's DBP and pulse pressure), and a row it does not print falls back to the test."""
    df = _cohort()
    spec = SPEC.iloc[[0]].copy()
    normal = bt.baseline_table(df, summary="auto", spec=spec)[0].at[0, "Total"]
    spec.loc[0, ["total", "low", "mid", "high", "p_trend"]] = [
        "50.5 [41.8;54.0]", "50.0 [45.0;55.0]", "51.0 [46.0;56.0]", "47.0 [44.5;49.5]", "0.5"]
    printed = bt.baseline_table(df, summary="auto", spec=spec)[0].at[0, "Total"]
    assert "±" in normal  # ages 40–60, spread evenly: normality is kept
    assert "[" in printed and "–" in printed and "±" not in printed
