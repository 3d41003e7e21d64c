"""The public statistics API keeps its names and signatures whatever moves behind it."""

import inspect

import pytest

from helpers import regression, survival, tables

SIGNATURES = {
    (survival, "cause_specific_cox"): "(df, duration, event, covariates, cause=1, ties='efron') -> pandas.core.frame.DataFrame",
    (survival, "fine_gray"): "(df, duration, event, covariates, cause=1) -> pandas.core.frame.DataFrame",
    (survival, "cumulative_incidence"): "(df, duration, event, cause=1, group=None) -> pandas.core.frame.DataFrame",
    (survival, "gray_test"): "(df, duration, event, group, cause=1, rho=0.0) -> helpers.stats.survival.GrayTestResult",
    (survival, "incidence_rate"): "(df, duration, event, cause=1, group=None, per=1000.0) -> pandas.core.frame.DataFrame",
    (survival, "standardized_risk"): "(df, duration, event, group, covariates, times, cause=1, reference=None, *, "
                                      "competing_covariates=None)",
    (tables, "jonckheere_terpstra"): "(values, groups) -> helpers.stats.trend.JonckheereTerpstraResult",
    (tables, "linear_by_linear"): "(x, y) -> helpers.stats.trend.LinearByLinearResult",
    (regression, "logistic"): "(df, outcome, covariates) -> pandas.core.frame.DataFrame",
    (regression, "rcs_basis"): "(x, knots) -> pandas.core.frame.DataFrame",
}


@pytest.mark.parametrize("module, name", list(SIGNATURES), ids=lambda v: getattr(v, "__name__", v))
def test_public_function_keeps_its_signature(module, name):
    signature = str(inspect.signature(getattr(module, name)))
    assert signature == SIGNATURES[(module, name)]


def test_every_public_statistic_has_a_mutation_in_the_mutation_check():
    # bench/mutations.py must carry a wrong variant of each function pinned above (CONTRIBUTING: the mutation
    # check); its result is recorded in CONTRIBUTING.
    import importlib.util

    from helpers import paths

    spec = importlib.util.spec_from_file_location("mutations", paths.ROOT / "bench" / "mutations.py")
    mutations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mutations)
    mutated = {function for _, function, _, _ in mutations.MUTATIONS.values()}
    assert {name for _, name in SIGNATURES} <= mutated
