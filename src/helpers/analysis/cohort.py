"""Participant flow: who is enrolled, who is excluded and why, and who is analysed (thesis 2.1.1, 2.1.5).

Each flow is a tidy DataFrame with one row per box of the flow diagram: ``key`` (a stable name that the
published counts in ``data/published/flow.csv`` share), ``label``, ``n`` and ``kind`` ('main' for the
boxes on the trunk, 'excluded' for the side boxes, 'group' for the analysed groups).
"""

import pandas as pd

from helpers.analysis import derive


def analysis_cohort(cohort: pd.DataFrame, cutpoints, exclude_at_or_above) -> pd.DataFrame:
    """The primary analysis cohort with derived variables: Mg measured, below the exclusion level, followed.

    ``cohort`` is validated (Mg in mg/dL). Exclusions are applied in the thesis's order.
    """
    keep = _primary_masks(cohort, exclude_at_or_above)["analysed"]
    return derive.add_derived(cohort[keep], cutpoints)


def one_group(groups: pd.Series) -> str:
    """Why no contrast between Mg groups can be made: 'not estimable: only one Mg group (1.8–2.2 mg/dL)'
    when every patient of ``groups`` (an Mg group column; missing values aside) is in one group, else ''.
    A cohort may be so (a narrow range of Mg, or cut-points outside it): the book still builds, and each
    group contrast (a ratio, a test for trend, a sweep cell) says this instead of a number."""
    present = pd.Series(groups).dropna().unique()
    if len(present) >= 2:
        return ""
    where = f" ({present[0]} mg/dL)" if len(present) else ""
    return f"not estimable: only one Mg group{where}"


def _primary_masks(cohort, exclude_at_or_above):
    mg_missing = cohort["mg"].isna()
    if exclude_at_or_above is None:
        mg_high = pd.Series(False, index=cohort.index)
    else:
        mg_high = ~mg_missing & (cohort["mg"].round(9) >= exclude_at_or_above)
    # No follow-up time: none recorded (or negative), or 0 without an event. A record with an event on the
    # day of enrolment (follow-up 0, status recorded as an event) is kept, as R's coxph, cuminc and crr keep it.
    time = cohort["followup_years"]
    status = cohort["status"] if "status" in cohort else pd.Series(pd.NA, index=cohort.index)
    event_at_zero = (time == 0) & status.notna() & (status != 0)
    no_followup = ~mg_missing & ~mg_high & ~((time > 0) | event_at_zero)
    return {
        "mg_missing": mg_missing,
        "mg_high": mg_high,
        "no_followup": no_followup,
        "analysed": ~(mg_missing | mg_high | no_followup),
    }


def events_at_enrolment(cohort: pd.DataFrame, exclude_at_or_above) -> int:
    """How many analysed patients had their event on the day of enrolment (follow-up 0 with an event): kept,
    as R's ``coxph``, ``cuminc`` and ``crr`` keep such a record (a follow-up of 0 without an event is excluded
    as no follow-up, in the flow)."""
    analysed = _primary_masks(cohort, exclude_at_or_above)["analysed"]
    return int((analysed & (cohort["followup_years"] == 0)).sum())


def _group_rows(analysed: pd.DataFrame, prefix: str, cutpoints) -> list[dict]:
    counts = derive.mg_group(analysed["mg"], cutpoints).value_counts(sort=False)
    keys = ("low", "mid", "high")
    return [
        {"key": f"{prefix}_{k}", "label": f"Mg {label} mg/dL", "n": int(counts[label]), "kind": "group"}
        for k, label in zip(keys, derive.mg_group_labels(cutpoints))
    ]


def primary_flow(cohort: pd.DataFrame, cutpoints, exclude_at_or_above) -> pd.DataFrame:
    """Flow of the primary analysis (thesis Figure 2.1.1)."""
    m = _primary_masks(cohort, exclude_at_or_above)
    limit = f"≥ {exclude_at_or_above:g} mg/dL" if exclude_at_or_above is not None else "(no upper limit)"
    rows = [
        {"key": "enrolled", "label": "Enrolled", "n": len(cohort), "kind": "main"},
        {"key": "mg_missing", "label": "Serum Mg not measured", "n": int(m["mg_missing"].sum()), "kind": "excluded"},
        {"key": "mg_high", "label": f"Serum Mg {limit}", "n": int(m["mg_high"].sum()), "kind": "excluded"},
        {"key": "no_followup", "label": "No follow-up time (none recorded, or 0 without an event)",
         "n": int(m["no_followup"].sum()), "kind": "excluded"},
        {"key": "analysed", "label": "Analysed", "n": int(m["analysed"].sum()), "kind": "main"},
    ]
    rows += _group_rows(cohort[m["analysed"]], "analysed", cutpoints)
    return pd.DataFrame(rows)


def cac_flow(analysed: pd.DataFrame, cutpoints) -> pd.DataFrame:
    """Flow of the CAC progression analysis (thesis Figure 2.1.2): both scans, no revascularisation."""
    both = analysed["cac_baseline"].notna() & analysed["cac_year4"].notna()
    revasc = both & (analysed["revasc_by_year4"] == 1)
    kept = both & ~revasc
    rows = [
        {"key": "analysed", "label": "Primary analysis cohort", "n": len(analysed), "kind": "main"},
        {"key": "cac_not_both", "label": "Without CAC at baseline and at 4 years", "n": int((~both).sum()), "kind": "excluded"},
        {"key": "cac_both", "label": "CAC at baseline and at 4 years", "n": int(both.sum()), "kind": "main"},
        {"key": "cac_revasc", "label": "Coronary revascularisation (PCI or CABG) by 4 years", "n": int(revasc.sum()), "kind": "excluded"},
        {"key": "cac_analysed", "label": "Analysed for CAC progression", "n": int(kept.sum()), "kind": "main"},
    ]
    rows += _group_rows(analysed[kept], "cac", cutpoints)
    return pd.DataFrame(rows)


def pwv_flow(analysed: pd.DataFrame, cutpoints) -> pd.DataFrame:
    """Flow of the arterial stiffness analysis (thesis Figure 2.1.3): baPWV at baseline and at 4 years."""
    both = analysed["pwv_baseline"].notna() & analysed["pwv_year4"].notna()
    rows = [
        {"key": "analysed", "label": "Primary analysis cohort", "n": len(analysed), "kind": "main"},
        {"key": "pwv_not_both", "label": "Without baPWV at baseline and at 4 years", "n": int((~both).sum()), "kind": "excluded"},
        {"key": "pwv_analysed", "label": "Analysed for arterial stiffness progression", "n": int(both.sum()), "kind": "main"},
    ]
    rows += _group_rows(analysed[both], "pwv", cutpoints)
    return pd.DataFrame(rows)


def progression_set(analysed: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The patients of a progression analysis (thesis 2.1.5): 'cac', both CAC scans and not revascularised
    between them; 'pwv', baPWV at both visits."""
    if outcome == "cac":
        return analysed[analysed["cac_progression"].notna() & (analysed["revasc_by_year4"] != 1)]
    if outcome == "pwv":
        return analysed[analysed["pwv_progression"].notna()]
    raise ValueError(f"outcome must be 'cac' or 'pwv', not {outcome!r}")
