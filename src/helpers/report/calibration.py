"""How closely a cohort reproduces the thesis's published aggregates: one row per target.

Used twice: by ``tests/test_calibration.py``, which requires every target of the synthetic cohort to be
met, and by the book's data page, which shows the table. Each target is recomputed from the data with
the same helpers the chapters use.
"""

import numpy as np
import pandas as pd

from helpers.analysis import cohort, derive, models
from helpers.report import baseline_table, formatting, outputs, published
from helpers.stats import survival


def _row(section, target, published, synthetic, tolerance, ok, required=True):
    return {
        "Section": section, "Target": target, "Published": published, "This cohort": synthetic,
        "Tolerance": tolerance, "Within tolerance": bool(ok), "Required": required,
    }


def _flow_rows(the_cohort, analysed, cuts, upper):
    rows = []
    for flow in (
        cohort.primary_flow(the_cohort, cuts, upper), cohort.cac_flow(analysed, cuts), cohort.pwv_flow(analysed, cuts)
    ):
        for _, r in published.compare_flow(flow).iterrows():
            if pd.notna(r["Thesis"]):
                rows.append(_row("Flow", r["Label"], int(r["Thesis"]), int(r["This run"]), "exact", r["Difference"] == 0))
    mg = the_cohort["mg"].dropna()
    tenths = ((mg * 10).round(9) % 1 == 0).all()
    rows.append(_row("Flow", "Mg recorded to 0.1 mg/dL", "yes", "yes" if tenths else "no", "exact", tenths))
    return rows


def _baseline_rows(analysed):
    rows = []
    table, numbers = baseline_table.baseline_table(analysed, "mg_group", "median")
    for _, r in baseline_table.compare_with_published(table, numbers).iterrows():
        trend = r["Column"] == "P for trend"
        tolerance = "same side of 0.05" if trend else ("5% or 0.1" if "[" in r["Thesis"] else "exact")
        rows.append(_row("Table 2.2.1", f"{r['Row']}: {r['Column']}", r["Thesis"], r["This run"], tolerance,
                         r["Within tolerance"], required=not trend))
    return rows


def _outcome_rows(analysed, labels):
    rows = []
    target = published.incidence().set_index("group")
    for key, label in labels.items():
        events = int(((analysed["mg_group"] == label) & (analysed["status"] == 1)).sum())
        rows.append(_row("Outcomes", f"Composite events, Mg {label}", int(target.at[key, "events"]), events,
                         "exact", events == target.at[key, "events"]))
    years = float(analysed["followup_years"].sum())
    target_years = float(target.at["overall", "person_years"])
    rows.append(_row("Outcomes", "Person-years", f"{target_years:,.0f}", f"{years:,.0f}", "2%",
                     abs(years / target_years - 1) <= 0.02))
    rates = survival.incidence_rate(analysed, "followup_years", "status", group="mg_group").set_index("group")
    for key, label in [*labels.items(), ("overall", "Overall")]:
        rows.append(_row("Outcomes", f"Incidence per 1,000 person-years, {label}", target.at[key, "rate"],
                         round(float(rates.at[label, "rate"]), 1), "reported", True, required=False))
    return rows


def _progression_rows(analysed, labels):
    rows = []
    for _, p in published.progression().iterrows():
        column = "cac_progression" if p["outcome"] == "cac" else "pwv_progression"
        flow_keep = analysed[column].notna()
        if p["outcome"] == "cac":
            flow_keep &= analysed["revasc_by_year4"] != 1
        part = analysed[flow_keep & (analysed["mg_group"] == labels[p["group"]])]
        got = int(part[column].sum())
        name = "CAC" if p["outcome"] == "cac" else "Arterial stiffness"
        rows.append(_row("Progression", f"{name} progression, Mg {labels[p['group']]}",
                         f"{p['progressed']} of {p['analysed']}", f"{got} of {len(part)}", "exact",
                         got == p["progressed"] and len(part) == p["analysed"]))
    return rows


def _hazard_rows(analysed, labels):
    rows = []
    covariates = models.fitted_terms(analysed, ["followup_years", "status"], "Model 4")  # a group without patients: no term
    for fitter, name, table_name in (
        (survival.cause_specific_cox, "cause-specific", "table_2_2_2"), (survival.fine_gray, "Fine–Gray", "table_2_2_3")
    ):
        fit = fitter(analysed, "followup_years", "status", covariates)
        for term, key in (("mg_low", "low"), ("mg_high", "high")):
            p = published.model_hazard(table_name, key)
            hr = float(fit.at[term, "hr"]) if term in fit.index else np.nan
            rows.append(_row("Hazard ratios", f"Model 4 {name} {'sHR' if name == 'Fine–Gray' else 'HR'}, Mg {labels[key]}",
                             outputs.format_ratio(p["hr"], p["lower"], p["upper"]),
                             f"{hr:.2f}" if np.isfinite(hr) else "not estimable",
                             "inside the published 95% CI", bool(p["lower"] <= hr <= p["upper"])))
    return rows


def calibration_table(the_cohort: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Every published target beside this cohort's value, its tolerance and whether it is met.

    ``the_cohort`` is the validated cohort (all enrolled patients). Rows marked not required (the P for
    trend) are reported: the issue asks for as many as the joint structure allows.
    """
    cuts, upper = params["mg_cutpoints"], params["mg_exclude_at_or_above"]
    analysed = cohort.analysis_cohort(the_cohort, cuts, upper)
    labels = dict(zip(("low", "mid", "high"), derive.mg_group_labels(cuts)))
    rows = [*_flow_rows(the_cohort, analysed, cuts, upper), *_baseline_rows(analysed),
            *_outcome_rows(analysed, labels), *_progression_rows(analysed, labels), *_hazard_rows(analysed, labels)]
    out = pd.DataFrame(rows)
    for column in ("Published", "This cohort"):  # text, as the thesis prints it: '2,238', '12.7'
        out[column] = out[column].map(lambda v: formatting.count(v) if isinstance(v, (int, np.integer)) else str(v))
    return out


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Targets met, by section, for required targets and for the reported P for trend."""
    required = table[table["Required"]]
    trend = table[table["Tolerance"] == "same side of 0.05"]
    rows = [
        {"Section": s, "Targets": len(g), "Met": int(g["Within tolerance"].sum())}
        for s, g in required.groupby("Section", sort=False)
    ]
    rows.append({"Section": "P for trend (reported)", "Targets": len(trend), "Met": int(trend["Within tolerance"].sum())})
    return pd.DataFrame(rows)


