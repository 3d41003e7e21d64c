"""The adjustment sets of the thesis's multivariable models (section 2.1.6), named once for every chapter.

Model 1 adjusts for age, sex and BMI; Model 2 adds eGFR, total cholesterol, albumin, phosphate and
corrected calcium; Model 3 adds mean arterial pressure; Model 4 adds diabetes. The exposure is the Mg group,
entered as two indicators with the middle group as reference.
"""

import pandas as pd

from helpers.analysis import derive
from helpers.report import outputs

EXPOSURE = ["mg_low", "mg_high"]
MODEL_1 = ["age", "male", "bmi"]
MODEL_2 = MODEL_1 + ["egfr", "total_chol", "albumin", "phosphate", "corrected_calcium"]
MODEL_3 = MODEL_2 + ["map"]
MODEL_4 = MODEL_3 + ["diabetes"]
MODELS = {"Model 1": MODEL_1, "Model 2": MODEL_2, "Model 3": MODEL_3, "Model 4": MODEL_4}
# The unadjusted model (the exposure alone) beside them, for Tables 2.2.2 and 2.2.3 (the thesis has none).
CRUDE = "Crude"
WITH_CRUDE = {CRUDE: [], **MODELS}


def covariates(model: str, exposure=EXPOSURE) -> list[str]:
    """The exposure terms followed by the adjustment set of ``model`` ('Crude', 'Model 1' to 'Model 4')."""
    return [*exposure, *WITH_CRUDE[model]]


def fit_models(df, fitter, duration, event, models=MODELS, exposure=EXPOSURE, **options) -> pd.DataFrame:
    """Fit ``fitter`` (a function like ``survival.cause_specific_cox``) for each model.

    Returns a tidy frame: one row per model and exposure term with ``coef, se, hr, lower, upper, p``,
    ``n`` (patients used), ``n_dropped`` and ``dropped_reason`` (those left out, and why) and ``events``.
    """
    return _tidy(((name, fitter(df, duration, event, [*exposure, *adjustment], **options)) for name, adjustment in models.items()),
                 exposure, "hr")


def _tidy(fits, exposure, ratio) -> pd.DataFrame:
    rows = []
    for name, fit in fits:
        for term in exposure:
            rows.append({
                "model": name, "term": term, **fit.loc[term, ["coef", "se", ratio, "lower", "upper", "p"]].to_dict(),
                "n": fit.attrs["n"], "n_dropped": fit.attrs["n_dropped"], "dropped_reason": fit.attrs["dropped_reason"],
                "events": fit.attrs["events"],
            })
    return pd.DataFrame(rows)


def ratio_table(results: pd.DataFrame, counts: dict, cutpoints, ratio: str = "HR", count_label: str = "Events (%)",
                published: pd.DataFrame | None = None, published_counts: dict | None = None) -> pd.DataFrame:
    """A table in the manner of Tables 2.2.2 and 2.2.3: one row per Mg group, this run then the thesis.

    ``results`` come from :func:`fit_models` or :func:`fit_logistic_models` (columns model, term, and the
    ratio in ``hr`` or ``or``); ``counts`` maps each group key ('low', 'mid', 'high') to (participants,
    events). ``published`` has the thesis's ratios by group and model; ``published_counts`` its counts.
    """
    labels = dict(zip(("low", "mid", "high"), derive.mg_group_labels(cutpoints)))
    terms = {"low": "mg_low", "mid": None, "high": "mg_high"}
    column = "hr" if "hr" in results.columns else "or"
    models_ = list(dict.fromkeys(results["model"]))

    def cells(get):
        out = {}
        for m in models_:
            got = get(m)
            out[f"{m} {ratio} (95% CI)"], out[f"{m} P"] = got if got else ("", "")
        return out

    rows = []
    for key, label in labels.items():
        n, events = counts[key]
        row = {"Serum Mg (mg/dL)": label, "Source": "This run", "Participants": f"{n:,}",
               count_label: f"{events} ({100 * events / max(n, 1):.1f})"}

        def ours(m, term=terms[key]):
            if term is None:
                return "1 (reference)", ""
            r = results[(results["model"] == m) & (results["term"] == term)].iloc[0]
            return outputs.format_ratio(r[column], r["lower"], r["upper"]), outputs.format_p(r["p"])

        rows.append(row | cells(ours))
        if published is None and published_counts is None:
            continue
        prow = {"Serum Mg (mg/dL)": label, "Source": "Thesis"}
        if published_counts and key in published_counts:
            pn, pe = published_counts[key]
            prow |= {"Participants": f"{pn:,}", count_label: f"{pe} ({100 * pe / pn:.1f})"}

        def theirs(m, key=key):
            if published is not None and m not in set(published["model"]):
                return "–", "–"  # a model the thesis did not fit (the crude one)
            if key == "mid":
                return "1 (reference)", ""
            if published is None:
                return None
            hit = published[(published["group"] == key) & (published["model"] == m)]
            if not len(hit):
                return None
            h = hit.iloc[0]
            return outputs.format_ratio(h["hr"], h["lower"], h["upper"]), f"{h['p']:.3f}"

        rows.append(prow | cells(theirs))
    return pd.DataFrame(rows).fillna("")


