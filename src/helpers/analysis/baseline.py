"""Table 2.2.1: baseline characteristics by Mg group, with a P for trend, beside the published table.

The rows, their order and the published cells come from ``data/published/table_2_2_1.csv``, transcribed
from the thesis as printed. Continuous variables are summarised as median [first quartile; third
quartile] (quantiles by linear interpolation, R's default type 7) or as mean ± SD; categorical ones as
n (%) of the patients with a value, the denominator written out where values are missing.
"""

import re

import numpy as np
import pandas as pd

from helpers import paths
from helpers.stats import trend as tables
from helpers.report.outputs import format_p

# Causes of CKD have no order: a trend test across them has no meaning, so the table gives the
# chi-square test of independence as the P and shows the linear-by-linear value beside it, as printed.
NOMINAL = {"ckd_etiology"}
ALPHA = 0.05  # Shapiro-Wilk level below which a variable is summarised by median and quartiles
SUMMARY_STYLES = ("auto", "median", "mean")
TOLERANCE = 0.05  # relative; or one reporting unit (0.1) where that is larger


def published_table() -> pd.DataFrame:
    """Table 2.2.1 as printed: one row per table row, the cells as text."""
    return pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str, keep_default_na=False)


def parse_cell(text: str) -> dict:
    """Numbers of a printed cell: 'm [q1;q3]' -> median, q1, q3; 'n (p)' -> n, pct; 'm ± s' -> mean, sd."""
    text = text.strip()
    if m := re.fullmatch(r"([\d.,]+)\s*\[\s*([\d.,]+)\s*;\s*([\d.,]+)\s*\]", text):
        return dict(zip(("median", "q1", "q3"), (float(v.replace(",", "")) for v in m.groups())))
    if m := re.fullmatch(r"([\d,]+)(?:/[\d,]+)?\s*\(\s*([\d.]+)\s*\)", text):
        return {"n": int(m.group(1).replace(",", "")), "pct": float(m.group(2))}
    if m := re.fullmatch(r"([\d.,]+)\s*±\s*([\d.,]+)", text):
        return {"mean": float(m.group(1).replace(",", "")), "sd": float(m.group(2).replace(",", ""))}
    return {}


def parse_p(text: str) -> float:
    """A printed P value as a number; '<0.001' becomes 0.001 (an upper bound)."""
    text = text.strip()
    return float(text.lstrip("<")) if text else np.nan


def _number(v: float, decimals: int = 1) -> str:
    return f"{v:.{decimals}f}"


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


def format_continuous(numbers: dict, style: str, decimals: int = 1) -> str:
    if numbers.get("n", 0) == 0:
        return ""
    if style == "mean":
        return f"{_number(numbers['mean'], decimals)} ± {_number(numbers['sd'], decimals)}"
    return f"{_number(numbers['median'], decimals)} [{_number(numbers['q1'], decimals)};{_number(numbers['q3'], decimals)}]"


def format_count(n: int, denominator: int, size: int) -> str:
    """n (%) of the patients with a value; 'n/denominator (%)' where some of the group's values are missing."""
    if denominator == 0:
        return ""
    pct = 100.0 * n / denominator
    return f"{n:,} ({pct:.1f})" if denominator == size else f"{n:,}/{denominator:,} ({pct:.1f})"


def _indicator(column: pd.Series, level: str) -> pd.Series:
    """1/0 for 'has the level', missing where the column is missing."""
    if pd.api.types.is_numeric_dtype(column):
        hit = column == float(level)
    else:
        hit = column.astype("object") == level
    return hit.astype(float).where(column.notna())


def _ordered_codes(column: pd.Series, levels: list[str]) -> pd.Series:
    """Scores 1, 2, ... of the levels in the table's order; missing elsewhere."""
    text = column.map(lambda v: v if isinstance(v, str) else (f"{v:g}" if pd.notna(v) else None))
    return text.map({lv: i + 1.0 for i, lv in enumerate(levels)})


