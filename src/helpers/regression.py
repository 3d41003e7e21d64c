"""Public API of logistic regression and restricted cubic splines.

The functions live in :mod:`helpers.stats.regression`; this module keeps their public names stable.
"""

from helpers.stats.regression import (  # noqa: F401
    SplineFit,
    grid,
    harrell_knots,
    knot_quantiles,
    logistic,
    rcs_basis,
    spline_knots,
    spline_odds_ratios,
)
