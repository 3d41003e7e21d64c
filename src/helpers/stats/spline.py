"""Restricted cubic splines: knots placed as R's ``rms::rcs`` places them, the basis, and a continuous
exposure's hazard ratio curve in a cause-specific Cox or a Fine–Gray model.

- :func:`rcs_knots` — the knot positions of ``Hmisc::rcspline.eval`` (which ``rms::rcs`` calls) when
  only their number is given: Harrell's quantiles (type 7) of the recorded values, the outer ones moved
  to the fifth value from each end below 100 values, and, when one extreme value is shared by at least
  5% of the patients (and no value inside is), that knot placed at the next distinct value and the
  others spread over the rest (``fractied``).
- :func:`rcs_basis` — the basis of ``rcspline.eval(x, knots, inclx = TRUE)`` (norm 2): x, then k − 2
  non-linear terms, linear beyond the outer knots.
- :func:`spline_hazard_ratios` — a model with the spline of one exposure and other covariates: the hazard
  (or subdistribution hazard) ratio along the exposure against a reference value with pointwise Wald 95%
  limits (``rms::contrast``), and the Wald tests of ``anova.rms``: the spline as a whole (k − 1 df) and its
  non-linear part (k − 2 df).

Checked against R in ``tests/test_spline.py`` with golden values made by ``tests/golden/spline.R``
(``rms::cph`` + ``rcs`` and ``cmprsk::crr`` on the ``rcspline.eval`` basis, on R's own data sets).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from helpers.stats._common import Z95, chi2_sf


def knot_quantiles(n_knots: int) -> np.ndarray:
    """Harrell's default knot positions as quantiles, as ``rms::rcspline.eval`` places them: evenly
    spaced from the outer quantile (0.10 for 3 knots, 0.05 for 4 to 6, 0.025 for 7) to its mirror."""
    if not 3 <= n_knots <= 7:
        raise ValueError("n_knots must be 3 to 7")
    return np.linspace(_outer(n_knots), 1.0 - _outer(n_knots), n_knots)


def _outer(n_knots: int) -> float:
    return 0.10 if n_knots == 3 else (0.025 if n_knots > 6 else 0.05)


def _tied_ends(values: np.ndarray, fractied: float):
    """rcspline.eval's rule for ties at an outer knot: when no inner value is shared by ``fractied`` of the
    patients but an extreme one is, that knot goes to the next distinct value inward, and the others are
    placed among the values strictly inside it. Returns (first knot or None, last knot or None, the values
    left for the other knots)."""
    first = last = None
    if not 0 < fractied < 1:
        return first, last, values
    _, counts = np.unique(values, return_counts=True)
    share = counts / len(values)
    if share[1:-1].max(initial=0.0) >= fractied:
        return first, last, values
    if share[0] >= fractied:
        first = values[values > values.min()].min()
        values = values[values > first]
    if share[-1] >= fractied:
        last = values[values < values.max()].max()
        values = values[values < last]
    return first, last, values


def rcs_knots(x, n_knots: int = 5, fractied: float = 0.05) -> np.ndarray:
    """Knot positions of a restricted cubic spline of ``x``, as ``rms::rcs(x, n_knots)`` places them.

    The algorithm of ``Hmisc::rcspline.eval`` (4.8) when the knots are not given, on the recorded
    (non-missing) values: with at most ``n_knots`` + 2 distinct values, the distinct values but the two
    extremes; otherwise Harrell's quantiles (:func:`knot_quantiles`, type 7) after the rule for ties at an
    outer knot (:func:`_tied_ends`), the outer knots moved to the 5th smallest and 5th largest value when
    fewer than 100 values remain; repeated positions merged. R's fallback for quantiles that coincide
    (twice as many quantiles) is followed too. Raises ``ValueError`` with fewer than 6 values or 3 knots.
    """
    values = pd.Series(x, dtype=float).dropna().to_numpy()
    if len(values) < 6:
        raise ValueError("knots not given, and fewer than 6 recorded values to place them")
    if not 3 <= n_knots <= 7:
        raise ValueError("n_knots must be 3 to 7")
    distinct = np.unique(values)
    if len(distinct) - 2 <= n_knots:
        return _checked(distinct[1:-1])
    first, last, rest = _tied_ends(values, fractied)
    inner = n_knots - (first is not None) - (last is not None)
    if inner == 1:
        knots = np.array([np.median(rest)])
    elif len(distinct) <= inner:
        knots = distinct
    else:
        knots = _inner_knots(rest, inner, _outer(n_knots), first, last)
        if len(rest) < 100:
            rest = np.sort(rest)
            if first is None:
                knots[0] = rest[4]
            if last is None:
                knots[inner - 1] = rest[-5]
    ends = [[first] if first is not None else [], [last] if last is not None else []]
    return _checked(np.concatenate([ends[0], knots, ends[1]]))


def _inner_knots(values, inner, outer, first, last):
    """Quantiles for the knots not fixed by ties; R's fallback when they coincide."""
    p = np.linspace(0.5, 1 - outer, inner) if inner == 2 else np.linspace(outer, 1 - outer, inner)
    knots = np.quantile(values, p)
    if len(np.unique(knots)) >= min(inner, 3):
        return knots
    knots = np.quantile(values, np.linspace(outer, 1 - outer, 2 * inner))
    if first is not None and len(np.unique(knots)) < 3:
        middle = (first + last) / 2 if last is not None else np.median(values)
        end = last if last is not None else np.quantile(values, 1 - outer)
        knots = np.sort([first, middle, end])
    return knots