def baseline_table(df: pd.DataFrame, group: str = "mg_group", summary: str = "auto", spec=None):
    """Table 2.2.1 computed from ``df`` (one row per patient, an ordered categorical ``group`` column).

    Returns ``(table, numbers)``: ``table`` has one row per row of the published table with the formatted
    cells for the total and each group, the P for trend, the test behind it and the count of missing
    values; ``numbers`` is long (row, column, statistic, value) for comparison with the published cells.
    """
    spec = published_table() if spec is None else spec
    groups = df[group]
    labels = list(groups.cat.categories)
    columns = ["Total", *labels]
    parts = {"Total": df, **{lab: df[groups == lab] for lab in labels}}
    sizes = {name: len(part) for name, part in parts.items()}
    rows, numbers = [], []
    for _, r in spec.iterrows():
        out = {"row": r["row"], "Variable": r["label"], "kind": r["kind"]}
        var = r["variable"]
        if r["kind"] == "heading" or var not in df.columns or df[var].notna().sum() == 0:
            rows.append(out | {c: "" for c in columns} | {"P for trend": "", "Test": "", "Missing": ""})
            if r["kind"] != "heading":
                rows[-1]["Test"] = "not in the data"
            continue
        col = df[var]
        if r["kind"] == "continuous":
            style = summary_style(col, groups, summary)
            for name, part in parts.items():
                nums = continuous_numbers(part[var])
                out[name] = format_continuous(nums, style)
                numbers += [{"row": r["row"], "column": name, "statistic": k, "value": v} for k, v in nums.items()]
            res = tables.jonckheere_terpstra(col, groups)
            out |= {"P for trend": format_p(res.pvalue), "Test": "JT", "p": res.pvalue, "p_trend": res.pvalue}
            out["Missing"] = int(col.isna().sum())
        elif r["kind"] in ("binary", "level"):
            for name, part in parts.items():
                hit = _indicator(part[var], r["level"])
                n, denominator = int(hit.sum()), int(hit.notna().sum())
                out[name] = format_count(n, denominator, sizes[name])
                pct = 100.0 * n / denominator if denominator else np.nan
                numbers += [
                    {"row": r["row"], "column": name, "statistic": "n", "value": n},
                    {"row": r["row"], "column": name, "statistic": "pct", "value": pct},
                    {"row": r["row"], "column": name, "statistic": "denominator", "value": denominator},
                ]
            if r["kind"] == "binary":
                res = tables.linear_by_linear(_indicator(col, r["level"]), groups)
                out |= {"P for trend": format_p(res.pvalue), "Test": "LbL", "p": res.pvalue, "p_trend": res.pvalue}
                out["Missing"] = int(col.isna().sum())
            else:
                out |= {"P for trend": "", "Test": "", "Missing": ""}
        elif r["kind"] == "categorical":
            levels = spec.loc[(spec["variable"] == var) & (spec["kind"] == "level"), "level"].tolist()
            codes = _ordered_codes(col, levels)
            lbl = tables.linear_by_linear(codes, groups)
            out |= {c: "" for c in columns} | {"Missing": int(col.isna().sum()), "p_trend": lbl.pvalue}
            if var in NOMINAL:
                chi = tables.chi_square(codes, groups)
                out |= {
                    "P for trend": format_p(chi.pvalue),
                    "Test": f"χ² (LbL {format_p(lbl.pvalue)})",
                    "p": chi.pvalue,
                }
            else:
                out |= {"P for trend": format_p(lbl.pvalue), "Test": "LbL", "p": lbl.pvalue}
        rows.append(out)
    table = pd.DataFrame(rows)
    for extra in ("p", "p_trend"):
        if extra not in table:
            table[extra] = np.nan
    table = table[["row", "Variable", "kind", *columns, "P for trend", "Test", "Missing", "p", "p_trend"]]
    return table, pd.DataFrame(numbers)


