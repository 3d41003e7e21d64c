"""Display tables of the chapter "Beyond the thesis": the tidy frames of ``helpers.analysis.beyond`` as
readers see them (percentages, intervals written out, labels instead of column names)."""

import numpy as np
import pandas as pd

from helpers.analysis import beyond as analysis_beyond, dictionary
from helpers.report import formatting, outputs

TERMS = {"mg_low": "Mg below the lower cut-point", "mg_high": "Mg above the upper cut-point",
         **{term: label for _, term, label in analysis_beyond.MARKERS}}


LABELS = dictionary.load()["label"].to_dict()  # each column's label, from the data dictionary


def _percent(estimate, lower, upper, digits=1) -> str:
    return formatting.estimate_ci(100 * estimate, 100 * lower, 100 * upper, digits)


def risk_table(risks: pd.DataFrame, reference: str, bootstrap: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per time and Mg group: standardized risk (%), difference (percentage points) and ratio
    against ``reference``, the ratio with ``ate``'s limits and with log-scale limits; with ``bootstrap``
    (from ``bootstrap_risks``) the percentile intervals too."""
    keyed = risks.set_index(["time", "group", "kind"])
    boot = bootstrap.set_index(["time", "group", "kind"]) if bootstrap is not None else None
    rows = []
    for (time, group), _ in risks[risks["kind"] == "risk"].groupby(["time", "group"], sort=False):
        risk = keyed.loc[(time, group, "risk")]
        row = {"Years": f"{time:g}", "Serum Mg (mg/dL)": group,
               "Standardized risk, % (95% CI)": _percent(risk["estimate"], risk["lower"], risk["upper"])}
        if group == reference:
            row |= {"Difference, percentage points (95% CI)": "reference", "Ratio (95% CI, natural scale)": "reference",
                    "Ratio (95% CI, log scale)": "reference"}
        else:
            d, r = keyed.loc[(time, group, "difference")], keyed.loc[(time, group, "ratio")]
            row |= {"Difference, percentage points (95% CI)": _percent(d["estimate"], d["lower"], d["upper"]),
                    "Ratio (95% CI, natural scale)": outputs.format_ratio(r["estimate"], r["lower"], r["upper"]),
                    "Ratio (95% CI, log scale)": outputs.format_ratio(r["estimate"], r["lower_log"], r["upper_log"])}
        if boot is not None:
            b = boot.loc[(time, group, "risk")]
            row["Risk, % (bootstrap 95% CI)"] = _percent(b["estimate"], b["boot_lower"], b["boot_upper"])
            if group != reference:
                rb = boot.loc[(time, group, "ratio")]
                row["Ratio (bootstrap 95% CI)"] = outputs.format_ratio(rb["estimate"], rb["boot_lower"], rb["boot_upper"])
            else:
                row["Ratio (bootstrap 95% CI)"] = "reference"
        reasons = {str(keyed.loc[(time, group, k)].get("reason", "") or "") for k in ("risk", "difference", "ratio")
                   if (time, group, k) in keyed.index} - {"", "nan"}
        rows.append(row | ({"Note": "; ".join(sorted(reasons))} if reasons else {}))
    return pd.DataFrame(rows)


def _binary(part: pd.DataFrame) -> bool:
    if "share" in part.columns:
        return bool(part["share"].notna().any())
    return bool(part["cohort_low"].isna().all())  # shares left out by disclosure control: the 0/1 rows have no centiles


def overlap_table(overlap: pd.DataFrame, groups, extremes: bool | None = None) -> pd.DataFrame:
    """One row per covariate: the cohort's 5th to 95th centile, then for each group its range (lowest to
    highest; its own 5th to 95th centile when ``extremes`` is False, as when disclosure control has left out
    the extremes, single patients' values: the default is whether ``overlap`` still holds them) or, for a
    0/1 covariate, its share with 1; and the groups whose range does not reach the cohort's centiles."""
    extremes = "min" in overlap.columns if extremes is None else extremes
    rows = []
    for covariate, part in overlap.groupby("covariate", sort=False):
        part = part.set_index("group")
        binary = _binary(part)
        first = part.iloc[0]
        row = {"Covariate": LABELS.get(covariate) or covariate,
               "Cohort, 5th to 95th centile": "share with 1" if binary else f"{first['cohort_low']:.3g} to {first['cohort_high']:.3g}"}
        for g in groups:
            if g not in part.index:
                row[g] = ""
            elif binary:  # with real data a share of a small group would give its count away
                row[g] = f"{100 * part.at[g, 'share']:.0f}%" if extremes else "not shown (disclosure control)"
            else:
                low, high = (part.at[g, "min"], part.at[g, "max"]) if extremes else (part.at[g, "q05"], part.at[g, "q95"])
                row[g] = f"{low:.3g} to {high:.3g}" if pd.notna(low) and pd.notna(high) else "not shown (disclosure control: too few patients)"
        row["Not covering the cohort"] = "; ".join(
            f"{g}: {part.at[g, 'gap']}" for g in groups if g in part.index and not part.at[g, "covers"])
        rows.append(row)
    return pd.DataFrame(rows)


def marker_table(table: pd.DataFrame) -> pd.DataFrame:
    """The marker analyses as printed: setting, analysis, term, HR (95% CI), P, patients, events, patients
    with an imputed marker, Barnard–Rubin df and fraction of missing information."""
    return pd.DataFrame({
        "Data": table["setting"], "Analysis": table["analysis"], "Term": table["term"].map(TERMS),
        "HR (95% CI)": [outputs.format_ratio(*v) or str(why or "") for v, why in
                        zip(table[["hr", "lower", "upper"]].to_numpy(float), table.get("reason", pd.Series("", index=table.index)))],
        "P": table["p"].map(outputs.format_p), "Patients": table["n"], "Events": table["events"],
        "Patients with an imputed marker": table["n_imputed"],
        "df": table["df"].map(lambda v: "" if np.isnan(v) else f"{v:.0f}"),
        "FMI": table["fmi"].map(lambda v: "" if np.isnan(v) else f"{v:.2f}"),
    })


def missing_table(missing: pd.DataFrame) -> pd.DataFrame:
    """Each marker's recorded and missing counts among the patients analysed, the missing ones as 'n (%)'."""
    total = (missing["n_recorded"] + missing["n_missing"]).clip(lower=1)
    return pd.DataFrame({"Marker": missing["marker"], "Column": missing["column"],
                         "Patients with a value": missing["n_recorded"],
                         "Missing": [f"{n:,} ({100 * n / t:.1f})" for n, t in zip(missing["n_missing"], total)]})


def _reasons(table: pd.DataFrame) -> pd.Series:
    return table["reason"].fillna("") if "reason" in table.columns else pd.Series("", index=table.index)


def e_value_table(table: pd.DataFrame) -> pd.DataFrame:
    """E-values as printed: what they start from, the ratio (95% CI), the risk ratio used, and the two
    E-values; the standardized risk ratio's row first, the hazard ratio's approximations after it."""
    return pd.DataFrame({
        "Starting from": table["assumption"],
        "Ratio (95% CI)": [f"{'RR' if s == 'risk ratio' else 'HR'} {outputs.format_ratio(*v)}"
                           for s, v in zip(table["scale"], table[["ratio", "lower", "upper"]].to_numpy(float))],
        "Risk ratio used (95% CI)": [outputs.format_ratio(*v) for v in table[["rr", "rr_lower", "rr_upper"]].to_numpy(float)],
        "E-value, estimate": [f"{v:.2f}" if np.isfinite(v) else str(why or "") for v, why in zip(table["e_point"], _reasons(table))],
        "E-value, limit nearer 1": [f"{v:.2f}" if np.isfinite(v) else "" for v in table["e_ci"]],
    })


def trace_cells(trace: pd.DataFrame, markers, n_patients: int) -> pd.DataFrame:
    """The imputation trace with ``n_imputed``, the patients whose marker each line's means rest on (in the
    demonstration, about ``HIDDEN_SHARE`` of the patients), for disclosure control to leave out a marker
    imputed for few patients (``declarations.TABLES['imputation_trace']``)."""
    imputed = markers.missing.set_index("column")["n_missing"].astype(float)
    if markers.demonstration:  # every marker recorded: the demonstration hides about HIDDEN_SHARE of each
        imputed = imputed * 0 + round(analysis_beyond.HIDDEN_SHARE * n_patients)
    return trace.assign(n_imputed=trace["variable"].map({t: imputed.get(c, 0.0) for c, t, _ in analysis_beyond.MARKERS}))


def e_words(table: pd.DataFrame) -> dict[str, str]:
    """The chapter's sentence on the E-values, from the E-value table as published: ``m4_low_hr`` (the
    hazard ratio), ``rr_start`` (the ratio read first), ``e_point``, ``e_ci`` and ``e_point_hr``; a row
    without numbers (not estimable, or withheld) gives its reason instead."""
    def number(row, column):
        return f"{row[column]:.2f}" if pd.notna(row[column]) else (str(row.get("reason", "") or "") or "not estimable")

    def ratio(row):
        return outputs.format_ratio(row["ratio"], row["lower"], row["upper"]) or number(row, "ratio")

    hr_rows = table[table["scale"] == "hazard ratio"]
    primary = table[table["primary"]]
    headline = primary.iloc[0] if len(primary) else table.iloc[-1]
    return {"m4_low_hr": ratio(hr_rows.iloc[0]), "rr_start": ratio(headline), "e_point": number(headline, "e_point"),
            "e_ci": number(headline, "e_ci"), "e_point_hr": number(hr_rows.iloc[-1], "e_point")}


def incidence_end_table(end: pd.DataFrame) -> pd.DataFrame:
    """The Aalen–Johansen cumulative incidence at the end of follow-up, overall and by group (time to 0.1
    year: the last time is a patient's)."""
    return pd.DataFrame({"Group": end["group"], "End of follow-up (years)": end["time"].map(lambda t: f"{t:.1f}"),
                         "Cumulative incidence (%)": (100 * end["cif"]).round(1)})


def marker_summary(table: pd.DataFrame, term: str = "mg_low", count=lambda n: f"{n:,}") -> dict[str, str]:
    """Texts for the chapter's sentence on the marker analyses, for ``term``: hazard ratio (95% CI) and
    patients of Model 4 (``model4``), Model 4 plus markers on the data as recorded (``full``), complete
    cases and multiple imputation of the setting with missing values (``cc``, ``mi``), and the FMI.
    Analyses that were not run (no marker recorded at all) read 'not estimated'. ``count`` formats a count
    of patients as it may be published (``lambda n: outputs.count(n, params)``)."""
    rows = table[table["term"] == term]
    recorded = rows[rows["setting"] == "as recorded"]
    pooled = rows[rows["analysis"].str.contains("multiple imputation")]
    complete = rows[rows["analysis"].str.contains("complete cases")]
    picks = {"model4": recorded[recorded["analysis"] == "Model 4"], "full": complete.head(1),
             "cc": complete.tail(1), "mi": pooled}
    out = {}
    for name, pick in picks.items():
        if len(pick):
            r = pick.iloc[0]
            out[name], out[f"{name}_n"] = outputs.format_ratio(r["hr"], r["lower"], r["upper"]) or _why(r), count(int(r["n"]))
        else:
            out[name], out[f"{name}_n"] = "not estimated (no marker recorded)", "no"
    out["fmi"] = (f"{pooled.iloc[0]['fmi']:.2f}" if pd.notna(pooled.iloc[0]["fmi"]) else _why(pooled.iloc[0])) if len(pooled) else "not estimated"
    return out


def _why(row) -> str:
    return str(row.get("reason", "") or "") or "not estimable"


def _share(row) -> str:
    return f"{100 * row['estimate']:.1f}%" if pd.notna(row["estimate"]) else _why(row)


def risks_in_words(risks: pd.DataFrame, group: str) -> str:
    """'3 years: 11.6%, ratio 1.97 (0.93–4.16); 5 years: …' : a group's standardized risk and its ratio
    (log-scale limits) at each time, for the exercises' solutions (a withheld or missing value says why)."""
    at = risks.set_index(["time", "group", "kind"])
    parts = []
    for time in sorted(risks["time"].unique()):
        risk, ratio = at.loc[(time, group, "risk")], at.loc[(time, group, "ratio")]
        parts.append(f"{time:g} years: {_share(risk)}, ratio "
                     f"{outputs.format_ratio(ratio['estimate'], ratio['lower_log'], ratio['upper_log']) or _why(ratio)}")
    return "; ".join(parts)


def risk_words(risks: pd.DataFrame, time, group: str, reference: str) -> dict[str, str]:
    """The chapter's sentence on the standardized risks at ``time``: ``risk_low``, ``risk_ref``,
    ``difference``, ``ratio_log`` and ``ratio_ate`` as text (a withheld or missing value says why)."""
    at = risks.set_index(["time", "group", "kind"])
    low, ref = at.loc[(time, group, "risk")], at.loc[(time, reference, "risk")]
    d, r = at.loc[(time, group, "difference")], at.loc[(time, group, "ratio")]
    difference = (f"{100 * d['estimate']:.1f} percentage points (95% CI {100 * d['lower']:.1f} to {100 * d['upper']:.1f})"
                  if pd.notna(d["estimate"]) else _why(d))
    return {"risk_low": _share(low), "risk_ref": _share(ref), "difference": difference,
            "ratio_log": outputs.format_ratio(r["estimate"], r["lower_log"], r["upper_log"]) or _why(r),
            "ratio_ate": outputs.format_ratio(r["estimate"], r["lower"], r["upper"]) or _why(r)}


def pooled_in_words(table: pd.DataFrame, term: str = "mg_low") -> str:
    """'2.07 (0.92–4.64), 135 degrees of freedom, FMI 0.02' : the pooled row of a marker analysis."""
    rows = table[(table["term"] == term) & table["analysis"].str.contains("multiple imputation")]
    if not len(rows):
        return "not estimated (no marker recorded)"
    r = rows.iloc[0]
    if pd.isna(r["hr"]) or pd.isna(r["df"]):
        return _why(r)
    return (f"{outputs.format_ratio(r['hr'], r['lower'], r['upper'])}, {r['df']:.0f} degrees of freedom, "
            f"fraction of missing information {r['fmi']:.2f}")


def tied_time_gap(frame: pd.DataFrame) -> str:
    """The largest relative difference between the two standard errors of :func:`tied_time_table`'s frame,
    as a percentage ('0.12%'), or why there is none."""
    gap = float((frame["ratio"] - 1).abs().max())
    return f"{100 * gap:.2f}%" if np.isfinite(gap) else "nothing: no standard error could be published"


def tied_time_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The two standard errors of :func:`helpers.analysis.beyond.tied_time_variance` as printed."""
    kinds = {"risk": "Risk", "difference": "Difference", "ratio": "Ratio"}
    return pd.DataFrame({
        "Years": frame["time"].map(lambda t: f"{t:g}"), "Group": frame["group"], "Estimate": frame["kind"].map(kinds),
        "SE, riskRegression::ate": frame["se_ate"].map(lambda v: f"{v:.4f}" if np.isfinite(v) else "–"),
        "SE counting every tied event": frame["se_counted"].map(lambda v: f"{v:.4f}" if np.isfinite(v) else "–"),
        "Ratio": frame["ratio"].map(lambda v: f"{v:.3f}" if np.isfinite(v) else "–"),
        **({"Note": _reasons(frame)} if _reasons(frame).ne("").any() else {}),
    })
