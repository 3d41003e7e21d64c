"""E-values for a hazard ratio: how strong unmeasured confounding would have to be to explain it away.

VanderWeele and Ding (2017, Ann Intern Med 167:268): the E-value of a risk ratio RR > 1 is
RR + sqrt(RR · (RR − 1)), the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both the exposure and the outcome, beyond the measured covariates,
to move the estimate to 1. A ratio below 1 is inverted first. For the confidence interval the E-value is
that of the limit nearer 1, and 1 when the interval includes 1.

A hazard ratio is a risk ratio when the outcome is rare (under about 15% by the end of follow-up); for a
common outcome it is first converted with VanderWeele's (2017) square-root approximation
RR ≈ (1 − 0.5^sqrt(HR)) / (1 − 0.5^sqrt(1/HR)), as ``EValue::evalues.HR(..., rare = FALSE)`` does.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EValue:
    """E-values of a hazard ratio: ``point`` for the estimate, ``ci`` for the confidence limit nearer 1
    (1 when the interval includes 1); ``rr``, ``rr_lower``, ``rr_upper`` the risk ratios they were
    computed from (the hazard ratios themselves when the outcome is rare)."""

    point: float
    ci: float
    rr: float
    rr_lower: float
    rr_upper: float


def hr_to_rr(hr: float) -> float:
    """VanderWeele's (2017) approximate risk ratio for a hazard ratio of a common outcome."""
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


def e_value_rr(rr: float) -> float:
    """E-value of a risk ratio: RR + sqrt(RR(RR − 1)) after inverting a ratio below 1; 1 at RR = 1."""
    if not rr > 0 or math.isinf(rr):
        raise ValueError(f"a risk ratio must be positive and finite, not {rr}")
    if rr < 1:
        rr = 1.0 / rr
    return rr + math.sqrt(rr * (rr - 1.0))


def e_value(estimate: float, lower: float, upper: float, rare: bool = True) -> EValue:
    """E-values of a hazard ratio ``estimate`` with confidence limits ``lower`` and ``upper``.

    ``rare=True`` treats the hazard ratio as a risk ratio (rare outcome); ``rare=False`` converts the
    estimate and both limits with :func:`hr_to_rr` first. A hazard ratio below 1 is handled by inverting:
    its E-value is that of 1/HR, and the confidence limit used is the upper one.
    """
    values = [float(v) for v in (estimate, lower, upper)]
    if not all(v > 0 and math.isfinite(v) for v in values):
        raise ValueError(f"hazard ratio and limits must be positive and finite: {values}")
    if not values[1] <= values[0] <= values[2]:
        raise ValueError(f"the limits must bracket the estimate: lower {lower}, estimate {estimate}, upper {upper}")
    rr, rr_lower, rr_upper = values if rare else [hr_to_rr(v) for v in values]
    if rr_lower <= 1.0 <= rr_upper:
        ci = 1.0
    else:
        ci = e_value_rr(rr_lower if rr > 1.0 else rr_upper)
    return EValue(point=e_value_rr(rr), ci=ci, rr=rr, rr_lower=rr_lower, rr_upper=rr_upper)
