"""E-values for hazard ratios (helpers.stats.evalue): VanderWeele and Ding (2017), VanderWeele (2017).

R's EValue package is not a Debian package, so the values are checked against the worked E-values
published in the paper and in the EValue package's vignette (its printed output), and against the
definition: the E-value E is the confounder strength whose bounding factor E² / (2E − 1) equals the
observed risk ratio (Ding & VanderWeele 2016).
"""

import math

import numpy as np
import pytest

from helpers.stats.evalue import e_value, e_value_rr, hr_to_rr


def test_the_papers_worked_examples():
    # VanderWeele & Ding (2017): breastfeeding and respiratory death, RR 3.9 (1.8 to 8.7): E-values 7.26 and 3.0;
    # leukaemia, RR 0.80 (0.71 to 0.91): E-values 1.81 and 1.43.
    breastfeeding = e_value(3.9, 1.8, 8.7)
    assert round(breastfeeding.point, 2) == 7.26 and round(breastfeeding.ci, 2) == 3.0
    leukaemia = e_value(0.80, 0.71, 0.91)
    assert round(leukaemia.point, 2) == 1.81 and round(leukaemia.ci, 2) == 1.43


def test_the_evalue_vignettes_worked_example():
    # EValue's vignette, smoking and lung cancer (Hammond & Horn): evalues.RR(10.73, 8.02, 14.36) prints
    # E-values 20.94777 and 15.52336.
    result = e_value(10.73, 8.02, 14.36)
    assert round(result.point, 5) == 20.94777 and round(result.ci, 5) == 15.52336


@pytest.mark.parametrize("rr", [1.0001, 1.04, 1.5, 2.53, 3.9, 10.73, 100.0])
def test_the_e_value_is_the_strength_whose_bounding_factor_is_the_risk_ratio(rr):
    # Ding & VanderWeele (2016): confounding of strength RR_EU = RR_UD = E can move a risk ratio by at most
    # E² / (2E − 1); the E-value is the E at which that equals the observed ratio (and 1/RR below 1).
    for observed in (rr, 1 / rr):
        e = e_value_rr(observed)
        assert e ** 2 / (2 * e - 1) == pytest.approx(max(observed, 1 / observed), rel=1e-12)
    assert e_value_rr(1.0) == 1.0


def test_below_one_inverts_and_uses_the_upper_limit():
    # HR 0.5 (0.3 to 0.8): E(1/0.5) = 2 + sqrt 2 = 3.4142; CI: E(1/0.8) = 1.25 + sqrt(1.25 · 0.25) = 1.8090.
    result = e_value(0.5, 0.3, 0.8)
    assert result.point == pytest.approx(3.414213562373095, rel=1e-14)
    assert result.ci == pytest.approx(1.25 + math.sqrt(0.3125), rel=1e-14)
    assert result.ci == pytest.approx(1.8090, abs=5e-5)


def test_interval_including_one_gives_one():
    result = e_value(1.3, 0.9, 1.8)
    assert result.ci == 1.0
    assert result.point == pytest.approx(1.3 + math.sqrt(1.3 * 0.3), rel=1e-14)
    assert e_value(0.8, 0.6, 1.0).ci == 1.0  # a limit at 1 counts as including it


@pytest.mark.parametrize("rare", [True, False])
@pytest.mark.parametrize("hr, lo, hi", [(2.53, 1.21, 5.29), (0.56, 0.46, 0.69), (1.04, 1.02, 1.06)])
def test_the_interval_limit_nearer_one_gives_the_ci_e_value(hr, lo, hi, rare):
    result = e_value(hr, lo, hi, rare=rare)
    near = lo if hr > 1 else hi
    assert result.ci == pytest.approx(e_value_rr(near if rare else hr_to_rr(near)), rel=1e-12)
    assert 1 < result.ci < result.point
    mirrored = e_value(1 / hr, 1 / hi, 1 / lo, rare=rare)  # the same association, exposure coded the other way
    assert (mirrored.point, mirrored.ci) == pytest.approx((result.point, result.ci), rel=1e-12)


def test_the_e_value_grows_with_the_ratio():
    ratios = np.linspace(1.01, 5, 50)
    assert np.all(np.diff([e_value_rr(r) for r in ratios]) > 0)


def test_common_outcome_conversion():
    assert hr_to_rr(1.0) == 1.0
    # RR(HR) for HR 2: (1 − 0.5^√2) / (1 − 0.5^(1/√2)) = 0.624786 / 0.387453 = 1.61255.
    assert hr_to_rr(2.0) == pytest.approx((1 - 2 ** -math.sqrt(2)) / (1 - 2 ** -math.sqrt(0.5)), rel=1e-15)
    assert hr_to_rr(2.0) == pytest.approx(1.61255, abs=5e-6)
    for hr in (0.3, 0.7, 1.5, 4.0):
        assert hr_to_rr(1 / hr) == pytest.approx(1 / hr_to_rr(hr), rel=1e-14)  # symmetric on the log scale
    assert e_value(2.0, 1.5, 3.0, rare=False).point < e_value(2.0, 1.5, 3.0).point  # shrinks towards 1
    result = e_value(0.56, 0.46, 0.69, rare=False)
    assert result.rr == pytest.approx(hr_to_rr(0.56)) and result.rr_upper == pytest.approx(hr_to_rr(0.69))


def test_rejects_impossible_input():
    for args in [(0.0, 0.0, 1.0), (-1.0, -2.0, 1.0), (1.5, 1.6, 2.0), (float("inf"), 1.0, float("inf"))]:
        with pytest.raises(ValueError):
            e_value(*args)
