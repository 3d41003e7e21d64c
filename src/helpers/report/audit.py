"""Where the thesis disagrees with itself, and what the book uses. Counts are computed from the
transcribed tables in ``data/published``; statements of the text are quoted with their place."""

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from helpers.report import published
from helpers.stats import trend
from helpers.stats._common import Z95


def thesis_audit() -> pd.DataFrame:
    table = published.table_2_2_1()
    rows = []
    t222 = published.hazards("table_2_2_2")
    m4 = t222[(t222["group"] == "low") & (t222["model"] == "Model 4")].iloc[0]
    rows.append({
        "Issue": "Model 4 confidence interval of low Mg printed two ways",
        "Where": "Section 2.2.2 text; Table 2.2.2; abstract",
        "The thesis says": f"2.53 (1.12–6.69) in the text; 2.53 ({m4['lower']:.2f}–{m4['upper']:.2f}) in Table 2.2.2 and the abstract",
        "What the book uses": "The table's interval (the abstract agrees with it, and 6.69 is not symmetric on the log scale around 2.53 with a lower limit of 1.12)",
    })
    rows.append({
        "Issue": "Size of the risk restated differently",
        "Where": "Chapter 4, discussion",
        "The thesis says": f"risk '1.71 times higher' in the low-Mg group, against HR {m4['hr']:.2f} in Table 2.2.2 (and 47.4 / 20.2 = 2.35 per 1,000 person-years)",
        "What the book uses": "The hazard ratios of Tables 2.2.2 and 2.2.3",
    })
    for var, label in (("vitd_agonist", "Vitamin D agonists"), ("phosphate_binder", "Phosphate binders"), ("diuretic", "Diuretics")):
        row = table[table["variable"] == var].iloc[0]
        cells = {c: published.parse_cell(row[c]) for c in ("total", "low", "mid", "high")}
        implied = {c: round(v["n"] / v["pct"] * 100) if v["pct"] else None for c, v in cells.items()}
        group_sum = sum(implied[c] for c in ("low", "mid", "high") if implied[c])
        shown = {c: (f"{v:,}" if v else "unknown, the cell being 0 (0.0)") for c, v in implied.items()}
        rows.append({
            "Issue": f"{label}: denominators not stated",
            "Where": "Table 2.2.1, use of medication",
            "The thesis says": f"{row['total']} in total; the percentages imply about {implied['total']:,} patients with data "
                               f"(groups: {shown['low']}; {shown['mid']}; {shown['high']}; together {group_sum:,} or more) of 1,646",
            "What the book uses": "Denominators implied by each group's percentage; the book prints n/denominator wherever values are missing",
        })
    for var, label in (("cac_category", "Coronary calcium score categories"), ("smoking", "Smoking")):
        levels = table[(table["variable"] == var) & (table["kind"] == "level")]
        sums = {c: sum(published.parse_cell(x)["n"] for x in levels[c]) for c in ("total", "low", "mid", "high")}
        rows.append({
            "Issue": f"{label}: categories do not add up to the group sizes",
            "Where": "Table 2.2.1",
            "The thesis says": f"categories sum to {sums['total']:,} (groups {sums['low']}, {sums['mid']}, {sums['high']}) "
                               "against 1,646 (37, 914, 695); the missing values are not mentioned",
            "What the book uses": "The categories as printed, with the remainder of each group as missing (shown in the Missing column)",
        })
    etiology = table[table["row"] == "etiology"].iloc[0]
    rows.append({
        "Issue": "A P for trend for a variable without order",
        "Where": "Table 2.2.1, etiology of CKD",
        "The thesis says": f"P for trend {etiology['p_trend']} across five causes of CKD in an arbitrary order",
        "What the book uses": "The chi-square test of independence, with the linear-by-linear P beside it for comparison",
    })
    return pd.DataFrame(rows + printed_number_rows(table))


def printed_number_rows(table) -> list[dict]:
    """Audit rows decided from the printed counts and intervals (see the checks below)."""
    checks, rows = trend_p_checks(table), []
    smoking = table[table["row"] == "smoking"].iloc[0]
    p_smoke, (c_lo, c_hi) = float(smoking["p_trend"]), checks["smoking_chi"]
    is_chi = c_lo - 0.0005 <= p_smoke <= c_hi + 0.0005
    rows.append({
        "Issue": "Smoking: P for trend " + ("matches a chi-square test, not a trend test" if is_chi else "matches neither test"),
        "Where": "Table 2.2.1, smoking",
        "The thesis says": f"P for trend {p_smoke:.3f}; the printed counts give {checks['smoking_lbl']:.3f} by the "
                           f"linear-by-linear test and {c_lo:.3f}–{c_hi:.3f} by a 3×3 chi-square",
        "What the book uses": "The linear-by-linear test on the cohort's own counts, its direction shown",
    })
    etiology = table[table["row"] == "etiology"].iloc[0]
    p_et = float(etiology["p_trend"])
    hit = any(abs(p - p_et) < 0.0005 for p in checks["etiology_lbl"])
    closest = min(checks["etiology_lbl"], key=lambda p: abs(p - p_et))
    rows.append({
        "Issue": "CKD aetiology: P for trend " + ("given by some ordering of the causes" if hit else "given by no ordering of the causes"),
        "Where": "Table 2.2.1, etiology of CKD",
        "The thesis says": f"P {p_et:.3f}; the linear-by-linear test over all {len(checks['etiology_lbl'])} orderings of the "
                           f"causes gives {min(checks['etiology_lbl']):.4f} to {max(checks['etiology_lbl']):.3f} (closest {closest:.3f}); "
                           f"the 5×3 chi-square gives {checks['etiology_chi']:.4f}",
        "What the book uses": "The chi-square test of independence",
    })
    for s in percentage_slips(table):
        rows.append({
            "Issue": f"{s['label']}: a percentage rounded wrongly",
            "Where": f"Table 2.2.1, {s['label'].lower()}, {s['group']} Mg group",
            "The thesis says": f"{s['n']} of {s['size']:,} printed as {s['printed']:.1f}%; {s['n']}/{s['size']} is {s['exact']:.2f}%",
            "What the book uses": "Percentages computed from the counts",
        })
    for o in wald_p_outliers():
        lo, hi = o["implied"]
        rows.append({
            "Issue": "A P value outside the Wald P its confidence interval implies",
            "Where": f"Table {o['table'][6:].replace('_', '.')}, {o['model']}, {o['group']} Mg group",
            "The thesis says": f"P {o['printed']:.3f}; the printed ratio and 95% CI imply a Wald P of {lo:.3f}–{hi:.3f}",
            "What the book uses": "Wald P computed with the interval from the same fit",
        })
    return rows


