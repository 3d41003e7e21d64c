"""Table 2.2.1's statistics: summaries and the test for trend of each row, by Mg group.

Continuous variables are summarised by their median and quartiles (linear interpolation, R's default
type 7), mean and SD; categorical ones by n and the denominator of the patients with a value. The rows
come from a specification (the published table's rows, read and formatted by
``helpers.report.baseline_table``); nothing here formats a cell.
"""

import numpy as np
import pandas as pd

from helpers.analysis import cohort
from helpers.stats import trend as tables

# Causes of CKD have no order: a trend test across them has no meaning, so the table gives the
# chi-square test of independence as the P and shows the linear-by-linear value beside it, as printed.
NOMINAL = {"ckd_etiology"}
ALPHA = 0.05  # Shapiro-Wilk level below which a variable is summarised by median and quartiles
SUMMARY_STYLES = ("auto", "median", "mean")


def continuous_numbers(values) -> dict:
    """Median, quartiles (type 7), mean, SD (n − 1) and count of the non-missing values."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy(float)
    if len(x) == 0:
        return {"n": 0}
    q1, median, q3 = np.quantile(x, [0.25, 0.5, 0.75])
    sd = float(np.std(x, ddof=1)) if len(x) > 1 else np.nan
    return {"median": median, "q1": q1, "q3": q3, "mean": float(np.mean(x)), "sd": sd, "n": len(x)}


def summary_style(values, groups, forced: str = "auto") -> str:
    """'median' or 'mean': mean ± SD only when Shapiro–Wilk keeps normality (P ≥ 0.05) in every group.

    ``forced`` ('median' or 'mean') overrides the test; groups with fewer than 3 values are not tested.
    """
    if forced not in SUMMARY_STYLES:
        raise ValueError(f"summary must be one of {SUMMARY_STYLES}")
    if forced != "auto":
        return forced
    x = pd.to_numeric(pd.Series(values), errors="coerce")
    for _, part in x.groupby(pd.Series(groups).to_numpy(), observed=True):
        part = part.dropna()
        if 3 <= len(part) <= 5000 and tables.shapiro_wilk(part).pvalue < ALPHA:
            return "median"
        if len(part) > 5000:
            return "median"
    return "mean"


def indicator(column: pd.Series, level: str) -> pd.Series:
    """1/0 for 'has the level', missing where the column is missing."""
    if pd.api.types.is_numeric_dtype(column):
        hit = column == float(level)
    else:
        hit = column.astype("object") == level
    return hit.astype(float).where(column.notna())


def ordered_codes(column: pd.Series, levels: list[str]) -> pd.Series:
    """Scores 1, 2, ... of the levels in the table's order; missing elsewhere."""
    text = column.map(lambda v: v if isinstance(v, str) else (f"{v:g}" if pd.notna(v) else None))
    return text.map({lv: i + 1.0 for i, lv in enumerate(levels)})


def count_numbers(values: pd.Series, level: str) -> dict:
    """n with the level, the denominator (patients with a value) and the percentage."""
    hit = indicator(values, level)
    n, denominator = int(hit.sum()), int(hit.notna().sum())
    return {"n": n, "pct": 100.0 * n / denominator if denominator else np.nan, "denominator": denominator}


def trend(kind: str, variable: str, column: pd.Series, groups: pd.Series, level=None, levels=None) -> dict:
    """The row's test across the ordered groups: name, P, signed z (its direction) and the P for trend.

    Continuous: Jonckheere–Terpstra; binary: linear-by-linear on the indicator; categorical:
    linear-by-linear on the levels' order, with the chi-square test as the P of a nominal variable.
    ``z`` > 0 means higher values (or later levels) with higher Mg. With the values in one group only,
    there is no test: ``test`` says why and P is missing.
    """
    single = cohort.one_group(groups[column.notna()])
    if single:
        return {"test": single, "p": np.nan, "p_trend": np.nan, "z": np.nan}
    if kind == "continuous":
        res = tables.jonckheere_terpstra(column, groups)
        return {"test": "JT", "p": res.pvalue, "p_trend": res.pvalue, "z": res.z}
    if kind == "binary":
        res = tables.linear_by_linear(indicator(column, level), groups)
        return {"test": "LbL", "p": res.pvalue, "p_trend": res.pvalue, "z": res.z}
    codes = ordered_codes(column, levels)
    lbl = tables.linear_by_linear(codes, groups)
    if variable in NOMINAL:
        chi = tables.chi_square(codes, groups)
        return {"test": "chi2", "p": chi.pvalue, "p_trend": lbl.pvalue, "z": np.nan}
    return {"test": "LbL", "p": lbl.pvalue, "p_trend": lbl.pvalue, "z": lbl.z}
