"""Tests behind the P for trend of a baseline table, and the tests that sit beside them.

Each returns a scipy-style result object with ``statistic`` and ``pvalue``. They wrap well-kept code
(scipy, statsmodels) rather than re-deriving the statistics, and are checked against R in
``tests/test_tables.py`` with golden values made by ``tests/golden/trend_tests.R``. scipy.stats and
statsmodels are imported by the test that uses them, not here: together they cost a notebook's kernel about
two seconds, and most pages that import this module through another test none.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class JonckheereTerpstraResult:
    """Jonckheere–Terpstra test. ``statistic`` is JT, ``z`` its ties-corrected standard score."""

    statistic: float
    z: float
    pvalue: float


@dataclass(frozen=True)
class LinearByLinearResult:
    """Linear-by-linear association. ``statistic`` is Mantel's M² = (N − 1) r², on 1 degree of freedom."""

    statistic: float
    z: float
    pvalue: float
    df: int = 1


@dataclass(frozen=True)
class ChiSquareResult:
    """Pearson's chi-square test of independence (no continuity correction)."""

    statistic: float
    pvalue: float
    df: int


def _codes(values) -> np.ndarray:
    """Integer scores of an ordered variable: category codes 1, 2, ... or the numbers themselves."""
    s = pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return np.where(s.cat.codes.to_numpy() < 0, np.nan, s.cat.codes.to_numpy() + 1.0)
    return pd.to_numeric(s, errors="raise").to_numpy(float)


def jonckheere_terpstra(values, groups) -> JonckheereTerpstraResult:
    """Jonckheere–Terpstra test for an ordered alternative across groups, normal approximation.

    ``values`` are numbers; ``groups`` are the groups in their order (an ordered categorical, or numbers
    whose order is the groups' order). Pairs with a missing value or group are dropped.

    JT is the sum, over every pair of groups i < j, of the Mann–Whitney count of observations of group j
    above those of group i, ties counting one half (Jonckheere 1954; Terpstra 1952); it is counted from
    each group's values sorted once (a binary search of every value of group j among group i's), so it
    costs one sort, not one Mann–Whitney test per pair of groups. The standard score uses the variance corrected for ties in both the
    values and the groups, as SPSS computes it; that z equals the z of Kendall's tau-b between the values
    and the group order (``scipy.stats.kendalltau``, asymptotic) and R's
    ``cor.test(x, g, method = "kendall", exact = FALSE)``. The P value is two-sided.
    """
    from scipy import stats

    x = pd.to_numeric(pd.Series(values), errors="raise").to_numpy(float)
    g = _codes(groups)
    keep = ~(np.isnan(x) | np.isnan(g))
    x, g = x[keep], g[keep]
    levels = np.unique(g)
    if len(levels) < 2:
        raise ValueError("jonckheere_terpstra needs at least two groups with values")
    ordered = [np.sort(x[g == level]) for level in levels]
    jt = 0.0
    for i, low in enumerate(ordered):
        for high in ordered[i + 1 :]:  # below + half the ties = (count below + count at or below) / 2
            jt += (np.searchsorted(low, high, "left").sum() + np.searchsorted(low, high, "right").sum()) / 2.0
    tau = stats.kendalltau(x, g, variant="b", method="asymptotic")
    z = np.sign(tau.statistic) * stats.norm.isf(tau.pvalue / 2.0)
    return JonckheereTerpstraResult(statistic=float(jt), z=float(z), pvalue=float(tau.pvalue))


def linear_by_linear(x, y) -> LinearByLinearResult:
    """Linear-by-linear association test of two ordered variables with integer scores.

    ``x`` and ``y`` are ordered categoricals (scored 1, 2, ... in their category order) or integer scores.
    Mantel's M² = (N − 1) r², r the Pearson correlation of the scores, compared with chi-square on 1
    degree of freedom: SPSS's "Linear-by-Linear Association" and R's ``coin::lbl_test``. Computed by
    statsmodels' ``Table.test_ordinal_association`` with ``shift_zeros=False`` (its default adds 0.5 to
    every cell of a table with an empty cell, which changes the statistic).
    """
    from statsmodels.stats.contingency_tables import Table

    a, b = _codes(x), _codes(y)
    keep = ~(np.isnan(a) | np.isnan(b))
    # The cross-table of the scores (pandas' crosstab gives the same counts at ten times the cost: the
    # baseline table and the validation appendix run this test some 150 times).
    rows, row_of = np.unique(a[keep], return_inverse=True)
    columns, column_of = np.unique(b[keep], return_inverse=True)
    counts = np.zeros((len(rows), len(columns)))
    np.add.at(counts, (row_of, column_of), 1.0)
    result = Table(counts, shift_zeros=False).test_ordinal_association(row_scores=rows, col_scores=columns)
    z = float(result.zscore)
    return LinearByLinearResult(statistic=z * z, z=z, pvalue=float(result.pvalue))


def chi_square(x, y) -> ChiSquareResult:
    """Pearson's chi-square test of independence of two categorical variables, without Yates' correction.

    Matches R's ``chisq.test(table(x, y), correct = FALSE)``; missing values are dropped.
    """
    from scipy import stats

    frame = pd.DataFrame({"x": pd.Series(x).to_numpy(), "y": pd.Series(y).to_numpy()}).dropna()
    table = pd.crosstab(frame["x"], frame["y"])
    result = stats.chi2_contingency(table.to_numpy(), correction=False)
    return ChiSquareResult(statistic=float(result.statistic), pvalue=float(result.pvalue), df=int(result.dof))


def shapiro_wilk(values):
    """Shapiro–Wilk test of normality (``scipy.stats.shapiro``, which matches R's ``shapiro.test``).

    Missing values are dropped. R accepts 3 to 5,000 values; so does this function.
    """
    from scipy import stats

    x = pd.to_numeric(pd.Series(values), errors="raise").dropna().to_numpy(float)
    if not 3 <= len(x) <= 5000:
        raise ValueError(f"shapiro_wilk needs 3 to 5,000 values, got {len(x)}")
    return stats.shapiro(x)


def trend_versus_independence_example(n_per_group: int = 60) -> "pd.DataFrame":
    """A worked example for teaching: the same three ordered groups with two patterns of a yes/no trait.

    'Steady rise' (20%, 30%, 40%) and 'U shape' (40%, 20%, 40%): the chi-square test of independence
    (2 degrees of freedom) asks whether the groups differ at all; the linear-by-linear test (1 degree of
    freedom) asks whether the proportion moves in one direction with the group order.
    """
    rows = []
    for pattern, shares in (("Steady rise", (0.2, 0.3, 0.4)), ("U shape", (0.4, 0.2, 0.4))):
        groups, trait = [], []
        for g, share in enumerate(shares, start=1):
            k = round(share * n_per_group)
            groups += [g] * n_per_group
            trait += [1] * k + [0] * (n_per_group - k)
        chi, lbl = chi_square(trait, groups), linear_by_linear(trait, groups)
        rows.append({
            "Pattern": pattern,
            "With the trait, by group": " / ".join(f"{round(s * n_per_group)} of {n_per_group}" for s in shares),
            "χ² (2 df)": round(chi.statistic, 2),
            "χ² P": chi.pvalue,
            "Linear-by-linear M² (1 df)": round(lbl.statistic, 2),
            "Linear-by-linear P": lbl.pvalue,
        })
    return pd.DataFrame(rows)