def hazard_ratio_table(results: pd.DataFrame, df: pd.DataFrame, event, cause, cutpoints, published=None) -> pd.DataFrame:
    """Table 2.2.2 or 2.2.3: participants, events (%) and HR (95% CI) and P per model, by Mg group."""
    labels = dict(zip(("low", "mid", "high"), derive.mg_group_labels(cutpoints)))
    counts = {
        key: (int((df["mg_group"] == label).sum()), int(((df["mg_group"] == label) & (df[event] == cause)).sum()))
        for key, label in labels.items()
    }
    published_counts = None
    if published is not None:
        first = published.groupby("group").first()
        published_counts = {k: (int(first.at[k, "participants"]), int(first.at[k, "events"])) for k in first.index}
    return ratio_table(results, counts, cutpoints, "HR", "Events (%)", published, published_counts)


def fit_logistic_models(df, outcome, models=MODELS, exposure=EXPOSURE, extra=()) -> pd.DataFrame:
    """Logistic models of a 0/1 ``outcome`` for each adjustment set (plus ``extra`` covariates in each).

    Returns the tidy frame of :func:`fit_models` with ``or`` in place of ``hr``.
    """
    from helpers.stats import regression

    fits = ((name, regression.logistic(df, outcome, [*exposure, *adjustment, *extra])) for name, adjustment in models.items())
    return _tidy(fits, exposure, "or")


def progression_analysis(df, outcome, cutpoints, published: pd.DataFrame, key: str, extra=()):
    """Odds ratios of a progression outcome under the four models, and the table beside the thesis's counts.

    ``df`` holds the patients analysed for it; ``published`` is ``data/published/progression.csv`` and
    ``key`` its outcome ('cac' or 'pwv'). Returns (tidy results, display table).
    """
    labels = dict(zip(("low", "mid", "high"), derive.mg_group_labels(cutpoints)))
    results = fit_logistic_models(df, outcome, extra=extra)
    counts = {k: (int((df["mg_group"] == v).sum()), int(df.loc[df["mg_group"] == v, outcome].sum())) for k, v in labels.items()}
    pub = published[published["outcome"] == key].set_index("group")
    table = ratio_table(results, counts, cutpoints, "OR", "Progressed (%)",
                        published_counts={k: (int(r["analysed"]), int(r["progressed"])) for k, r in pub.iterrows()})
    return results, table


def group_profiles(df, covariates, cutpoints) -> pd.DataFrame:
    """One covariate profile per Mg group: its indicators set, every other covariate at its mean.

    Means are taken over the patients with every covariate recorded (those a model is fitted on).
    The index holds the group labels, low to high.
    """
    complete = df[covariates].dropna()
    low, mid, high = derive.mg_group_labels(cutpoints)
    rows = {}
    for label, flags in ((low, (1.0, 0.0)), (mid, (0.0, 0.0)), (high, (0.0, 1.0))):
        row = complete.mean()
        row[EXPOSURE] = flags
        rows[label] = row
    return pd.DataFrame(rows).T


