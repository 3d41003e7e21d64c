"""Table 2.2.1 as the book shows it: formatted cells by Mg group, the P for trend with its direction,
and each printed cell of the thesis beside this run's same statistic.

The rows, their order and the published cells come from ``data/published/table_2_2_1.csv`` (read by
``helpers.report.published``). The statistics are computed by ``helpers.analysis.baseline``. Continuous
variables are shown as the thesis prints them, median [first quartile–third quartile] (parameter
``baseline_summary``: ``auto``, as printed, with the Shapiro–Wilk rule for a row the thesis does not print;
``median`` or ``mean`` force either); categorical ones as n (%) of the patients with a value, the denominator
written out where values are missing.
"""

import numpy as np
import pandas as pd

from helpers.analysis import baseline
from helpers.report import formatting, published

format_p = formatting.p_value

parse_cell, parse_p = published.parse_cell, published.parse_p
TOLERANCE = 0.05  # relative; or one reporting unit (0.1) where that is larger
WORKING = ["p", "p_trend", "z"]
LEGEND = (
    "JT, Jonckheere–Terpstra test; LbL, linear-by-linear association test; χ², chi-square test of "
    "independence, for a variable without order, with the linear-by-linear P in brackets. Direction: ↑, "
    "higher values (or, for a row of counts, more patients with the level) with higher Mg; ↓, lower; from the "
    "sign of the test's statistic, beside the P. Counts are n (%) of the patients with a value; n/denominator where values are missing."
)


def published_table() -> pd.DataFrame:
    """Table 2.2.1 as printed: one row per table row, the cells as text."""
    return published.table_2_2_1()


def format_continuous(numbers: dict, style: str, decimals: int = 1) -> str:
    """'median [Q1–Q3]' or 'mean ± SD' (helpers.report.formatting); empty for a group without values."""
    if numbers.get("n", 0) == 0:
        return ""
    if style == "mean":
        return formatting.mean_sd(numbers["mean"], numbers["sd"], decimals)
    return formatting.median_iqr(numbers["median"], numbers["q1"], numbers["q3"], decimals)


def format_count(n: int, denominator: int, size: int) -> str:
    """n (%) of the patients with a value; 'n/denominator (%)' where some of the group's values are missing."""
    return formatting.count_percent(n, denominator, size)


def style_of(row, values, groups, summary: str) -> str:
    """How a continuous row is summarised: as the thesis prints it (its published cell) under ``'auto'``, or
    by the Shapiro–Wilk rule for a row it does not print; ``'median'`` or ``'mean'`` force either."""
    if summary == "auto":
        printed = parse_cell(str(row.get("total") or ""))
        if printed:
            return "median" if "median" in printed else "mean"
    return baseline.summary_style(values, groups, summary)


def direction(z: float) -> str:
    """↑ for a positive statistic, ↓ for a negative one, empty when there is none."""
    if z is None or np.isnan(z) or z == 0:
        return ""
    return "↑" if z > 0 else "↓"


def _longs(row, name, nums):
    return [{"row": row, "column": name, "statistic": k, "value": v} for k, v in nums.items()]


def _cells(r, df, parts, groups, summary, spec):
    """Formatted cells, test columns and long numbers of one row of the table."""
    var, kind = r["variable"], r["kind"]
    out, numbers = {}, []
    if kind == "continuous":
        style = style_of(r, df[var], groups, summary)
        for name, part in parts.items():
            nums = baseline.continuous_numbers(part[var])
            out[name] = format_continuous(nums, style)
            numbers += _longs(r["row"], name, nums | {"shown_as": style})
    elif kind in ("binary", "level"):
        for name, part in parts.items():
            nums = baseline.count_numbers(part[var], r["level"])
            out[name] = format_count(nums["n"], nums["denominator"], len(part))
            numbers += _longs(r["row"], name, nums)
    else:
        out |= {name: "" for name in parts}
    if kind == "level":
        return out | {"P for trend": "", "Direction": "", "Test": "", "Missing": ""}, numbers
    levels = spec.loc[(spec["variable"] == var) & (spec["kind"] == "level"), "level"].tolist()
    test = baseline.trend(kind, var, df[var], groups, r["level"], levels)
    shown_test = f"χ² (LbL {format_p(test['p_trend'])})" if test["test"] == "chi2" else test["test"]
    out |= {"P for trend": format_p(test["p"]), "Direction": direction(test["z"]), "Test": shown_test,
            "Missing": int(df[var].isna().sum()), "p": test["p"], "p_trend": test["p_trend"], "z": test["z"]}
    return out, numbers


