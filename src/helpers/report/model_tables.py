"""Display tables of the models by Mg group (Tables 2.2.2 and 2.2.3, and the progression tables).

The thesis prints one row per Mg group and four models side by side: twelve narrow columns, with the
adjusted (Model 4) estimate last and off-screen. Here the models are the rows, this run beside the thesis,
and each non-reference Mg group has two columns, the ratio with its 95% CI and P; the groups' sizes and
events are a second, small table. The tables take whatever models the tidy frame of
``analysis.models.fit_models`` holds (a 'Crude' model included); a thesis cell that does not exist is '–'.
"""

from typing import NamedTuple

import pandas as pd

from helpers.analysis import derive, models
from helpers.report import formatting, outputs

MISSING = "–"
GROUP_KEYS = ("low", "mid", "high")
TERMS = {"low": "mg_low", "high": "mg_high"}


class ModelTables(NamedTuple):
    """A models-by-group table of ratios and the table of each group's size and events."""

    ratios: pd.DataFrame
    counts: pd.DataFrame


def _labels(cutpoints) -> dict:
    return dict(zip(GROUP_KEYS, derive.mg_group_labels(cutpoints)))


def _columns(cutpoints, ratio: str) -> list[tuple[str, str]]:
    labels = _labels(cutpoints)
    columns = [("", "Model"), ("", "Source")]
    for key in TERMS:
        head = f"Mg {labels[key]} vs {labels['mid']} mg/dL"
        columns += [(head, f"{ratio} (95% CI)"), (head, "P")]
    return columns


def _ours(results: pd.DataFrame, model: str, column: str) -> list[str]:
    cells = []
    for term in TERMS.values():
        hit = results[(results["model"] == model) & (results["term"] == term)]
        if not len(hit):
            cells += [MISSING, MISSING]
            continue
        r = hit.iloc[0]
        cells += [ratio_cell(r, column), outputs.format_p(r["p"])]
    return cells


def ratio_cell(row, column: str = "hr") -> str:
    """A row's ratio with its 95% CI ('2.53 (1.12–5.69)'), or, where there is none, why: 'not estimable:
    …' or 'withheld: …' (the row's ``reason``, from the fit or from disclosure control)."""
    text = outputs.format_ratio(row[column], row["lower"], row["upper"])
    return text or str(row.get("reason", "") or "") or "not estimable"


def _theirs(published: pd.DataFrame, model: str) -> list[str]:
    cells = []
    for key in TERMS:
        hit = published[(published["group"] == key) & (published["model"] == model)]
        if not len(hit):
            cells += [MISSING, MISSING]
            continue
        h = hit.iloc[0]
        cells += [outputs.format_ratio(h["hr"], h["lower"], h["upper"]), outputs.format_p(h["p"])]
    return cells


