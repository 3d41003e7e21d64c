"""Where the thesis disagrees with itself, and what the book uses. Counts are computed from the
transcribed tables in ``data/published``; statements of the text are quoted with their place."""

import pandas as pd

from helpers.analysis import baseline, models


def thesis_audit() -> pd.DataFrame:
    table = baseline.published_table()
    rows = []
    t222 = models.published_hazards("table_2_2_2")
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
        cells = {c: baseline.parse_cell(row[c]) for c in ("total", "low", "mid", "high")}
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
        sums = {c: sum(baseline.parse_cell(x)["n"] for x in levels[c]) for c in ("total", "low", "mid", "high")}
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
    return pd.DataFrame(rows)
