"""Derived variables against values worked out by hand from the thesis's definitions."""

import numpy as np
import pandas as pd
import pytest

from helpers.analysis import derive


def test_mg_groups_follow_the_cut_points_inclusively_in_the_middle():
    mg = pd.Series([1.7, 1.8, 2.0, 2.2, 2.3, np.nan])
    groups = derive.mg_group(mg, [1.8, 2.2])
    assert list(groups.astype(str)) == ["<1.8", "1.8–2.2", "1.8–2.2", "1.8–2.2", ">2.2", "nan"]
    assert groups.cat.ordered


def test_a_value_converted_onto_a_cut_point_counts_as_on_it():
    # 0.905 mmol/L × 2.431 = 2.200055 mg/dL: above 2.2. 2.2 / 2.431 × 2.431 lands on 2.2 up to rounding.
    mg = derive.mg_to_mgdl(pd.Series([2.2 / 2.431, 0.905]), "mmol/L")
    assert list(derive.mg_group(mg, [1.8, 2.2]).astype(str)) == ["1.8–2.2", ">2.2"]


def test_unit_factors():
    assert derive.mg_to_mgdl(1.0, "mmol/L") == pytest.approx(2.431)
    assert derive.mg_to_mgdl(1.0, "mEq/L") == pytest.approx(1.2155)
    assert derive.mg_to_mgdl(2.1, "mg/dL") == 2.1


def test_corrected_calcium_applies_only_below_albumin_4():
    # 8.6 + 0.8 × (4 − 3.0) = 9.4; albumin 4.0 and 4.5 leave calcium as measured.
    out = derive.corrected_calcium([8.6, 9.0, 9.0], [3.0, 4.0, 4.5])
    np.testing.assert_allclose(out, [9.4, 9.0, 9.0])


def test_blood_pressure_derivations():
    assert derive.mean_arterial_pressure(120.0, 75.0) == pytest.approx(90.0)
    assert derive.pulse_pressure(127.0, 77.0) == 50.0


def test_cac_progression_at_the_threshold():
    # √(CAC4) − √(CAC0): 0 → 6.25 is exactly 2.5 (progression); 0 → 6.2 is 2.49 (none); 100 → 156.25 is 2.5.
    out = derive.cac_progression([0, 0, 100, 100, np.nan], [6.25, 6.2, 156.25, 150, 10])
    np.testing.assert_array_equal(out, [1, 0, 1, 0, np.nan])


def test_pwv_progression_at_ten_percent():
    out = derive.pwv_progression([15.0, 15.0, 20.0, np.nan], [16.5, 16.49, 18.0, 16.0])
    np.testing.assert_array_equal(out, [1, 0, 0, np.nan])


@pytest.mark.parametrize(
    "creatinine, age, sex, expected",
    [
        # Worked by hand from the single equation: 141 × 1.1111^-1.209 × 0.993^60 = 81.44.
        (1.0, 60, "M", 81.4429),
        # 141 × (0.6 / 0.7)^-0.329 × 0.993^40 × 1.018 = 114.02.
        (0.6, 40, "F", 114.0151),
        # Creatinine exactly at kappa: 141 × 0.993^50 for a man.
        (0.9, 50, "M", 141 * 0.993**50),
    ],
)
def test_ckd_epi_2009_worked_values(creatinine, age, sex, expected):
    assert derive.ckd_epi_2009([creatinine], [age], [sex])[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("creatinine, age, sex", [(0.5, 30, "F"), (1.4, 65, "F"), (0.7, 45, "M"), (3.2, 72, "M")])
def test_ckd_epi_2009_agrees_with_the_papers_piecewise_forms(creatinine, age, sex):
    # Levey 2009, Table 2: women 144 × (Scr/0.7)^(-0.329 or -1.209) × 0.993^age; men 141 × (Scr/0.9)^(-0.411
    # or -1.209) × 0.993^age. The paper rounds 141 × 1.018 = 143.5 to 144, hence 0.4% for women.
    kappa, alpha, const = (0.7, -0.329, 144) if sex == "F" else (0.9, -0.411, 141)
    exponent = alpha if creatinine <= kappa else -1.209
    table2 = const * (creatinine / kappa) ** exponent * 0.993**age
    assert derive.ckd_epi_2009([creatinine], [age], [sex])[0] == pytest.approx(table2, rel=0.005 if sex == "F" else 1e-12)
