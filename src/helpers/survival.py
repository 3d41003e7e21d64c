"""Public survival API: cause-specific Cox, Fine–Gray, cumulative incidence, Gray's test, incidence rates.

The functions live in :mod:`helpers.stats.survival` and :mod:`helpers.stats.finegray`; this module keeps
their public names stable (``tests/test_public_api.py`` pins them).
"""

from helpers.stats import standardized as _standardized
from helpers.stats.finegray import fine_gray, fine_gray_cumulative_incidence  # noqa: F401
from helpers.stats.survival import (  # noqa: F401
    GrayTestResult,
    ProportionalHazardsResult,
    at_times,
    cause_specific_cox,
    cumulative_incidence,
    gray_test,
    incidence_rate,
    kaplan_meier,
    km_versus_aalen_johansen,
    number_at_risk,
    proportional_hazards_test,
    schoenfeld_residuals,
)


def standardized_risk(df, duration, event, group, covariates, times, cause=1, reference=None, *,
                      competing_covariates=None):
    """Standardized (g-formula) cumulative incidence by group, with differences and ratios against
    ``reference``, as R's ``riskRegression::ate(CSC(...), se = TRUE)`` at its defaults (tied event times
    included: see :func:`helpers.stats.standardized.standardized_risk` and its ``iid_ties`` for the
    variant that counts every tied event in the coefficients' influence function).
    ``competing_covariates`` (default ``None``: the same ``covariates``) is the adjustment set of the
    other causes' models, as ``CSC(list(f1, f2))``."""
    return _standardized.standardized_risk(df, duration, event, group, covariates, times, cause=cause,
                                           reference=reference, competing_covariates=competing_covariates)
