"""Public API of the tests for trend and association used by the baseline table.

The functions live in :mod:`helpers.stats.trend`; this module keeps their public names stable.
"""

from helpers.stats.trend import (  # noqa: F401
    ChiSquareResult,
    JonckheereTerpstraResult,
    LinearByLinearResult,
    chi_square,
    jonckheere_terpstra,
    linear_by_linear,
    shapiro_wilk,
    trend_versus_independence_example,
)