def _checked(knots) -> np.ndarray:
    knots = np.unique(np.asarray(knots, float))
    if len(knots) < 3:
        raise ValueError(f"fewer than 3 distinct knots ({', '.join(f'{k:g}' for k in knots)})")
    return knots


def rcs_basis(x, knots) -> pd.DataFrame:
    """Restricted cubic spline basis of ``x`` with the given knots, as R's ``rms::rcs(x, knots)``.

    Columns: x itself, then k − 2 non-linear terms
    [(x − t_j)₊³ − (x − t_{k−1})₊³ (t_k − t_j)/(t_k − t_{k−1}) + (x − t_k)₊³ (t_{k−1} − t_j)/(t_k − t_{k−1})]
    / (t_k − t_1)², j = 1 … k − 2 (Harrell's normalisation, ``norm = 2``): linear beyond the outer knots.
    """
    x = np.asarray(x, float)
    t = np.asarray(knots, float)
    k = len(t)
    if k < 3:
        raise ValueError("a restricted cubic spline needs at least 3 distinct knots")
    cube = lambda v: np.where(v > 0, v, 0.0) ** 3  # noqa: E731
    scale = (t[-1] - t[0]) ** 2
    cols = {"x": x}
    for j in range(k - 2):
        term = (
            cube(x - t[j])
            - cube(x - t[-2]) * (t[-1] - t[j]) / (t[-1] - t[-2])
            + cube(x - t[-1]) * (t[-2] - t[j]) / (t[-1] - t[-2])
        )
        cols[f"x{'′' * (j + 1)}"] = term / scale
    return pd.DataFrame(cols)


# --- what a fitted spline gives ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WaldTest:
    """A Wald chi-square test that some coefficients are all zero (a row of ``anova.rms``)."""

    statistic: float
    df: int
    pvalue: float


def wald_test(beta, cov) -> WaldTest:
    """b' V⁻¹ b on len(b) degrees of freedom."""
    beta = np.atleast_1d(np.asarray(beta, float))
    chisq = float(beta @ np.linalg.solve(np.atleast_2d(cov), beta))
    return WaldTest(chisq, len(beta), float(chi2_sf(chisq, len(beta))))


def contrast_curve(values, knots, reference, beta, cov) -> pd.DataFrame:
    """Log ratio along ``values`` against ``reference`` for spline coefficients ``beta`` (covariance
    ``cov``): (B(x) − B(ref))'b with its Wald standard error and 95% limits, as ``rms::contrast``.
    Columns ``log_ratio, se, ratio, lower, upper``."""
    diff = rcs_basis(values, knots).to_numpy() - rcs_basis([reference], knots).to_numpy()
    log_ratio = diff @ np.asarray(beta, float)
    se = np.sqrt(np.einsum("ij,jk,ik->i", diff, cov, diff))
    return pd.DataFrame({"log_ratio": log_ratio, "se": se, "ratio": np.exp(log_ratio),
                         "lower": np.exp(log_ratio - Z95 * se), "upper": np.exp(log_ratio + Z95 * se)})


