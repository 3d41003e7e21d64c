"""Findings at a glance: the thesis's headline results beside this run's, for the book's landing page.

Each of this run's values is computed by the helpers the chapters call (``survival.incidence_rate``,
``models.fit_models`` with Model 4, ``models.fit_logistic_models``); the thesis's come from
``data/published``. With the shipped synthetic cohort each row carries the status the design declaration
(``data/published/synthetic_design.yml``) gives it: fixed, constrained, planted or, when nothing targets it,
emerges. For any other data the column is left out.
"""

import pandas as pd

from helpers.analysis import cohort, derive, models
from helpers.report import declarations, disclosure, formatting, outputs, published
from helpers.stats import survival

MARKS = {"fixed": "fixed", "constrained": "constrained", "planted": "planted", "free": "emerges"}
STATUS_COLUMN = "Design status"
COLUMNS = ["Finding", "Thesis", "This run", STATUS_COLUMN]
# What each status says about this run's number, in one plain sentence for the landing page.
STATUS_MEANING = {
    "fixed": "the generator set it: agreement with the thesis checks the generator, it is not a finding.",
    "constrained": ("the generator kept this cohort only because this number fell inside the thesis's 95% CI, so "
                    "agreement checks the generator; it is not a finding."),
    "planted": "it follows from an effect the generator put in: it shows the method recovers it, not that it is true.",
    "free": "nothing in the generator targets it: it emerges from the design and chance.",
}


def _rate(value) -> str:
    return value if isinstance(value, str) else f"{value:.1f}"


def _events_and_rates(analysed, labels, params):
    """Events and rates as chapter 3 shows them: with real data, counts and rates as they may be published."""
    rates = outputs.incidence(survival.incidence_rate(analysed, "followup_years", "status", cause=1, group="mg_group"),
                              params).set_index("group")
    thesis = published.incidence().set_index("group")
    keys = [*labels, "overall"]
    names = [*labels.values(), "Overall"]
    ours_events = " / ".join(e if isinstance(e := rates.at[n, "events"], str) else outputs.count(e, params) for n in names)
    theirs_events = " / ".join(f"{int(thesis.at[k, 'events']):,}" for k in keys)
    groups = " / ".join(labels.values())
    return [
        {"Finding": f"Composite events ({' / '.join(names)})", "Thesis": theirs_events, "This run": ours_events, "key": "events"},
        {"Finding": "Composite events per 1,000 person-years, overall", "Thesis": f"{thesis.at['overall', 'rate']:.1f}",
         "This run": _rate(rates.at["Overall", "rate"]), "key": "person_years"},
        {"Finding": f"Per 1,000 person-years by group ({groups})", "Thesis": " / ".join(f"{thesis.at[k, 'rate']:.1f}" for k in labels),
         "This run": " / ".join(_rate(rates.at[n, "rate"]) for n in labels.values()), "key": "rates"},
    ]


def _disclosed(fit: pd.DataFrame, name: str, params: dict) -> pd.DataFrame:
    """A model frame as the chapter's table ``name`` publishes it (with real data: withheld on a small cell,
    rounded); the landing page's table and text are logged where they are published."""
    return disclosure.model_outputs(fit, declarations.table(name), disclosure.rules(params))[0]


def _shown(row, ratio="hr") -> str:
    """A row's ratio with its CI as it may be published, else why not (withheld, not estimable)."""
    if pd.notna(row[ratio]):
        return outputs.format_ratio(row[ratio], row["lower"], row["upper"])
    return str(row.get("reason", "") or "") or "not estimable"


def _hazard_ratios(analysed, labels, params):
    rows = []
    for fitter, table, name, key, declared in (
            (survival.cause_specific_cox, "table_2_2_2", "cause-specific", "cs_model4", "cause_specific"),
            (survival.fine_gray, "table_2_2_3", "Fine–Gray", "fg_model4", "fine_gray")):
        fit = models.fit_models(analysed, fitter, "followup_years", "status", models={"Model 4": models.MODEL_4}, cause=1)
        # with real data a ratio resting on a small cell is withheld here as in its chapter's table
        fit = _disclosed(fit, declared, params)
        for term, group in (("mg_low", "low"), ("mg_high", "high")):
            r = fit[fit["term"] == term].iloc[0]
            p = published.model_hazard(table, group)
            ratio = "sHR" if key == "fg_model4" else "HR"
            rows.append({"Finding": f"Model 4 {name} {ratio}, Mg {labels[group]} (Table {table[6:].replace('_', '.')})",
                         "Thesis": outputs.format_ratio(p["hr"], p["lower"], p["upper"]),
                         "This run": _shown(r), "key": key})
    return rows