def cutpoint_sensitivity(df, cutpoint_sets, fitters: dict, duration, event, model="Model 4", cause=1) -> pd.DataFrame:
    """Model ``model`` refitted with the Mg groups of each pair of cut-points, by each fitter.

    ``fitters`` maps a name to a function like ``survival.cause_specific_cox``. Returns one row per pair,
    fitter and exposure term (``term``): the cut-points (``lower_cut``, ``upper_cut``), the groups' sizes and
    events, and ``hr, lower, upper, p``. A pair that leaves a group without an event gets no estimate
    (NaN) rather than a ratio of nothing; the row says so in ``note``.
    """
    rows = []
    for cuts in cutpoint_sets:
        d = df.copy()
        labels = derive.mg_group_labels(cuts)
        groups = derive.mg_group(d["mg"], cuts)
        d["mg_low"] = (groups == labels[0]).astype(float)
        d["mg_high"] = (groups == labels[2]).astype(float)
        events = {label: int((d.loc[groups == label, event] == cause).sum()) for label in labels}
        estimable = all(events.values())
        for name, fitter in fitters.items():
            fit = fitter(d, duration, event, covariates(model), cause=cause) if estimable else None
            for term, label in (("mg_low", labels[0]), ("mg_high", labels[2])):
                rows.append({
                    "cut-points": f"{cuts[0]:g} / {cuts[1]:g}", "lower_cut": cuts[0], "upper_cut": cuts[1],
                    "model": name, "term": term, "group": label, "reference": labels[1],
                    "participants": int((groups == label).sum()), "events": events[label],
                    **(fit.loc[term, ["hr", "lower", "upper", "p"]].to_dict() if fit is not None else
                       dict.fromkeys(["hr", "lower", "upper", "p"], float("nan"))),
                    "note": "" if estimable else "a group has no event: not estimable",
                })
    return pd.DataFrame(rows)


def cutpoint_grid(grid: dict) -> list[list[float]]:
    """Every (lower, upper) pair of a ``sweep_grid`` parameter with lower < upper, lower first."""
    return [[lo, up] for lo in grid["lower"] for up in grid["upper"] if lo < up]


def per_unit_exposure(df, fitters: dict, duration, event, exposure="mg_tenths", model="Model 4", cause=1) -> pd.DataFrame:
    """A continuous exposure in ``model``, fitted by each of ``fitters`` (name -> function like
    ``survival.cause_specific_cox``): the tidy frame of :func:`fit_models` with a ``kind`` column."""
    frames = [
        fit_models(df, fitter, duration, event, models={model: MODELS[model]}, exposure=[exposure], cause=cause).assign(kind=name)
        for name, fitter in fitters.items()
    ]
    return pd.concat(frames, ignore_index=True)


def ties_comparison(df, duration, event, model="Model 4", cause=1) -> pd.DataFrame:
    """The low- and high-Mg hazard ratios of ``model`` under Efron's and Breslow's handling of tied times
    (the thesis does not say which it used): one row per term, ``Efron`` and ``Breslow`` formatted."""
    from helpers.stats import survival

    fits = {ties.capitalize(): survival.fit_cox(df, duration, event, covariates(model), cause, ties).summary
            for ties in ("efron", "breslow")}
    names = {"mg_low": "Mg below the lower cut-point", "mg_high": "Mg above the upper cut-point"}
    return pd.DataFrame([
        {"Term": names[term], **{name: outputs.format_ratio(*s.loc[term, ["ratio", "lower", "upper"]]) for name, s in fits.items()},
         "Efron − Breslow, log HR": f"{fits['Efron'].at[term, 'coef'] - fits['Breslow'].at[term, 'coef']:.5f}"}
        for term in EXPOSURE
    ])


def complete_cases_table(results: pd.DataFrame) -> pd.DataFrame:
    """Patients each model uses and leaves out (with the reason), from the tidy frame of :func:`fit_models`."""
    first = results.drop_duplicates("model")
    return pd.DataFrame({"Model": first["model"], "Patients used": first["n"], "Left out": first["n_dropped"],
                         "Why": first["dropped_reason"].replace("", "–")}).reset_index(drop=True)


def map_formula_effect(df, fitter, duration, event, cause=1) -> pd.DataFrame:
    """Model 3's low-Mg hazard ratio with mean arterial pressure as DBP + (SBP − DBP)/3 (the book's) and as
    DBP + 0.412·(SBP − DBP) (Meaney et al. 2000), the thesis naming no formula."""
    rows = []
    for label, weight in (("DBP + (SBP − DBP)/3", None), ("DBP + 0.412·(SBP − DBP)", 0.412)):
        d = df.assign(map=derive.mean_arterial_pressure(df["sbp"], df["dbp"], weight))
        fit = fitter(d, duration, event, covariates("Model 3"), cause=cause)
        rows.append({"Formula": label, "Model 3 HR, Mg low (95% CI)": outputs.format_ratio(*fit.loc["mg_low", ["hr", "lower", "upper"]])})
    return pd.DataFrame(rows)


CAC_EXTRA = ("lipid_lowering", "log_cac_baseline")  # added to every model of CAC progression (thesis 2.1.6)


def progression_extra(df: pd.DataFrame, outcome: str) -> list[str]:
    """Covariates added to each model of a progression outcome: for CAC those of ``CAC_EXTRA`` the data hold."""
    return [c for c in CAC_EXTRA if c in df.columns and df[c].notna().any()] if outcome == "cac" else []
