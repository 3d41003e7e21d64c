"""The book's one number style (helpers.report.formatting), checked against cells written out by hand in
the style NEJM and JAMA print: fixed decimals per quantity, en-dash ranges, true minus, thousands commas."""

import numpy as np
import pandas as pd
import pytest

from helpers.report import formatting as fmt


@pytest.mark.parametrize("args, expected", [
    ((2.5321, 1.1249, 5.6851), "2.53 (1.12–5.69)"),
    ((0.5, 0.25, 1.0), "0.50 (0.25–1.00)"),
    ((1234.5, 1000.0, 1500.25), "1,234.50 (1,000.00–1,500.25)"),
    ((np.nan, 1.0, 2.0), ""),
])
def test_ratios_have_two_decimals_and_an_en_dash(args, expected):
    assert fmt.ratio(*args) == expected


@pytest.mark.parametrize("p, expected", [(0.04123, "0.041"), (0.0004, "<0.001"), (0.001, "0.001"),
                                          (1.0, "1.000"), (np.nan, ""), ("[REDACTED]", "[REDACTED]")])
def test_p_has_three_decimals_or_less_than(p, expected):
    assert fmt.p_value(p) == expected


def test_negative_numbers_carry_a_true_minus_sign_and_zero_none():
    assert fmt.number(-2.84, 1) == "\u22122.8"
    assert fmt.estimate_ci(5.7, -2.84, 14.26, 1) == "5.7 (\u22122.8 to 14.3)"
    assert fmt.number(-0.04, 1) == "0.0"  # not '−0.0'
    assert fmt.minus_signs("difference -2.8 (-5.1 to -0.4); CKD 3-4; 2026-12-03") == \
        "difference \u22122.8 (\u22125.1 to \u22120.4); CKD 3-4; 2026-12-03"


@pytest.mark.parametrize("args, expected", [
    ((-0.2421, -0.6323, 0.1480), "\u22120.24 (\u22120.63 to 0.15)"),  # NEJM/JAMA: 'to' beside a minus sign
    ((-1.5, -2.25, -0.75), "\u22121.50 (\u22122.25 to \u22120.75)"),
    ((0.3, 0.0, 0.6), "0.30 (0.00–0.60)"),  # zero is not negative
    ((0.3, -0.001, 0.6), "0.30 (0.00–0.60)"),  # nor a bound that rounds to zero: the page shows no minus sign
])
def test_a_range_with_a_negative_bound_reads_to_not_a_dash(args, expected):
    assert fmt.estimate_ci(*args) == expected
    assert fmt.interval(*args[1:]) == expected[expected.index("(") + 1:-1]


def test_summaries_are_median_with_quartiles_or_mean_with_sd():
    assert fmt.median_iqr(54, 45, 63) == "54.0 [45.0–63.0]"
    assert fmt.mean_sd(127.26, 14.24) == "127.3 ± 14.2"
    assert fmt.count_percent(1009, 1646, 1646) == "1,009 (61.3)"
    assert fmt.count_percent(5, 8, 9) == "5/8 (62.5)"
    assert fmt.printed("1.7 [ 1.6; 1.7]") == "1.7 [1.6–1.7]"


def test_a_displayed_frame_has_one_style_per_column():
    frame = pd.DataFrame({
        "Group": ["a", "b", "c"],
        "Rate": [12.0, 12.7, 3.25],          # '12' beside '12.7' was the defect: one decimal count per column
        "P": [0.2, 0.0001, np.nan],
        "HR": [1.0, 2.345, 0.5],
        "Coverage (%)": [95.0, 94.25, 100.0],
        "Patients": [2238, 12, 1646],
        "Difference": [-2.5, 0.5, 1.0],
    })
    out = fmt.display_frame(frame)
    assert out["Rate"].tolist() == ["12.00", "12.70", "3.25"]
    assert out["P"].tolist() == ["0.200", "<0.001", ""]
    assert out["HR"].tolist() == ["1.00", "2.35", "0.50"]
    assert out["Coverage (%)"].tolist() == ["95.0", "94.2", "100.0"]
    assert out["Patients"].tolist() == ["2,238", "12", "1,646"]
    assert out["Difference"].tolist() == ["\u22122.5", "0.5", "1.0"]
    assert frame["Rate"].tolist() == [12.0, 12.7, 3.25]  # the frame itself (and its CSV) is left alone
