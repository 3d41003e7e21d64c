"""The adjustment sets of the thesis's multivariable models (section 2.1.6), named once for every chapter.

Model 1 adjusts for age, sex and BMI; Model 2 adds eGFR, total cholesterol, albumin, phosphate and
corrected calcium; Model 3 adds mean arterial pressure; Model 4 adds diabetes. The exposure is the Mg group,
entered as two indicators with the middle group as reference.
"""

import pandas as pd

from helpers import derive, outputs, paths

EXPOSURE = ["mg_low", "mg_high"]
MODEL_1 = ["age", "male", "bmi"]
MODEL_2 = MODEL_1 + ["egfr", "total_chol", "albumin", "phosphate", "corrected_calcium"]
MODEL_3 = MODEL_2 + ["map"]
MODEL_4 = MODEL_3 + ["diabetes"]
MODELS = {"Model 1": MODEL_1, "Model 2": MODEL_2, "Model 3": MODEL_3, "Model 4": MODEL_4}


def covariates(model: str, exposure=EXPOSURE) -> list[str]:
    """The exposure terms followed by the adjustment set of ``model`` ('Model 1' to 'Model 4')."""
    return [*exposure, *MODELS[model]]


def fit_models(df, fitter, duration, event, models=MODELS, exposure=EXPOSURE, **options) -> pd.DataFrame:
    """Fit ``fitter`` (a function like ``survival.cause_specific_cox``) for each model.

    Returns a tidy frame: one row per model and exposure term with ``hr, lower, upper, p, n, events``.
    """
    rows = []
    for name, adjustment in models.items():
        fit = fitter(df, duration, event, [*exposure, *adjustment], **options)
        for term in exposure:
            rows.append({
                "model": name, "term": term, **fit.loc[term, ["coef", "se", "hr", "lower", "upper", "p"]].to_dict(),
                "n": fit.attrs["n"], "events": fit.attrs["events"],
            })
    return pd.DataFrame(rows)


def published_hazards(name: str = "table_2_2_2") -> pd.DataFrame:
    """A published table of hazard ratios by group and model (``data/published/<name>.csv``)."""
    return pd.read_csv(paths.PUBLISHED / f"{name}.csv")


def hazard_ratio_table(results: pd.DataFrame, df: pd.DataFrame, event, cause, cutpoints, published=None) -> pd.DataFrame:
    """A table in the manner of Table 2.2.2: one row per Mg group (this run, then the thesis under it).

    Columns: participants, events (%), then HR (95% CI) and P for each model; the middle group is the
    reference. ``results`` come from :func:`fit_models`; participants and events are counted in ``df``.
    """
    labels = derive.mg_group_labels(cutpoints)
    keys = {"mg_low": ("low", labels[0]), None: ("mid", labels[1]), "mg_high": ("high", labels[2])}
    models = list(dict.fromkeys(results["model"]))
    rows = []
    for term, (key, label) in keys.items():
        part = df[df["mg_group"] == label]
        events = int((part[event] == cause).sum())
        row = {"Serum Mg (mg/dL)": label, "Source": "This run", "Participants": f"{len(part):,}",
               "Events (%)": f"{events} ({100 * events / max(len(part), 1):.1f})"}
        for m in models:
            if term is None:
                row[f"{m} HR (95% CI)"], row[f"{m} P"] = "1 (reference)", ""
            else:
                r = results[(results["model"] == m) & (results["term"] == term)].iloc[0]
                row[f"{m} HR (95% CI)"] = outputs.format_ratio(r["hr"], r["lower"], r["upper"])
                row[f"{m} P"] = outputs.format_p(r["p"])
        rows.append(row)
        if published is not None:
            pub = published[published["group"] == key]
            prow = {"Serum Mg (mg/dL)": label, "Source": "Thesis"}
            if len(pub):
                first = pub.iloc[0]
                prow |= {"Participants": f"{first['participants']:,}", "Events (%)": f"{first['events']} ({first['events_pct']:.1f})"}
            for m in models:
                hit = pub[pub["model"] == m]
                if term is None:
                    prow[f"{m} HR (95% CI)"], prow[f"{m} P"] = "1 (reference)", ""
                elif len(hit):
                    h = hit.iloc[0]
                    prow[f"{m} HR (95% CI)"] = outputs.format_ratio(h["hr"], h["lower"], h["upper"])
                    prow[f"{m} P"] = f"{h['p']:.3f}"
            rows.append(prow)
    return pd.DataFrame(rows).fillna("")


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
    fitter and exposure term: the groups' sizes and events, and ``hr, lower, upper, p``.
    """
    rows = []
    for cuts in cutpoint_sets:
        d = df.copy()
        labels = derive.mg_group_labels(cuts)
        groups = derive.mg_group(d["mg"], cuts)
        d["mg_low"] = (groups == labels[0]).astype(float)
        d["mg_high"] = (groups == labels[2]).astype(float)
        for name, fitter in fitters.items():
            fit = fitter(d, duration, event, covariates(model), cause=cause)
            for term, label in (("mg_low", labels[0]), ("mg_high", labels[2])):
                part = d[groups == label]
                rows.append({
                    "cut-points": f"{cuts[0]:g} / {cuts[1]:g}", "model": name, "group": label,
                    "reference": labels[1], "participants": len(part), "events": int((part[event] == cause).sum()),
                    **fit.loc[term, ["hr", "lower", "upper", "p"]].to_dict(),
                })
    return pd.DataFrame(rows)