def ratio_table(results: pd.DataFrame, cutpoints, ratio: str = "HR", published: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per model (and source): the ratio (95% CI) and P of the low and of the high Mg group.

    ``results`` is a tidy frame of ``fit_models`` or ``fit_logistic_models`` (the ratio in ``hr`` or
    ``or``); its models are shown in their order. With ``published`` (the thesis's ratios by group and
    model, as ``data/published/table_2_2_2.csv``), each model has a 'Thesis' row beneath 'This run'.
    Columns are two-level: the comparison, then the ratio and P.
    """
    column = "hr" if "hr" in results.columns else "or"
    rows = []
    for model in dict.fromkeys(results["model"]):
        rows.append([model, "This run", *_ours(results, model, column)])
        if published is not None:
            rows.append([model, "Thesis", *_theirs(published, model)])
    return pd.DataFrame(rows, columns=pd.MultiIndex.from_tuples(_columns(cutpoints, ratio)))


def counts_table(counts: dict, cutpoints, count_label: str = "Events (%)", published_counts: dict | None = None) -> pd.DataFrame:
    """Each Mg group's participants and events (%): this run, then the thesis's where it prints them.

    ``counts`` and ``published_counts`` map a group key ('low', 'mid', 'high') to (participants, events).
    """
    rows = []
    for key, label in _labels(cutpoints).items():
        n, events = counts[key]
        row = {"Serum Mg (mg/dL)": label, "Participants": f"{n:,}", count_label: f"{events} ({100 * events / max(n, 1):.1f})"}
        if published_counts is not None:
            if key in published_counts:
                pn, pe = published_counts[key]
                row |= {"Participants, thesis": f"{pn:,}", f"{count_label}, thesis": f"{pe} ({100 * pe / pn:.1f})"}
            else:
                row |= {"Participants, thesis": MISSING, f"{count_label}, thesis": MISSING}
        rows.append(row)
    return pd.DataFrame(rows)


def _group_counts(df: pd.DataFrame, cutpoints, happened) -> dict:
    return {key: (int((df["mg_group"] == label).sum()), int((happened & (df["mg_group"] == label)).sum()))
            for key, label in _labels(cutpoints).items()}


def hazard_ratio_tables(results: pd.DataFrame, df: pd.DataFrame, event, cause, cutpoints, published=None,
                        ratio: str = "HR") -> ModelTables:
    """Table 2.2.2 or 2.2.3: hazard ratios by model (this run and the thesis), and each group's events (%).
    ``ratio`` names them: "HR", or "sHR" for Fine–Gray's subdistribution hazard ratios."""
    counts = _group_counts(df, cutpoints, df[event] == cause)
    published_counts = None
    if published is not None:
        first = published.groupby("group").first()
        published_counts = {k: (int(first.at[k, "participants"]), int(first.at[k, "events"])) for k in first.index}
    return ModelTables(ratio_table(results, cutpoints, ratio, published),
                       counts_table(counts, cutpoints, "Events (%)", published_counts))


def progression_tables(results: pd.DataFrame, df: pd.DataFrame, outcome: str, cutpoints, published: pd.DataFrame, key: str) -> ModelTables:
    """Odds ratios of a progression outcome by model (the thesis prints none), and each group's progression
    beside the thesis's counts (``published`` is ``data/published/progression.csv``, ``key`` 'cac' or 'pwv')."""
    counts = _group_counts(df, cutpoints, df[outcome] == 1)
    pub = published[published["outcome"] == key].set_index("group")
    published_counts = {k: (int(r["analysed"]), int(r["progressed"])) for k, r in pub.iterrows()}
    return ModelTables(ratio_table(results, cutpoints, "OR"), counts_table(counts, cutpoints, "Progressed (%)", published_counts))


class TimeTest(NamedTuple):
    """The test of proportional subdistribution hazards as a page shows it: a table and a sentence."""

    table: pd.DataFrame
    text: str


def time_interaction_table(terms: pd.DataFrame, cutpoints) -> TimeTest:
    """From ``models.fine_gray_time_terms`` as published: one row per Mg group's indicator × log(time), its
    coefficient with 95% CI and P, or why there is none ('not estimable: …', 'withheld: …'); and the joint
    test of both terms in a sentence ('Both time terms together: χ² = 1.75, 2 df, P = 0.416.') or its reason."""
    labels = _labels(cutpoints)
    why = terms.get("reason", pd.Series("", index=terms.index)).fillna("").astype(str)
    rows, joint = terms[terms["term"] != "both"], terms[terms["term"] == "both"].iloc[0]
    table = pd.DataFrame({
        "Term": [f"Mg {labels[key]} × log(years)" for key in ("low" if t == TERMS["low"] else "high" for t in rows["term"])],
        "Coefficient (95% CI)": [why[i] or formatting.estimate_ci(r["coef"], r["lower"], r["upper"]) or "not estimable"
                                 for i, r in rows.iterrows()],
        "P": [MISSING if why[i] else outputs.format_p(r["p"]) for i, r in rows.iterrows()],
    })
    if why[joint.name] or pd.isna(joint["statistic"]):
        return TimeTest(table, f"Both time terms together: {why[joint.name] or 'not estimable'}.")
    return TimeTest(table, f"Both time terms together: χ² = {formatting.number(joint['statistic'], 2)}, "
                           f"{int(joint['df'])} df, P = {outputs.format_p(joint['p'])}.")


def _reason(why: str) -> str:
    return why if why.startswith(("withheld", "not estimable")) else f"not estimable: {why}"


def stratum_cells(table: pd.DataFrame) -> dict:
    """The forest table's text columns from ``subgroups.subgroup_analysis`` (as published): each stratum's
    'HR (95% CI)' or why there is none, and its subgroup's two P values for interaction or why not."""
    ratios = [outputs.format_ratio(h, lo, hi) if ok else _reason(str(why))
              for h, lo, hi, ok, why in table[["hr", "lower", "upper", "estimable", "reason"]].to_numpy()]

    def p_values(column):
        return [f"– ({note})" if note else outputs.format_p(p) or f"– ({why})"
                for p, note, why in table[[column, "p_interaction_note", "reason"]].to_numpy()]

    return {"HR (95% CI)": ratios, "P for interaction, low vs reference (1-df LR test)": p_values("p_interaction_low"),
            "P for interaction, both groups (2-df LR test)": p_values("p_interaction")}


def covariate_label(key: str, cutpoints=None) -> str:
    """The reader's name of a model term: the dictionary's label ('Mean arterial pressure'), the Mg
    indicators with their cut-points when given, 'Whole model' for a global test; else the key itself."""
    from helpers.analysis import dictionary

    if cutpoints is not None and key in TERMS.values():
        low, mid, high = derive.mg_group_labels(cutpoints)
        return f"Mg {low if key == 'mg_low' else high} (vs {mid}) mg/dL"
    if key == "GLOBAL":
        return "Whole model (global test)"
    labels = dictionary.load("cohort")["label"]
    return labels.get(key, key)


# Tables of the hazards chapter's checks, moved here from helpers.analysis.models with the tables above.

def ties_comparison(df, duration, event, model="Model 4", cause=1) -> pd.DataFrame:
    """The low- and high-Mg hazard ratios of ``model`` under Efron's and Breslow's handling of tied times
    (the thesis does not say which it used): one row per term, ``Efron`` and ``Breslow`` formatted."""
    from helpers.stats import survival

    fits = {ties.capitalize(): survival.fit_cox(df, duration, event, models.covariates(model), cause, ties)
            for ties in ("efron", "breslow")}
    names = {"mg_low": "Mg below the lower cut-point", "mg_high": "Mg above the upper cut-point"}
    cells = models.contrast_cells(df, [duration, event, *models.covariates(model)], df[event] == cause)
    rows = []
    for term in models.EXPOSURE:
        reason = models.not_estimable(fits["Efron"], cells[term], term) or models.not_estimable(fits["Breslow"], cells[term], term)
        row = {"Term": names[term], **{name: "" if reason else outputs.format_ratio(*f.summary.loc[term, ["ratio", "lower", "upper"]])
                                       for name, f in fits.items()},
               "Efron − Breslow, log HR": "" if reason else
               f"{fits['Efron'].summary.at[term, 'coef'] - fits['Breslow'].summary.at[term, 'coef']:.5f}"}
        rows.append(row | cells[term] | {"reason": reason})
    return pd.DataFrame(rows)


def complete_cases_table(results: pd.DataFrame) -> pd.DataFrame:
    """Patients each model uses and leaves out (with the reason), from the tidy frame of :func:`helpers.analysis.models.fit_models`."""
    first = results.drop_duplicates("model")
    return pd.DataFrame({"Model": first["model"], "Patients used": first["n"], "Left out": first["n_dropped"],
                         "Why": first["dropped_reason"].replace("", "–")}).reset_index(drop=True)


def map_formula_effect(df, fitter, duration, event, cause=1) -> pd.DataFrame:
    """Model 3's low-Mg hazard ratio with mean arterial pressure as DBP + (SBP − DBP)/3 (the book's) and as
    DBP + 0.412·(SBP − DBP) (Meaney et al. 2000), the thesis naming no formula."""
    rows = []
    for label, weight in (("DBP + (SBP − DBP)/3", None), ("DBP + 0.412·(SBP − DBP)", 0.412)):
        d = df.assign(map=derive.mean_arterial_pressure(df["sbp"], df["dbp"], weight))
        fit = models.fit_object(fitter)(d, duration, event, models.covariates("Model 3"), cause=cause)
        cells = models.contrast_cells(d, [duration, event, *models.covariates("Model 3")], d[event] == cause)["mg_low"]
        reason = models.not_estimable(fit, cells, "mg_low")
        rows.append({"Formula": label, "Model 3 HR, Mg low (95% CI)": "" if reason else
                     outputs.format_ratio(*fit.summary.loc["mg_low", ["ratio", "lower", "upper"]]),
                     **cells, "reason": reason})
    return pd.DataFrame(rows)