# --- printed numbers checked against each other -------------------------------------------------------

GROUPS = ("low", "mid", "high")


def _counts(table, variable) -> np.ndarray:
    """The printed counts of a categorical variable of Table 2.2.1: rows its levels, columns the Mg groups."""
    levels = table[(table["variable"] == variable) & (table["kind"] == "level")]
    return np.array([[published.parse_cell(levels.iloc[i][g])["n"] for g in GROUPS] for i in range(len(levels))])


def _records(counts: np.ndarray):
    """One (row, column) pair per patient of a contingency table, for the record-level tests."""
    rows, cols = np.indices(counts.shape)
    return np.repeat(rows.ravel(), counts.ravel()), np.repeat(cols.ravel(), counts.ravel())


def _group_sizes() -> np.ndarray:
    first = published.hazards("table_2_2_2").groupby("group").first()
    return np.array([int(first.at[g, "participants"]) for g in GROUPS])


def trend_p_checks(table) -> dict:
    """Smoking and CKD aetiology: the printed P for trend beside what the printed counts give.

    Smoking: linear-by-linear (never < former < current against low < mid < high) and Pearson's 3×3
    chi-square, the latter over every way of placing the patients whose smoking is not printed (left out,
    or added to any one level). Aetiology: linear-by-linear over every ordering of the five causes, and the
    5×3 chi-square.
    """
    smoking = _counts(table, "smoking")
    missing = _group_sizes() - smoking.sum(axis=0)
    variants = [smoking] + [smoking + np.eye(len(smoking), dtype=int)[:, [k]] * missing for k in range(len(smoking))]
    chi = [stats.chi2_contingency(v, correction=False).pvalue for v in variants]
    etiology = _counts(table, "ckd_etiology")
    orderings = [trend.linear_by_linear(*_records(etiology[list(order)])).pvalue
                 for order in itertools.permutations(range(len(etiology)))]
    return {
        "smoking_lbl": trend.linear_by_linear(*_records(smoking)).pvalue, "smoking_chi": (min(chi), max(chi)),
        "etiology_lbl": orderings, "etiology_chi": stats.chi2_contingency(etiology, correction=False).pvalue,
    }


def percentage_slips(table) -> list[dict]:
    """Cells of Table 2.2.1 whose printed percentage is not n / denominator rounded to one decimal (the group
    size; for a level of a categorical variable, its levels' sum), where
    it is within 0.2 of it (a rounding slip; larger gaps are cells with missing values, a denominator the
    thesis does not print)."""
    sizes = dict(zip(GROUPS, _group_sizes()))
    slips = []
    for _, row in table[table["kind"].isin(["binary", "level"])].iterrows():
        # A level's percentage is of the patients with the variable printed (the levels' sum).
        levels = _counts(table, row["variable"]) if row["kind"] == "level" else None
        for j, g in enumerate(GROUPS):
            cell = published.parse_cell(row[g])
            size = int(levels[:, j].sum()) if levels is not None else sizes[g]
            exact = 100 * cell["n"] / size
            if cell["pct"] is not None and round(exact, 1) != cell["pct"] and abs(exact - cell["pct"]) < 0.2:
                slips.append({"label": row["label"], "group": g, "n": cell["n"], "size": size,
                              "exact": exact, "printed": cell["pct"]})
    return slips


def wald_p_range(hr, lower, upper, step=0.005) -> tuple[float, float]:
    """The Wald P a printed ratio and 95% CI imply, as the smallest and largest over the values that round
    to them (each printed to two decimals): se = (log upper − log lower) / (2 × 1.96), z = log hr / se."""
    ps = []
    for h, lo, up in itertools.product(*[(v - step, v + step) for v in (hr, lower, upper)]):
        se = (np.log(up) - np.log(lo)) / (2 * Z95)
        ps.append(2 * stats.norm.sf(abs(np.log(h)) / se))
    return min(ps), max(ps)


def wald_p_outliers() -> list[dict]:
    """Rows of Tables 2.2.2 and 2.2.3 whose printed P lies outside the Wald P their printed CI implies."""
    out = []
    for name in ("table_2_2_2", "table_2_2_3"):
        t = published.hazards(name).dropna(subset=["lower"])
        for _, r in t.iterrows():
            low, high = wald_p_range(r["hr"], r["lower"], r["upper"])
            if not low - 0.0005 <= r["p"] <= high + 0.0005:
                out.append({"table": name, "group": r["group"], "model": r["model"], "printed": r["p"], "implied": (low, high)})
    return out