def with_group_sizes(table: pd.DataFrame, df: pd.DataFrame, group: str = "mg_group") -> pd.DataFrame:
    """The table for display: group headers carry their n, the working columns are dropped."""
    sizes = {"Total": len(df), **df[group].value_counts(sort=False).to_dict()}
    shown = table.drop(columns=["row", "kind", "p", "p_trend"])
    levels = table["kind"] == "level"
    shown.loc[levels, "Variable"] = "\u00a0\u00a0\u00a0" + shown.loc[levels, "Variable"]
    shown["Missing"] = shown["Missing"].map(lambda v: "" if v == "" or pd.isna(v) else f"{int(v):,}")
    return shown.rename(columns={k: f"{k} (n = {n:,})" for k, n in sizes.items()})


LEGEND = (
    "JT, Jonckheere–Terpstra test; LbL, linear-by-linear association test; χ², chi-square test of "
    "independence, for a variable without order, with the linear-by-linear P in brackets. Counts are "
    "n (%) of the patients with a value; n/denominator where values are missing."
)


def _within(published: float, reproduced: float, unit: float = 0.1) -> bool:
    return bool(abs(reproduced - published) <= max(TOLERANCE * abs(published), unit) + 1e-9)


def compare_with_published(table: pd.DataFrame, numbers: pd.DataFrame, spec=None) -> pd.DataFrame:
    """Each published cell beside the reproduced one, and whether it lies within tolerance.

    Medians and quartiles: within 5% or one reporting unit (0.1), whichever is larger; counts: equal, with
    the percentage within 0.1 of the printed one (so the denominator, and with it the missing values, match).
    The P for trend rows say whether the reproduced P lies on the same side of 0.05 as the published one;
    for a nominal variable the thesis's P for trend is compared with the linear-by-linear P.
    """
    spec = published_table() if spec is None else spec
    columns = {"total": "Total", "low": None, "mid": None, "high": None}
    labels = [c for c in table.columns if c not in ("row", "Variable", "kind", "Total", "P for trend", "Test", "Missing", "p", "p_trend")]
    for key, label in zip(("low", "mid", "high"), labels):
        columns[key] = label
    nums = numbers.set_index(["row", "column", "statistic"])["value"]
    reproduced = table.set_index("row")
    out = []
    for _, r in spec.iterrows():
        if r["kind"] in ("heading", "categorical") and not r["p_trend"]:
            continue
        for key, column in columns.items():
            text = r[key]
            if not text or column is None:
                continue
            pub = parse_cell(text)
            rep_text = reproduced.at[r["row"], column] if r["row"] in reproduced.index else ""
            if "median" in pub:
                rep = [nums.get((r["row"], column, s), np.nan) for s in ("median", "q1", "q3")]
                ok = all(_within(p, q) for p, q in zip((pub["median"], pub["q1"], pub["q3"]), rep))
            else:
                # The count must be equal and its percentage within 0.1 of the printed one, which pins
                # the denominator (0.1 rather than 0.05: the thesis's own totals are not always consistent
                # with its group denominators).
                rep_n = nums.get((r["row"], column, "n"), np.nan)
                rep_pct = nums.get((r["row"], column, "pct"), np.nan)
                ok = bool(rep_n == pub["n"] and abs(rep_pct - pub["pct"]) <= 0.1 + 1e-9)
            out.append({"Row": r["label"], "Column": column, "Published": text, "Reproduced": rep_text, "Within tolerance": ok})
        if r["p_trend"]:
            p_pub = parse_p(r["p_trend"])
            p_rep = reproduced.at[r["row"], "p_trend"] if r["row"] in reproduced.index else np.nan
            same = bool((p_pub < 0.05) == (p_rep < 0.05))
            out.append({
                "Row": r["label"], "Column": "P for trend", "Published": r["p_trend"],
                "Reproduced": format_p(p_rep), "Within tolerance": same,
            })
    return pd.DataFrame(out)
