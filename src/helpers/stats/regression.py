"""Logistic regression and restricted cubic splines (thesis 2.1.6: ORs of progression, spline curves).

Checked against R in ``tests/test_regression.py`` with golden values made by
``tests/golden/regression.R`` (``glm``, ``rms::rcs``, ``rms::rcspline.eval``, ``rms::lrm`` with
``rms::contrast`` and ``anova``). statsmodels is imported by the functions that fit, not here: it costs
a notebook's kernel about a second, and most pages that import this module fit nothing with it.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import Fit, complete_cases, wald_summary
from helpers.stats.spline import contrast_curve, knot_quantiles, rcs_basis, rcs_knots, wald_test  # noqa: F401 (public names)


@dataclass
class LogisticFit(Fit):
    """A fitted logistic model (see :func:`fit_logistic`); ``cov`` is the covariance of the coefficients."""

    cov: np.ndarray = None

    def table(self) -> pd.DataFrame:
        """As :meth:`Fit.table`, with ``separation`` in ``attrs`` too."""
        out = super().table()
        out.attrs["separation"] = self.separation
        return out


def fit_logistic(df, outcome, covariates) -> LogisticFit:
    """Binary logistic regression of ``outcome`` (0/1) on ``covariates`` with an intercept, complete cases,
    as a :class:`LogisticFit` (``summary`` indexed by term, 'Intercept' first; ``ratio`` the odds ratio)."""
    fit, d, dropped, reason = _glm(df, outcome, covariates)
    return LogisticFit(
        wald_summary(fit.params.to_numpy(), fit.bse.to_numpy(), ["Intercept", *covariates], "term"),
        n=len(d), n_dropped=dropped, dropped_reason=reason, events=int(d[outcome].sum()),
        loglik=float(fit.llf), converged=bool(fit.converged), ratio_name="or", cov=np.asarray(fit.cov_params()),
        # (Quasi-)complete separation: some fitted probabilities are 0 or 1 to machine precision, where R's
        # glm warns "fitted probabilities numerically 0 or 1 occurred" and a coefficient runs off to infinity.
        separation=bool(np.any(np.minimum(fit.predict(), 1 - fit.predict()) < 1e-8)),
    )


def logistic(df, outcome, covariates) -> pd.DataFrame:
    """Binary logistic regression of ``outcome`` (0/1) on ``covariates``, with an intercept.

    Maximum likelihood by statsmodels' ``Logit`` (Newton's method), complete cases; matches R's
    ``glm(outcome ~ ..., family = binomial)``. Returns a DataFrame indexed by term ('Intercept' first)
    with ``coef, se, or, lower, upper, p`` (Wald); ``attrs`` hold ``n``, ``n_dropped``, ``dropped_reason``,
    ``events``, ``loglik`` and ``converged`` (the fields of :func:`fit_logistic`'s object).
    """
    return fit_logistic(df, outcome, covariates).table()


def linear(df, outcome, covariates) -> pd.DataFrame:
    """Linear regression of ``outcome`` on ``covariates`` with an intercept, complete cases: ordinary least
    squares by statsmodels' OLS, as R's ``lm``. Returns a DataFrame indexed by term ('Intercept' first) with
    ``coef, se, lower, upper, p`` (t-based, on the residual degrees of freedom, as ``summary(lm)``);
    ``attrs`` hold ``n``, ``n_dropped`` and ``dropped_reason``. With the baseline value of an outcome among
    the covariates this is the ANCOVA of a change."""
    from statsmodels.regression.linear_model import OLS
    from statsmodels.tools.tools import add_constant

    d, dropped, reason = complete_cases(df, [outcome, *covariates])
    x = add_constant(d[covariates].to_numpy(float), has_constant="add")
    fit = OLS(d[outcome].to_numpy(float), x).fit()
    low, high = np.asarray(fit.conf_int()).T
    out = pd.DataFrame({"coef": fit.params, "se": fit.bse, "lower": low, "upper": high, "p": fit.pvalues},
                       index=pd.Index(["Intercept", *covariates], name="term"))
    out.attrs.update(n=len(d), n_dropped=dropped, dropped_reason=reason)
    return out


def _glm(df, outcome, covariates):
    """The logistic fit: statsmodels' ``Logit`` by Newton's method (its analytic Hessian: one n × p² product
    per step, five times quicker than GLM's least-squares IRLS at a million rows, the same maximum);
    ``converged`` is the optimiser's verdict (GLM's IRLS called a separated data set converged)."""
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning
    from statsmodels.tools.tools import add_constant

    d, dropped, reason = complete_cases(df, [outcome, *covariates])
    x = add_constant(d[covariates].to_numpy(float), has_constant="add")
    with warnings.catch_warnings():
        # Reported through ``converged`` (a separated data set never converges), not as warnings.
        warnings.simplefilter("ignore", (ConvergenceWarning, PerfectSeparationWarning, RuntimeWarning))
        # The Hessian's 1e-10 ridge changes the path, not the maximum (where the score is 0); it keeps a
        # separated data set (no maximum) from a singular step: Newton then runs out of steps, not converged.
        fit = Logit(d[outcome].to_numpy(float), x).fit(method="newton", tol=1e-10, maxiter=100, disp=False)
    fit.converged = bool(fit.mle_retvals["converged"])
    fit.params = pd.Series(np.asarray(fit.params), index=["Intercept", *covariates])
    fit.bse = pd.Series(np.asarray(fit.bse), index=["Intercept", *covariates])
    return fit, d, dropped, reason


def harrell_knots(x, n_knots: int = 4) -> np.ndarray:
    """Knots at Harrell's default quantiles (type 7) of the non-missing ``x``; repeated knots merged.

    With heavily tied data (serum Mg is reported to 0.1 mg/dL) two quantiles can fall on the same value;
    the distinct ones are kept, so the spline has fewer knots rather than a degenerate basis. (rms moves
    outer knots inward when the extreme values are heavily tied; this function does not.)
    """
    values = pd.Series(x, dtype=float).dropna().to_numpy()
    return np.unique(np.quantile(values, knot_quantiles(n_knots)))


def spline_knots(x, spec) -> np.ndarray:
    """Knot positions from a ``spline_knots`` parameter: a number of knots, placed as ``rms::rcs`` places them
    (:func:`helpers.stats.spline.rcs_knots`: Harrell's quantiles with rms's rules for few values and for
    ties at an outer knot), or explicit positions (sorted, repeats merged)."""
    if isinstance(spec, (int, np.integer)):
        return rcs_knots(x, int(spec))
    knots = np.unique(np.asarray(spec, float))
    if len(knots) < 3:
        raise ValueError("explicit spline knots need at least 3 distinct positions")
    return knots


def grid(values, low: float = 0.01, high: float = 0.99, step: float = 0.01) -> np.ndarray:
    """Evenly spaced values from the 1st to the 99th percentile of ``values``: where a curve is drawn."""
    v = pd.Series(values, dtype=float).dropna()
    start, stop = np.floor(v.quantile(low) / step), np.ceil(v.quantile(high) / step)
    return np.round(np.arange(start, stop + 0.5) * step, 10)  # whole steps, so round values are on it


@dataclass(frozen=True)
class SplineFit:
    """A logistic model with a restricted cubic spline of one exposure, and what to draw from it."""

    curve: pd.DataFrame  # exposure, log_or, se, or, lower, upper (against the reference value)
    knots: np.ndarray
    reference: float
    nonlinearity_chisq: float
    nonlinearity_df: int
    nonlinearity_p: float
    n: int
    events: int


def spline_odds_ratios(df, outcome, exposure, covariates, knots, reference, grid) -> SplineFit:
    """Odds ratios of ``outcome`` along ``exposure`` (a restricted cubic spline) against ``reference``.

    The model is logistic with the spline basis of ``exposure`` and ``covariates``; the log odds ratio at
    each value of ``grid`` is (B(x) − B(ref))'b with its Wald 95% band, as ``rms::contrast`` computes it
    for an ``lrm`` fit. Non-linearity is the Wald test that every non-linear spline coefficient is zero
    (the 'Nonlinear' row of ``anova(lrm)``).
    """
    d = df[[outcome, exposure, *covariates]].dropna()
    basis = rcs_basis(d[exposure], knots)
    names = [f"{exposure}_{c}" for c in basis.columns]
    frame = pd.concat([d[[outcome, *covariates]].reset_index(drop=True), basis.set_axis(names, axis=1)], axis=1)
    fit, *_ = _glm(frame, outcome, [*names, *covariates])
    beta = fit.params[names].to_numpy()
    cov = np.asarray(fit.cov_params())[1 : 1 + len(names), 1 : 1 + len(names)]
    curve = contrast_curve(grid, knots, reference, beta, cov).rename(columns={"log_ratio": "log_or", "ratio": "or"})
    curve.insert(0, exposure, np.asarray(grid, float))
    nonlinear = wald_test(beta[1:], cov[1:, 1:])
    return SplineFit(curve, np.asarray(knots, float), float(reference), nonlinear.statistic, nonlinear.df,
                     nonlinear.pvalue, len(d), int(d[outcome].sum()))
