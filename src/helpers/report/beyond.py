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
        rows.append(row)
    return pd.DataFrame(rows)


def _binary(part: pd.DataFrame) -> bool:
    return "share" in part.columns and part["share"].notna().any()


def overlap_table(overlap: pd.DataFrame, groups, extremes: bool = True) -> pd.DataFrame:
    """One row per covariate: the cohort's 5th to 95th centile, then for each group its range (lowest to
    highest; its own 5th to 95th centile when ``extremes`` is False, as with real data, where the extremes
    are single patients' values) or, for a 0/1 covariate, its share with 1; and the groups whose range
    does not reach the cohort's centiles."""
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
                row[g] = f"{100 * part.at[g, 'share']:.0f}%" if extremes else "not shown (real data)"
            else:
                low, high = (part.at[g, "min"], part.at[g, "max"]) if extremes else (part.at[g, "q05"], part.at[g, "q95"])
                row[g] = f"{low:.3g} to {high:.3g}"
        row["Not covering the cohort"] = "; ".join(
            f"{g}: {part.at[g, 'gap']}" for g in groups if g in part.index and not part.at[g, "covers"])
        rows.append(row)
    return pd.DataFrame(rows)


def marker_table(table: pd.DataFrame) -> pd.DataFrame:
    """The marker analyses as printed: setting, analysis, term, HR (95% CI), P, patients, events, patients
    with an imputed marker, Barnard–Rubin df and fraction of missing information."""
    return pd.DataFrame({
        "Data": table["setting"], "Analysis": table["analysis"], "Term": table["term"].map(TERMS),
        "HR (95% CI)": [outputs.format_ratio(*v) for v in table[["hr", "lower", "upper"]].to_numpy(float)],
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


def e_value_table(table: pd.DataFrame) -> pd.DataFrame:
    """E-values as printed: what they start from, the ratio (95% CI), the risk ratio used, and the two
    E-values; the standardized risk ratio's row first, the hazard ratio's approximations after it."""
    return pd.DataFrame({
        "Starting from": table["assumption"],
        "Ratio (95% CI)": [f"{'RR' if s == 'risk ratio' else 'HR'} {outputs.format_ratio(*v)}"
                           for s, v in zip(table["scale"], table[["ratio", "lower", "upper"]].to_numpy(float))],
        "Risk ratio used (95% CI)": [outputs.format_ratio(*v) for v in table[["rr", "rr_lower", "rr_upper"]].to_numpy(float)],
        "E-value, estimate": table["e_point"].map(lambda v: f"{v:.2f}"),
        "E-value, limit nearer 1": table["e_ci"].map(lambda v: f"{v:.2f}"),
    })


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
            out[name], out[f"{name}_n"] = outputs.format_ratio(r["hr"], r["lower"], r["upper"]), count(int(r["n"]))
        else:
            out[name], out[f"{name}_n"] = "not estimated (no marker recorded)", "no"
    out["fmi"] = f"{pooled.iloc[0]['fmi']:.2f}" if len(pooled) else "not estimated"
    return out


def risks_in_words(risks: pd.DataFrame, group: str) -> str:
    """'3 years: 11.6%, ratio 1.97 (0.93–4.16); 5 years: …' : a group's standardized risk and its ratio
    (log-scale limits) at each time, for the exercises' solutions."""
    at = risks.set_index(["time", "group", "kind"])
    parts = []
    for time in sorted(risks["time"].unique()):
        risk, ratio = at.loc[(time, group, "risk")], at.loc[(time, group, "ratio")]
        parts.append(f"{time:g} years: {100 * risk['estimate']:.1f}%, ratio "
                     f"{outputs.format_ratio(ratio['estimate'], ratio['lower_log'], ratio['upper_log'])}")
    return "; ".join(parts)


def pooled_in_words(table: pd.DataFrame, term: str = "mg_low") -> str:
    """'2.07 (0.92–4.64), 135 degrees of freedom, FMI 0.02' : the pooled row of a marker analysis."""
    rows = table[(table["term"] == term) & table["analysis"].str.contains("multiple imputation")]
    if not len(rows):
        return "not estimated (no marker recorded)"
    r = rows.iloc[0]
    return (f"{outputs.format_ratio(r['hr'], r['lower'], r['upper'])}, {r['df']:.0f} degrees of freedom, "
            f"fraction of missing information {r['fmi']:.2f}")


def tied_time_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The two standard errors of :func:`helpers.analysis.beyond.tied_time_variance` as printed."""
    kinds = {"risk": "Risk", "difference": "Difference", "ratio": "Ratio"}
    return pd.DataFrame({
        "Years": frame["time"].map(lambda t: f"{t:g}"), "Group": frame["group"], "Estimate": frame["kind"].map(kinds),
        "SE, riskRegression::ate": frame["se_ate"].map(lambda v: f"{v:.4f}"),
        "SE counting every tied event": frame["se_counted"].map(lambda v: f"{v:.4f}"),
        "Ratio": frame["ratio"].map(lambda v: f"{v:.3f}"),
    })
