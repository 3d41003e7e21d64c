"""Serum Mg as a continuous exposure: the hazard ratio of the composite outcome as a smooth function of Mg.

The thesis asks whether *low* Mg is harmful, a threshold question, and answers it with cut-points. A
restricted cubic spline of Mg (``helpers.stats.spline``) lets the hazard ratio take any smooth shape: in
the cause-specific Cox model of the composite (``rms::cph`` + ``rcs``) and in the Fine–Gray model of its
subdistribution hazard (``cmprsk::crr`` on the same basis), each with the Model 4 covariates. The curve is
read against a reference Mg (the parameter ``dose_response_reference_mg``; by default the middle of the
reference range, the mean of the two cut-points) over the 1st to 99th centile of Mg.
"""

import dataclasses

import numpy as np
import pandas as pd

from helpers.analysis import models
from helpers.stats import regression, spline

DURATION, EVENT = "followup_years", "status"
MODELS = {"cox": "Cause-specific Cox (HR)", "fine_gray": "Fine–Gray (sHR)"}


def reference_mg(params: dict) -> float:
    """The reference Mg of the curves: the parameter, or the middle of the reference range."""
    given = params.get("dose_response_reference_mg")
    return float(given) if given is not None else float(np.mean(params["mg_cutpoints"]))


def mg_splines(df: pd.DataFrame, params: dict, cause: int = 1) -> dict:
    """The spline fits of Mg with the Model 4 covariates: ``{"cox": fit, "fine_gray": fit}``, each a
    ``spline.SplineHazards`` or, when it cannot be estimated (too few distinct Mg values for the knots, a
    model that does not converge), the reason in words."""
    values = regression.grid(df["mg"])
    out = {}
    for model in MODELS:
        try:
            fit = spline.spline_hazard_ratios(df, DURATION, EVENT, "mg", models.MODEL_4, values,
                                              knots=params["dose_response_knots"], reference=reference_mg(params),
                                              model=model, cause=cause)
            out[model] = fit if fit.converged else "the model did not converge"
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            out[model] = str(exc)
    return out


def reading_points(df: pd.DataFrame) -> dict:
    """Where a reader compares the curve with the groups: the median Mg of the lowest and of the highest
    Mg group (NaN for a group without patients)."""
    groups = list(df["mg_group"].cat.categories)
    median = lambda g: float(df.loc[df["mg_group"] == g, "mg"].median())  # noqa: E731
    return {"low_median": median(groups[0]), "high_median": median(groups[-1])}


def spline_summary(fits: dict, at: dict) -> pd.DataFrame:
    """One row per model: knots, the Wald tests (overall and non-linearity), and the ratio with 95% limits at
    each value of ``at`` ({label: Mg}) against the reference. Columns ``model, n, events, knots,
    reference, chisq_overall, df_overall, p_overall, chisq_nonlinear, df_nonlinear, p_nonlinear, note``
    then, per value, ``mg_<label>, ratio_<label>, lower_<label>, upper_<label>``; a model that could not be
    estimated has its reason in ``note`` and NaN elsewhere."""
    rows = []
    for model, fit in fits.items():
        if isinstance(fit, str):
            rows.append({"model": MODELS[model], "note": f"not estimable: {fit}"})
            continue
        row = {"model": MODELS[model], "n": fit.n, "events": fit.events,
               "knots": ", ".join(f"{k:g}" for k in fit.knots), "reference": fit.reference,
               "chisq_overall": fit.overall.statistic, "df_overall": fit.overall.df, "p_overall": fit.overall.pvalue,
               "chisq_nonlinear": fit.nonlinear.statistic, "df_nonlinear": fit.nonlinear.df,
               "p_nonlinear": fit.nonlinear.pvalue, "note": ""}
        curve = fit.ratio_at(list(at.values()))
        for (label, value), r in zip(at.items(), curve.itertuples()):
            row |= {f"mg_{label}": value, f"ratio_{label}": r.ratio, f"lower_{label}": r.lower, f"upper_{label}": r.upper}
        rows.append(row)
    return pd.DataFrame(rows)


def reading_cells(df: pd.DataFrame, cause: int = 1) -> dict:
    """The cells the ratios at the groups' medians rest on: the lowest and the highest Mg group's patients
    and events (``n_low, events_low, n_high, events_high``), for disclosure control."""
    groups = list(df["mg_group"].cat.categories)
    cells = {}
    for key, group in (("low", groups[0]), ("high", groups[-1])):
        member = df["mg_group"] == group
        cells |= {f"n_{key}": int(member.sum()), f"events_{key}": int((member & (df[EVENT] == cause)).sum())}
    return cells


def curves(fits: dict, df: pd.DataFrame, cause: int = 1) -> pd.DataFrame:
    """The fitted curves of every model (``model`` its words), each point with the cells it rests on:
    ``n_beyond`` and ``events_beyond``, the patients (and their events) whose Mg lies at or beyond that
    point on the far side from the reference; NaN at the reference itself. A curve's end rests on them."""
    mg = df["mg"].to_numpy(float)
    happened = (df[EVENT] == cause).to_numpy()
    frames = []
    for model, fit in fits.items():
        curve = fit.curve.copy()
        curve["n_beyond"], curve["events_beyond"] = spline.support(curve.iloc[:, 0], fit.reference, mg, happened)
        frames.append(curve.assign(model=MODELS[model]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def with_curve(fit, published: pd.DataFrame, model: str):
    """The fit with its curve as published (:func:`curves`, disclosed): the points it may draw."""
    part = published[published["model"] == MODELS[model]] if "model" in published else published.iloc[:0]
    return dataclasses.replace(fit, curve=part[[c for c in fit.curve.columns if c in part.columns]].reset_index(drop=True))


def in_words(table: pd.DataFrame, format_ratio, format_p) -> dict:
    """The page's sentences' numbers, by model ('cs' and 'fg'): knots, reference, P overall and for
    non-linearity, the ratio at the low group's median; 'not estimable' where the model was not."""
    words = {}
    for key, (_, row) in zip(("cs", "fg"), table.iterrows()):
        if row.get("note"):
            words |= {f"{key}_{k}": "not estimable" for k in ("overall", "nonlinear", "low")}
            continue
        withheld = str(row.get("reason") or "").startswith("withheld")
        empty = not np.isfinite(row["mg_low_median"])
        words |= {"knots": row["knots"], "knot1": row["knots"].split(",")[0], "ref": f"{row['reference']:g}",
                  "low_mg": "no patient in the group" if empty else f"{row['mg_low_median']:g}",
                  f"{key}_overall": format_p(row["p_overall"]), f"{key}_nonlinear": format_p(row["p_nonlinear"]),
                  f"{key}_low": "not estimable" if empty else "withheld (disclosure control: few patients or events)" if withheld else
                  format_ratio(row["ratio_low_median"], row["lower_low_median"], row["upper_low_median"])}
    return {"knots": "not placed", "knot1": "", "ref": "", "low_mg": "", **words}
