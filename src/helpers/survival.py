"""Public survival API: cause-specific Cox, Fine–Gray, cumulative incidence, Gray's test, incidence rates.

The functions live in :mod:`helpers.stats.survival` and :mod:`helpers.stats.finegray`; this module keeps
their public names stable (``tests/test_public_api.py`` pins them).
"""

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