def baseline_table(df: pd.DataFrame, group: str = "mg_group", summary: str = "auto", spec=None):
    """Table 2.2.1 computed from ``df`` (one row per patient, an ordered categorical ``group`` column).

    Returns ``(table, numbers)``: ``table`` has one row per row of the published table with the formatted
    cells for the total and each group, the P for trend, its direction, the test behind it and the count
    of missing values; ``numbers`` is long (row, column, statistic, value) for comparison with the
    published cells (for continuous rows it includes ``shown_as``, the display the rule chose).
    """
    spec = published_table() if spec is None else spec
    groups = df[group]
    labels = list(groups.cat.categories)
    columns = ["Total", *labels]
    parts = {"Total": df, **{lab: df[groups == lab] for lab in labels}}
    rows, numbers = [], []
    for _, r in spec.iterrows():
        out = {"row": r["row"], "Variable": r["label"], "kind": r["kind"]}
        var = r["variable"]
        if r["kind"] == "heading" or var not in df.columns or df[var].notna().sum() == 0:
            empty = {c: "" for c in columns} | {"P for trend": "", "Direction": "", "Test": "", "Missing": ""}
            rows.append(out | empty | ({} if r["kind"] == "heading" else {"Test": "not in the data"}))
            continue
        cells, nums = _cells(r, df, parts, groups, summary, spec)
        rows.append(out | cells)
        numbers += nums
    table = pd.DataFrame(rows)
    for extra in WORKING:
        if extra not in table:
            table[extra] = np.nan
    order = ["row", "Variable", "kind", *columns, "P for trend", "Direction", "Test", "Missing", *WORKING]
    return table[order], pd.DataFrame(numbers, columns=["row", "column", "statistic", "value"])


def with_group_sizes(table: pd.DataFrame, df: pd.DataFrame, group: str = "mg_group") -> pd.DataFrame:
    """The table for display: group headers carry their n, the direction stands beside its P for trend
    ('0.004 ↓'), the working columns are dropped."""
    sizes = {"Total": len(df), **df[group].value_counts(sort=False).to_dict()}
    shown = table.drop(columns=["row", "kind", *WORKING])
    shown["P for trend"] = (shown["P for trend"] + "\u00a0" + shown.pop("Direction")).str.strip()
    levels = table["kind"] == "level"
    shown.loc[levels, "Variable"] = "\u00a0\u00a0\u00a0" + shown.loc[levels, "Variable"]
    shown["Missing"] = shown["Missing"].map(lambda v: "" if v == "" or pd.isna(v) else f"{int(v):,}")
    return shown.rename(columns={k: f"{k} (n = {n:,})" for k, n in sizes.items()})


def _within(thesis: float, run: float, unit: float = 0.1) -> bool:
    return bool(abs(run - thesis) <= max(TOLERANCE * abs(thesis), unit) + 1e-9)


def _compare_cell(text, nums, row, column, shown):
    """This run's same statistic as a printed cell, whether it is within tolerance, and a display note."""
    pub = parse_cell(text)
    if "median" in pub:
        run = {s: nums.get((row, column, s), np.nan) for s in ("median", "q1", "q3")}
        if any(pd.isna(v) for v in run.values()):
            return "", False, "no values"
        ok = all(_within(pub[s], run[s]) for s in run)
        note = "shown as mean ± SD in the table above" if nums.get((row, column, "shown_as")) == "mean" else ""
        return format_continuous(run | {"n": 1}, "median"), ok, note
    # The count must be equal and its percentage within 0.1 of the printed one, which pins the denominator
    # (0.1 rather than 0.05: the thesis's own totals are not always consistent with its group denominators).
    n, pct = nums.get((row, column, "n"), np.nan), nums.get((row, column, "pct"), np.nan)
    return shown, bool(n == pub["n"] and abs(pct - pub["pct"]) <= 0.1 + 1e-9), ""


def compare_with_published(table: pd.DataFrame, numbers: pd.DataFrame, spec=None) -> pd.DataFrame:
    """Each printed cell of the thesis beside this run's same statistic, and whether it lies within tolerance.

    Like for like: a printed median [Q1; Q3] is set beside this run's median [Q1; Q3] whatever the display
    rule chose for the table (a cell the table shows as mean ± SD says so in ``Note``). Medians and
    quartiles: within 5% or one reporting unit (0.1), whichever is larger; counts: equal, with the
    percentage within 0.1 of the printed one. The P for trend rows say whether this run's P lies on the
    same side of 0.05 as the thesis's, and give this run's direction; for a nominal variable the thesis's
    P for trend is compared with the linear-by-linear P.
    """
    spec = published_table() if spec is None else spec
    fixed = {"row", "Variable", "kind", "Total", "P for trend", "Direction", "Test", "Missing", *WORKING}
    columns = dict(zip(("total", "low", "mid", "high"), ["Total", *[c for c in table.columns if c not in fixed]]))
    nums = numbers.set_index(["row", "column", "statistic"])["value"].to_dict()
    run = table.set_index("row")
    out = []
    for _, r in spec.iterrows():
        absent = r["row"] not in run.index or run.at[r["row"], "Test"] == "not in the data"
        for key, column in columns.items():
            if r[key] and absent:
                out.append({"Row": r["label"], "Column": column, "Thesis": r[key], "This run": "",
                            "Within tolerance": False, "Note": "not in the data"})
            elif r[key]:
                text, ok, note = _compare_cell(r[key], nums, r["row"], column, run.at[r["row"], column])
                out.append({"Row": r["label"], "Column": column, "Thesis": formatting.printed(r[key]), "This run": text,
                            "Within tolerance": ok, "Note": note})
        if r["p_trend"] and not absent:
            p_run = run.at[r["row"], "p_trend"]
            out.append({"Row": r["label"], "Column": "P for trend", "Thesis": r["p_trend"],
                        "This run": f"{format_p(p_run)} {run.at[r['row'], 'Direction']}".strip(),
                        "Within tolerance": bool((parse_p(r["p_trend"]) < 0.05) == (p_run < 0.05)), "Note": ""})
    return pd.DataFrame(out, columns=["Row", "Column", "Thesis", "This run", "Within tolerance", "Note"])
