"""E-values for hazard ratios (helpers.stats.evalue): VanderWeele and Ding (2017), VanderWeele (2017).

R's EValue package is not a Debian package, so the values are checked against numbers worked by hand from
the paper's formula and against the formula written out again here; where EValue is installed,
``test_matches_r_evalue_where_installed`` compares with ``EValue::evalues.HR`` as well.
"""

import math
import shutil
import subprocess

import pytest

from helpers.stats.evalue import e_value, e_value_rr, hr_to_rr


def test_worked_by_hand():
    # The paper's example, RR 3.9 (1.8 to 8.7): 3.9 + sqrt(3.9 · 2.9) = 7.263 and 1.8 + sqrt(1.8 · 0.8) = 3.
    result = e_value(3.9, 1.8, 8.7)
    assert result.point == pytest.approx(3.9 + math.sqrt(11.31), rel=1e-14)
    assert result.point == pytest.approx(7.2630, abs=5e-5)
    assert result.ci == pytest.approx(3.0, rel=1e-14)
    # HR 2: 2 + sqrt(2).
    assert e_value_rr(2.0) == pytest.approx(2 + math.sqrt(2), rel=1e-15)
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


def _independent(hr, lo, hi, rare):
    """The formulas again, written out separately from the module."""
    rr = [h if rare else (1 - 0.5 ** (h ** 0.5)) / (1 - 0.5 ** ((1 / h) ** 0.5)) for h in (hr, lo, hi)]
    flip = [1 / r for r in rr] if rr[0] < 1 else rr
    point = flip[0] + (flip[0] * (flip[0] - 1)) ** 0.5
    near = min(flip[1:])  # after flipping, the limit nearer 1 is the smaller one
    ci = 1.0 if rr[1] <= 1 <= rr[2] else near + (near * (near - 1)) ** 0.5
    return point, ci


@pytest.mark.parametrize("rare", [True, False])
@pytest.mark.parametrize("hr, lo, hi", [(2.53, 1.21, 5.29), (0.56, 0.46, 0.69), (0.93, 0.71, 1.22), (1.04, 1.02, 1.06)])
def test_matches_the_formula_computed_independently(hr, lo, hi, rare):
    result = e_value(hr, lo, hi, rare=rare)
    point, ci = _independent(hr, lo, hi, rare)
    assert result.point == pytest.approx(point, rel=1e-12)
    assert result.ci == pytest.approx(ci, rel=1e-12)


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


def test_matches_r_evalue_where_installed():
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed")
    code = ("suppressPackageStartupMessages(library(EValue)); for (r in c(TRUE, FALSE)) { "
            "e <- evalues.HR(0.56, 0.46, 0.69, rare = r); cat(sprintf('%.17g', e['E-values', 1:2]), '\\n') }")
    out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("R's EValue package is not installed (it is not a Debian package)")
    for line, rare in zip(out.stdout.strip().splitlines(), (True, False)):
        point, ci = (float(v) for v in line.split())
        result = e_value(0.56, 0.46, 0.69, rare=rare)
        assert result.point == pytest.approx(point, rel=1e-12)
        assert result.ci == pytest.approx(ci, rel=1e-12)