@dataclass(frozen=True)
class SplineHazards:
    """A survival model with a restricted cubic spline of one exposure.

    ``curve``: the exposure's values with ``log_hr, se, hr, lower, upper`` against ``reference``;
    ``summary``: every coefficient (``coef, se, hr, lower, upper, p``; spline terms named ``<exposure>``,
    ``<exposure>′``, …); ``overall`` and ``nonlinear``: the Wald tests; ``n``, ``events``, ``n_dropped``,
    ``dropped_reason`` and ``converged`` from the fit; ``model``: ``"cox"`` or ``"fine_gray"``; ``beta`` and
    ``covariance``: the spline's coefficients and their covariance, for :meth:`ratio_at`.
    """

    curve: pd.DataFrame
    summary: pd.DataFrame
    knots: np.ndarray
    reference: float
    overall: WaldTest
    nonlinear: WaldTest
    n: int
    events: int
    n_dropped: int
    dropped_reason: str
    converged: bool
    model: str
    beta: np.ndarray
    covariance: np.ndarray

    def ratio_at(self, values) -> pd.DataFrame:
        """The ratio at ``values`` against the reference (:func:`contrast_curve`), without refitting."""
        return contrast_curve(values, self.knots, self.reference, self.beta, self.covariance)

    # The names of the logistic spline's fit (``regression.SplineFit``), so one figure draws both.
    @property
    def nonlinearity_chisq(self) -> float:
        return self.nonlinear.statistic

    @property
    def nonlinearity_df(self) -> int:
        return self.nonlinear.df

    @property
    def nonlinearity_p(self) -> float:
        return self.nonlinear.pvalue


def support(points, reference: float, values, happened) -> tuple[np.ndarray, np.ndarray]:
    """For each point of a curve against ``reference``: how many ``values`` lie at or beyond it, on the far
    side from the reference, and how many of those ``happened`` (an event, a progression); NaN at the
    reference. The point's estimate rests on them (the curve is extrapolated from them)."""
    values, happened = np.asarray(values, float), np.asarray(happened, bool)
    n, d = [], []
    for v in np.asarray(points, float):
        beyond = None if v == reference else (values <= v if v < reference else values >= v)
        n.append(np.nan if beyond is None else float(beyond.sum()))
        d.append(np.nan if beyond is None else float((beyond & happened).sum()))
    return np.array(n), np.array(d)


def spline_terms(df, exposure, knots) -> tuple[pd.DataFrame, list]:
    """``df`` with the spline basis of ``exposure`` added as columns named ``<exposure>``, ``<exposure>′``, …
    (missing stays missing), and those names."""
    basis = rcs_basis(df[exposure].to_numpy(float), knots)
    names = [exposure + c[1:] for c in basis.columns]
    out = df.drop(columns=[exposure]).copy()
    for name, column in zip(names, basis.columns):
        out[name] = basis[column].to_numpy()
    return out, names


def spline_hazard_ratios(df, duration, event, exposure, covariates, values, *, knots=5, reference=None,
                         model="cox", cause=1) -> SplineHazards:
    """Hazard ratio of ``cause`` along a continuous ``exposure`` entered as a restricted cubic spline.

    ``model="cox"``: the cause-specific Cox model (``survival.fit_cox``, Efron ties; matches ``rms::cph``
    with ``rcs``); ``model="fine_gray"``: the Fine–Gray model of the subdistribution hazard
    (``finegray.fit_fine_gray``; matches ``cmprsk::crr`` on the ``rcspline.eval`` basis). ``knots`` is a
    number of knots placed by :func:`rcs_knots` on every recorded value of ``exposure`` in ``df`` (as
    ``rcs`` places them, before rows missing another covariate are dropped) or explicit positions;
    ``reference`` defaults to the median exposure. The curve is read at ``values``; the tests are Wald
    tests on the fit's covariance (its inverse information for Cox, crr's sandwich for Fine–Gray).
    """
    from helpers.stats import finegray, survival

    if model not in ("cox", "fine_gray"):
        raise ValueError("model must be 'cox' or 'fine_gray'")
    positions = rcs_knots(df[exposure], int(knots)) if np.ndim(knots) == 0 else _checked(knots)
    data, names = spline_terms(df[[duration, event, exposure, *covariates]], exposure, positions)
    terms = [*names, *covariates]
    fitter = survival.fit_cox if model == "cox" else finegray.fit_fine_gray
    fit = fitter(data, duration, event, terms, cause=cause)
    reference = float(np.nanmedian(df[exposure].to_numpy(float))) if reference is None else float(reference)
    k = len(names)
    beta, cov = fit.summary["coef"].to_numpy()[:k], np.asarray(fit.cov)[:k, :k]
    curve = contrast_curve(values, positions, reference, beta, cov).rename(
        columns={"log_ratio": "log_hr", "ratio": "hr"})
    curve.insert(0, exposure, np.asarray(values, float))
    return SplineHazards(curve, fit.table(), positions, reference, wald_test(beta, cov),
                         wald_test(beta[1:], cov[1:, 1:]), fit.n, fit.events, fit.n_dropped, fit.dropped_reason,
                         bool(fit.converged), model, beta, cov)
