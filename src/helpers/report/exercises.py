"""Numbers for the exercises' solutions, formatted as the book prints them (nothing here is typed in).

A solution sets this run's number beside the one the exercise's settings give
(:func:`helpers.pipeline.params.exercise` lays them over the run's parameters); these helpers format
them, disclosing counts of patients as the tables do when the data are real.
"""

import pandas as pd

from helpers.report import outputs


def count(n, params: dict) -> str:
    """A count of patients or events as published: with real data redacted (1 to the threshold) or rounded
    to the base (:mod:`helpers.report.disclosure`), exact with synthetic data."""
    return outputs.count(int(n), params)


def ratio(row) -> str:
    """'2.53 (1.12–5.69)' from a row with ``hr, lower, upper``; where there is no estimate, the row's
    ``reason`` ('not estimable: …', 'withheld: …') or 'not estimable'."""
    if pd.isna(row["hr"]):
        return str(row.get("reason", "") or "") or "not estimable"
    return outputs.format_ratio(row["hr"], row["lower"], row["upper"])


def width(row) -> str:
    """How many times the lower limit the upper limit of a row's 95% CI is ('4.5'); '–' without an interval."""
    if pd.isna(row["lower"]) or pd.isna(row["upper"]) or not row["lower"] > 0:
        return "–"
    return f"{row['upper'] / row['lower']:.1f}"


def ratios_by_model(results: pd.DataFrame, term: str = "mg_low") -> str:
    """'Model 1 …; Model 2 …' : the ratio of one term in each model of :func:`models.fit_models`."""
    rows = results[results["term"] == term]
    return "; ".join(f"{r['model']} {ratio(r)}" for _, r in rows.iterrows())


def group_sizes(df: pd.DataFrame, params: dict, event: str | None = None, cause: int = 1) -> str:
    """'37, 914 and 695' : patients (or, with ``event``, events of ``cause``) in each magnesium group."""
    groups = df.groupby("mg_group", observed=True)
    values = groups[event].apply(lambda s: int((s == cause).sum())) if event else groups.size()
    shown = [count(v, params) for v in values]
    return ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else "".join(shown)