def _progression(analysed, labels, params):
    rows = []
    thesis = published.progression().set_index(["outcome", "group"])
    for outcome, name in (("cac", "CAC"), ("pwv", "Arterial stiffness")):
        part = cohort.progression_set(analysed, outcome)
        column = f"{outcome}_progression"
        fit = None
        if len(part) and part[column].nunique() == 2:
            fit = _disclosed(models.fit_logistic_models(part, column, models={"Model 4": models.MODEL_4},
                                                        extra=models.progression_extra(analysed, outcome)),
                             f"progression_{outcome}", params)
        for term, group in (("mg_low", "low"), ("mg_high", "high")):
            got = "" if fit is None else _shown(fit[fit["term"] == term].iloc[0], "or")
            printed = thesis.loc[(outcome, group)]
            rows.append({"Finding": f"{name} progression, Model 4 OR, Mg {labels[group]}",
                         "Thesis": f"OR not printed; {printed['progressed']} of {printed['analysed']} progressed",
                         "This run": got or "not estimable", "key": "progression_or"})
    return rows


def findings(analysed: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The headline results, the thesis's beside this run's; the synthetic cohort's marks only for the shipped file."""
    labels = dict(zip(published.GROUPS, derive.mg_group_labels(params["mg_cutpoints"])))
    rows = [*_events_and_rates(analysed, labels, params), *_hazard_ratios(analysed, labels, params),
            *_progression(analysed, labels, params)]
    table = pd.DataFrame(rows)
    if not params.get("cohort_shipped"):
        return table.drop(columns="key")
    table[STATUS_COLUMN] = table.pop("key").map(lambda k: MARKS[published.design_status(k)])
    return table[COLUMNS]


def legend(params: dict) -> str:
    """What the marks mean (empty for data other than the shipped synthetic cohort)."""
    if not params.get("cohort_shipped"):
        return ""
    tolerance = published.design()["selection"]["person_years_tolerance"]
    return ("*Fixed*: set exactly by the generator. *Constrained*: a draw was kept only if the value fell inside an "
            f"interval: the thesis's 95% CI for a hazard ratio, {tolerance:.0%} of the published person-years for the "
            "person-years and, with the events fixed, the rates. "
            "*Planted*: follows from an effect the generator put in. *Emerges*: nothing targets it. "
            "Declared in `data/published/synthetic_design.yml`, which the generator reads.")


def _model4_low(analysed, params):
    """Model 4's cause-specific HR of the low group as it may be published (withheld with real data when it
    rests on a small cell), and that group's events and patients in the fit."""
    fit = _disclosed(models.fit_models(analysed, survival.cause_specific_cox, "followup_years", "status",
                                       models={"Model 4": models.MODEL_4}, cause=1), "cause_specific", params)
    row = fit[fit["term"] == "mg_low"].iloc[0]
    used = analysed.dropna(subset=[*models.EXPOSURE, *models.MODEL_4, "followup_years", "status"])
    low = used[used["mg_low"] == 1]
    return row, int((low["status"] == 1).sum()), len(low)


def headline(analysed: pd.DataFrame, params: dict) -> str:
    """The answer for the landing page's first screen, as MyST: Model 4's hazard ratio of low Mg with its CI,
    the low group's events and patients, one plain sentence of what it means, and (for the shipped synthetic
    cohort) the design status the declaration gives this number."""
    low_label, mid_label, _ = derive.mg_group_labels(params["mg_cutpoints"])
    row, events, patients = _model4_low(analysed, params)
    hr = formatting.ratio(row["hr"], row["lower"], row["upper"])
    counts = f"{outputs.count(events, params)} events among {outputs.count(patients, params)} patients"
    if not hr and str(row.get("reason", "")).startswith("withheld"):
        answer = (f"**Withheld** on these data (Model 4, cause-specific Cox; low Mg group: {counts}): "
                  f"{str(row['reason']).removeprefix('withheld: ')}. The hazards chapter shows what may be published.")
    elif not hr:
        answer = (f"**Not estimable** on these data (Model 4, cause-specific Cox; low Mg group: {counts}); "
                  "the hazards chapter gives the reason.")
    else:
        spans_one = row["lower"] <= 1 <= row["upper"]
        answer = (f"**Hazard ratio {hr}** (95% CI), low serum Mg (< {low_label[1:]} mg/dL) against "
                  f"{mid_label} mg/dL, Model 4. Low Mg group: {counts}.\n\n"
                  f"In this run, patients with low magnesium had {formatting.number(row['hr'], 2)} times the hazard "
                  "of cardiovascular events or death of patients with normal magnesium of the same age, sex, body "
                  "size, kidney function, blood chemistry, blood pressure and diabetes status"
                  + ("; the interval includes 1, so these data are also compatible with no difference." if spans_one
                     else "."))
    if params.get("cohort_shipped"):
        status = published.design_status("cs_model4")
        thesis = published.model_hazard("table_2_2_2", "low")
        thesis = formatting.ratio(thesis["hr"], thesis["lower"], thesis["upper"])
        status_line = f"**Design status: {status}.** Synthetic data (thesis: {thesis}): {STATUS_MEANING[status]}"
    else:
        status_line = "**Computed from this run's data**; no synthetic design applies."
    return "\n".join(["```{admonition} The answer in one line", ":class: tip answer", answer, "", status_line, "```"])
