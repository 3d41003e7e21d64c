"""The adjustment sets of the thesis's multivariable models (section 2.1.6), named once for every chapter.

Model 1 adjusts for age, sex and BMI; Model 2 adds eGFR, total cholesterol, albumin, phosphate and
corrected calcium; Model 3 adds mean arterial pressure; Model 4 adds diabetes. The exposure is the Mg group,
entered as two indicators with the middle group as reference.
"""

from functools import partial

import numpy as np
import pandas as pd

from helpers.analysis import derive
from helpers.stats._common import SUMMARY_COLUMNS, Z95, Fit, local_map

EXPOSURE = ["mg_low", "mg_high"]
CELL_COLUMNS = ("n_group", "events_group", "n_reference", "events_reference")
MODEL_1 = ["age", "male", "bmi"]
MODEL_2 = MODEL_1 + ["egfr", "total_chol", "albumin", "phosphate", "corrected_calcium"]
MODEL_3 = MODEL_2 + ["map"]
MODEL_4 = MODEL_3 + ["diabetes"]
MODELS = {"Model 1": MODEL_1, "Model 2": MODEL_2, "Model 3": MODEL_3, "Model 4": MODEL_4}
# The unadjusted model (the exposure alone) beside them, for Tables 2.2.2 and 2.2.3 (the thesis has none).
CRUDE = "Crude"
WITH_CRUDE = {CRUDE: [], **MODELS}


# The competing kidney outcome's cause-specific model (parameter kidney_adjustment): by default Model 4 and
# proteinuria, the kidney outcome's strongest predictor; "model4" gives it the composite's own set.
KIDNEY_ADJUSTMENTS = {"model4_proteinuria": MODEL_4 + ["log2_proteinuria"], "model4": MODEL_4}
KIDNEY_LABELS = {"model4_proteinuria": "Model 4 + log₂(proteinuria + 1)", "model4": "Model 4"}
# What standardized risks average over (parameter standardization_adjustment): Model 4, or a total-effect
# set without phosphate and corrected calcium, which low Mg may act through (mediators, not confounders).
POSSIBLE_MEDIATORS = ("phosphate", "corrected_calcium")
STANDARDIZATION_ADJUSTMENTS = {"model4": MODEL_4, "total_effect": [c for c in MODEL_4 if c not in POSSIBLE_MEDIATORS]}
STANDARDIZATION_LABELS = {"model4": "Model 4", "total_effect": "Model 4 without phosphate and corrected calcium"}


def covariates(model: str, exposure=EXPOSURE) -> list[str]:
    """The exposure terms followed by the adjustment set of ``model`` ('Crude', 'Model 1' to 'Model 4')."""
    return [*exposure, *WITH_CRUDE[model]]


def fit_object(fitter):
    """The function giving the fit object (:class:`helpers.stats._common.Fit`) behind ``fitter``: for the
    public ``survival.cause_specific_cox`` and ``survival.fine_gray``, whose tables carry the fit's verdict
    in ``attrs``, ``fit_cox`` and ``fit_fine_gray`` (the same fit, its verdict in named fields); any other
    ``fitter`` (``regression.fit_logistic``, say) is taken to return a fit object itself."""
    from helpers.stats import finegray, survival

    return {survival.cause_specific_cox: survival.fit_cox, finegray.fine_gray: finegray.fit_fine_gray}.get(fitter, fitter)


def fit_models(df, fitter, duration, event, models=MODELS, exposure=EXPOSURE, **options) -> pd.DataFrame:
    """Fit ``fitter`` (``survival.cause_specific_cox``, ``survival.fine_gray``, or a function returning a fit
    object: :func:`fit_object`) for each model.

    Returns a tidy frame: one row per model and exposure term with ``coef, se, hr, lower, upper, p``,
    ``n`` (patients used), ``n_dropped`` and ``dropped_reason`` (those left out, and why) and ``events``.
    An exposure term without patients in its group or the reference is left out of the fit (:func:`varying`)
    and its rows say why; with one Mg group only, every term's row says so.
    """
    happened = df[event] == options.get("cause", 1)
    return _tidy(((name, _fit(fitter, df, [duration, event], exposure, adjustment, duration, event, **options),
                   contrast_cells(df, [duration, event, *exposure, *adjustment], happened, exposure))
                  for name, adjustment in models.items()), exposure, "hr", _one_group(df))


def varying(df, used, exposure=EXPOSURE) -> list[str]:
    """The exposure terms that take more than one value among the patients with every column of ``used``
    recorded. An Mg group without patients leaves its indicator constant; R's ``coxph`` and ``glm`` give
    such a column NA and estimate the others, and so does a fit here that leaves it out. Without a patient in
    the reference group (every 0/1 indicator at 0), no indicator is fitted: none has a contrast to estimate."""
    complete = df[list(dict.fromkeys([*used, *exposure]))].dropna()
    indicators = [t for t in exposure if complete[t].isin([0, 1]).all()]
    if len(indicators) > 1 and not (complete[indicators] == 0).all(axis=1).any():
        return [t for t in exposure if t not in indicators]  # no patient in the reference: no contrast with it
    return [t for t in exposure if complete[t].nunique() > 1]


def fitted_terms(df, outcome, adjustment, exposure=EXPOSURE) -> list[str]:
    """The covariates a fit holds: the exposure terms that vary among the patients with the ``outcome``
    columns and ``adjustment`` recorded (:func:`varying`), then ``adjustment`` (a list, or a model's name)."""
    adjustment = list(WITH_CRUDE[adjustment]) if isinstance(adjustment, str) else list(adjustment)
    return [*varying(df, [*outcome, *adjustment], exposure), *adjustment]


def _fit(fitter, df, outcome, exposure, adjustment, *args, **options) -> Fit:
    """The fit object of ``fitter(df, *args, terms)`` (:func:`fit_object`) on the exposure terms that vary and
    the adjustment set; without any such term, an empty fit that records the patients and events (each term
    then says why it has no estimate)."""
    terms = fitted_terms(df, outcome, adjustment, exposure)
    if terms:
        return fit_object(fitter)(df, *args, terms, **options)
    complete = df[list(dict.fromkeys([*outcome, *exposure]))].dropna()
    return Fit(pd.DataFrame(columns=SUMMARY_COLUMNS, dtype=float), n=len(complete), n_dropped=len(df) - len(complete),
               dropped_reason="", events=int((complete[outcome[-1]] == options.get("cause", 1)).sum()),
               loglik=float("nan"), converged=True)


def _one_group(df) -> str:
    from helpers.analysis import cohort

    return cohort.one_group(df["mg_group"]) if "mg_group" in df else ""


def contrast_cells(df, used, happened, exposure=EXPOSURE) -> dict:
    """For each exposure term, the cells its contrast rests on, among the patients with every column of
    ``used`` recorded: ``n_group, events_group`` (the term's group: a 0/1 term's patients with 1, a
    continuous term's every patient) and ``n_reference, events_reference`` (the patients with every 0/1
    exposure term at 0; missing for a continuous term). What disclosure control checks before a model
    output is published (``helpers.report.declarations``)."""
    complete = df[used].notna().all(axis=1)
    indicators = [t for t in exposure if df[t].dropna().isin([0, 1]).all()]
    reference = complete & (df[indicators] == 0).all(axis=1) if indicators else None
    cells = {}
    for term in exposure:
        group = complete & (df[term] == 1) if term in indicators else complete
        cells[term] = {"n_group": int(group.sum()), "events_group": int((group & happened).sum()),
                       "n_reference": int(reference.sum()) if term in indicators else float("nan"),
                       "events_reference": int((reference & happened).sum()) if term in indicators else float("nan")}
    return cells


GROUP_WORDS = {"mg_low": "the low-Mg group", "mg_high": "the high-Mg group"}


def not_estimable(fit: Fit, cells: dict, term: str, logistic: bool = False) -> str:
    """Why a term's estimate cannot be published as a number ('' when it can).

    Its group or the reference has no patient (the term was left out of the fit, as R's ``coxph`` gives it NA),
    or no event (the coefficient is infinite: R's ``coxph`` prints a large
    arbitrary number with a warning), or, for a logistic model, every patient of one of them had the outcome
    (separation); the fit did not converge (the optimiser's verdict, the fit object's fields: where only
    another term's coefficient runs off to infinity, this term's is finite and equals R's, as coxph reports
    it); or its standard error is not finite.
    """
    group, outcome = GROUP_WORDS.get(term, "the group"), "outcome" if logistic else "event"
    checks = [(cells["n_group"] == 0, f"no patient in {group}"),
              (cells["n_reference"] == 0, "no patient in the reference group"),
              (cells["events_group"] == 0, f"no {outcome} in {group}"),
              (cells["events_reference"] == 0, f"no {outcome} in the reference group"),
              (logistic and cells["events_group"] == cells["n_group"], f"every patient of {group} had the outcome (separation)"),
              (logistic and cells["events_reference"] == cells["n_reference"], "every patient of the reference group had the outcome (separation)")]
    for hit, why in checks:
        if hit:
            return f"not estimable: {why}"
    if fit.separation:
        return "not estimable: the logistic model separates the outcome (fitted probabilities of 0 or 1)"
    if term in fit.infinite:
        return "not estimable: its coefficient is infinite (the likelihood has no maximum)"
    if not fit.converged and not fit.infinite:
        return "not estimable: the model did not converge" + (f" ({fit.not_estimable})" if fit.not_estimable else "")
    se, coef = float(fit.summary.at[term, "se"]), float(fit.summary.at[term, "coef"])
    return "" if np.isfinite(se) and np.isfinite(coef) else "not estimable: no finite standard error"


def estimates(fit: Fit, term: str, columns=SUMMARY_COLUMNS, ratio: str = "hr") -> dict:
    """``columns`` of ``term`` in the fit's summary, the ratio named ``ratio`` (``hr`` or ``or``)."""
    return {ratio if c == "ratio" else c: fit.summary.at[term, c] for c in columns}


def _tidy(fits, exposure, ratio, single="") -> pd.DataFrame:
    """One row per model and term; ``single``, when the cohort has one Mg group, is every term's reason."""
    rows = []
    for name, fit, cells in fits:
        for term in exposure:
            reason = single or not_estimable(fit, cells[term], term, logistic=ratio == "or")
            values = dict.fromkeys(["coef", "se", ratio, "lower", "upper", "p"], np.nan) if reason else \
                estimates(fit, term, ratio=ratio)
            rows.append({
                "model": name, "term": term, **values,
                "n": fit.n, "n_dropped": fit.n_dropped, "dropped_reason": fit.dropped_reason,
                "events": fit.events, **cells[term], "reason": reason,
            })
    return pd.DataFrame(rows)




def fit_logistic_models(df, outcome, models=MODELS, exposure=EXPOSURE, extra=()) -> pd.DataFrame:
    """Logistic models of a 0/1 ``outcome`` for each adjustment set (plus ``extra`` covariates in each).

    Returns the tidy frame of :func:`fit_models` with ``or`` in place of ``hr``.
    """
    from helpers.stats import regression

    happened = df[outcome] == 1
    fits = ((name, _fit(regression.fit_logistic, df, [outcome], exposure, [*adjustment, *extra], outcome),
             contrast_cells(df, [outcome, *exposure, *adjustment, *extra], happened, exposure))
            for name, adjustment in models.items())
    return _tidy(fits, exposure, "or", _one_group(df))


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


def fine_gray_standardized_curves(df, duration, event, covariates, cutpoints, cause=1) -> pd.DataFrame:
    """Cumulative incidence the Fine–Gray model implies for each Mg group, averaged over the cohort: every
    patient's curve (``predict.crr`` for that patient's covariates) with the Mg indicators set to the group,
    the mean taken at each event time. Like the Aalen–Johansen curves, a population average, not the curve
    of a mean-covariate profile (which no patient has: a binary covariate at 0.61). Returns ``profile, time,
    cif`` (``profile`` the group label), the frame of ``survival.fine_gray_cumulative_incidence``, and the
    cells each curve rests on (``GROUP_CELLS`` of ``helpers.report.declarations``). A group without
    patients gets no curve (the model would extrapolate to it)."""
    from helpers.stats import finegray

    terms = fitted_terms(df, [duration, event], [c for c in covariates if c not in EXPOSURE])
    fit = finegray.fit_fine_gray(df, duration, event, terms, cause)
    complete = df[[duration, event, *covariates]].dropna()[covariates].reset_index(drop=True)
    low, mid, high = derive.mg_group_labels(cutpoints)
    frames = []
    for label, flags, cells in ((low, (1.0, 0.0), _curve_cells(df, [duration, event, *covariates], event, cause, "mg_low")),
                                (mid, (0.0, 0.0), _curve_cells(df, [duration, event, *covariates], event, cause, None)),
                                (high, (0.0, 1.0), _curve_cells(df, [duration, event, *covariates], event, cause, "mg_high"))):
        if cells["n_group"] == 0:
            continue
        rows = complete.copy()
        rows[EXPOSURE] = flags
        mean = fit.mean_cumulative_incidence(rows[terms])
        frames.append(pd.DataFrame({"profile": label, "time": mean["time"].to_numpy(), "cif": mean["cif"].to_numpy(),
                                    **cells}))
    return pd.concat(frames, ignore_index=True)


def fine_gray_time_terms(df, duration, event, covariates, cause=1) -> pd.DataFrame:
    """The test of proportional subdistribution hazards (``stats.finegray_time``, R's ``crr`` with ``cov2``
    and ``tf = log``): one row per Mg indicator × log(time) (``term, coef, se, lower, upper, p``) and a row
    ``both`` with the joint Wald test (``statistic, df, p``), each with the cells it rests on: the term's
    group and the reference (patients, events, competing events; for ``both``, the smaller of the groups',
    since it rests on each).

    A test that cannot be made keeps its rows, with the cells, empty numbers and why in ``reason``
    ('not estimable: no event in the low-Mg group', '… the model did not converge', or the fitter's own
    message, such as a singular information matrix); ``reason`` is '' where the numbers stand.
    """
    from helpers.stats import finegray_time

    cells = {term: _curve_cells(df, [duration, event, *covariates], event, cause, term) for term in EXPOSURE}
    why = {term: _no_event(cells[term], term) for term in EXPOSURE}
    fit = None
    try:
        fit = finegray_time.fine_gray_time_interaction(df, duration, event, covariates, EXPOSURE, cause=cause)
        failed = "" if fit.converged else "not estimable: the model did not converge"
    except np.linalg.LinAlgError:
        failed = "not estimable: the information matrix is singular (a term does not vary among the patients at risk)"
    except (ValueError, RuntimeError) as exc:
        failed = f"not estimable: {exc}"
    rows = []
    for term in EXPOSURE:
        r = fit.summary.loc[f"{term}:log(t)"] if fit is not None else pd.Series(dtype=float)
        reason = why[term] or failed or ("" if np.isfinite(r["se"]) else "not estimable: no finite standard error")
        values = {"coef": r["coef"], "se": r["se"], "lower": r["coef"] - Z95 * r["se"],
                  "upper": r["coef"] + Z95 * r["se"], "p": r["p"]} if not reason else dict.fromkeys(_TERM_NUMBERS, np.nan)
        rows.append({"term": term, **values, **cells[term], "reason": reason})
    joint = failed or next((row["reason"] for row in rows if row["reason"]), "")
    both = pd.DataFrame([cells[t] for t in EXPOSURE]).min().to_dict()
    numbers = {"statistic": fit.statistic, "df": fit.df, "p": fit.pvalue} if not joint else \
        {"statistic": np.nan, "df": len(EXPOSURE), "p": np.nan}
    rows.append({"term": "both", **numbers, **both, "reason": joint})
    return pd.DataFrame(rows)


_TERM_NUMBERS = ("coef", "se", "lower", "upper", "p")


def _no_event(cells: dict, term: str) -> str:
    """'not estimable: no event in …' where a term's group or its reference has no event of the cause."""
    if cells["events_group"] == 0:
        return f"not estimable: no event in {GROUP_WORDS.get(term, term)}"
    return "not estimable: no event in the reference group" if cells["events_reference"] == 0 else ""


def _curve_cells(df, used, event, cause, term) -> dict:
    """The cells a group's model-implied curve rests on: its own patients and events of the cause and of
    the competing one (the reference group's for ``term=None``), and the reference group's, from whose
    baseline it is drawn (``contrast_cells``)."""
    cells = contrast_cells(df, used, df[event] == cause)
    competing = contrast_cells(df, used, df[event].notna() & ~df[event].isin([0, cause]))
    term_ = term or "mg_low"
    side = "group" if term else "reference"
    return {"n_group": cells[term_][f"n_{side}"], "events_group": cells[term_][f"events_{side}"],
            "competing_group": competing[term_][f"events_{side}"], "n_reference": cells[term_]["n_reference"],
            "events_reference": cells[term_]["events_reference"],
            "competing_reference": competing[term_]["events_reference"]}


def cutpoint_sensitivity(df, cutpoint_sets, fitters: dict, duration, event, model="Model 4", cause=1,
                         map=None) -> pd.DataFrame:
    """Model ``model`` refitted with the Mg groups of each pair of cut-points, by each fitter.

    ``fitters`` maps a name to a function like ``survival.cause_specific_cox``. Returns one row per pair,
    fitter and exposure term (``term``): the cut-points (``lower_cut``, ``upper_cut``), the groups' sizes and
    events, and ``hr, lower, upper, p``. A pair that leaves a group without an event gets no estimate
    (NaN) rather than a ratio of nothing; the row says so in ``note``. ``map(function, pairs) -> list``
    runs the pairs' refits (a plain loop when None; ``helpers.pipeline.distributed.mapper`` gives one for
    local processes or a Dask cluster); the rows are the same whichever runs them.
    """
    used = list(dict.fromkeys([duration, event, "mg", *[c for c in covariates(model) if c not in EXPOSURE]]))
    work = partial(_refit_at, data=df[used], fitters=fitters, duration=duration, event=event, model=model,
                   cause=cause)
    blocks = (map or local_map)(work, [list(c) for c in cutpoint_sets])
    return pd.DataFrame([row for block in blocks for row in block])


def _no_event_note(groups, events, labels) -> str:
    """Why a pair of cut-points gives no ratio: one Mg group only, a group without patients, or without events."""
    from helpers.analysis import cohort

    empty = [label for label in labels if not (groups == label).any()]
    return cohort.one_group(groups) or (f"not estimable: no patient in the {empty[0]} group" if empty else
                                        f"not estimable: no event in the {next(k for k, v in events.items() if not v)} group")


def _refit_at(cuts, data, fitters, duration, event, model, cause) -> list[dict]:
    """The rows of :func:`cutpoint_sensitivity` for one pair of cut-points."""
    labels = derive.mg_group_labels(cuts)
    groups = derive.mg_group(data["mg"], cuts)
    d = data.assign(mg_low=(groups == labels[0]).astype(float), mg_high=(groups == labels[2]).astype(float))
    events = {label: int((d.loc[groups == label, event] == cause).sum()) for label in labels}
    estimable = all(events.values())
    rows = []
    for name, fitter in fitters.items():
        fit = fit_object(fitter)(d, duration, event, covariates(model), cause=cause) if estimable else None
        stalled = fit is not None and not fit.converged and not fit.infinite
        note = _no_event_note(groups, events, labels) if not estimable else \
            "not estimable: the model did not converge" if stalled else ""
        fit = None if stalled else fit
        for term, label in (("mg_low", labels[0]), ("mg_high", labels[2])):
            rows.append({
                "cut-points": f"{cuts[0]:g} / {cuts[1]:g}", "lower_cut": cuts[0], "upper_cut": cuts[1],
                "model": name, "term": term, "group": label, "reference": labels[1],
                "participants": int((groups == label).sum()), "events": events[label],
                "reference_participants": int((groups == labels[1]).sum()), "reference_events": events[labels[1]],
                **(estimates(fit, term, ("ratio", "lower", "upper", "p")) if fit is not None else
                   dict.fromkeys(["hr", "lower", "upper", "p"], float("nan"))),
                "note": note,
            })
    return rows


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


CAC_EXTRA = ("lipid_lowering", "log_cac_baseline")  # added to every model of CAC progression (thesis 2.1.6)


def progression_extra(df: pd.DataFrame, outcome: str) -> list[str]:
    """Covariates added to each model of a progression outcome: for CAC those of ``CAC_EXTRA`` the data hold."""
    return [c for c in CAC_EXTRA if c in df.columns and df[c].notna().any()] if outcome == "cac" else []


def pwv_baseline_adjusted(pwv_set: pd.DataFrame) -> pd.DataFrame:
    """Arterial stiffness with and without baseline baPWV in the model, Model 4 covariates throughout.

    A percentage change from a baseline regresses to the mean: patients with a high baseline tend to fall,
    those with a low one to rise, and if baseline baPWV differs between Mg groups the change does too. The
    thesis's model (progression, a rise of 10% or more, by logistic regression without the baseline) is set
    beside the same model with baseline baPWV added, and beside the ANCOVA of the percentage change
    (linear regression on the Mg groups, Model 4 and baseline baPWV; ``stats.regression.linear``, R's ``lm``).
    One row per analysis and Mg indicator: ``analysis, term, scale, estimate, lower, upper, p, n`` and the
    cells the contrast rests on (``contrast_cells``; events only for the logistic rows).
    """
    from helpers.stats import regression

    d = pwv_set.assign(pwv_change_pct=100.0 * (pwv_set["pwv_year4"] / pwv_set["pwv_baseline"] - 1.0))
    rows = []
    for analysis, extra in (("Progression (rise ≥ 10%), logistic, Model 4: the thesis's", []),
                            ("Progression (rise ≥ 10%), logistic, Model 4 + baseline baPWV", ["pwv_baseline"])):
        fit = fit_logistic_models(d, "pwv_progression", models={"Model 4": MODEL_4}, extra=extra)
        for _, r in fit.iterrows():
            rows.append({"analysis": analysis, "term": r["term"], "scale": "odds ratio", "estimate": r["or"],
                         "lower": r["lower"], "upper": r["upper"], "p": r["p"], "n": r["n"],
                         **{c: r[c] for c in CELL_COLUMNS}})
    used = ["pwv_change_pct", *EXPOSURE, *MODEL_4, "pwv_baseline"]
    fit = regression.linear(d, "pwv_change_pct", used[1:])
    cells = contrast_cells(d, used, pd.Series(False, index=d.index))
    for term in EXPOSURE:  # a difference of means rests on the patients of both groups, not on events
        rows.append({"analysis": "Change in baPWV (%), ANCOVA: Model 4 + baseline baPWV", "term": term,
                     "scale": "difference in % change", "estimate": fit.at[term, "coef"], "lower": fit.at[term, "lower"],
                     "upper": fit.at[term, "upper"], "p": fit.at[term, "p"], "n": fit.attrs["n"],
                     **dict(cells[term], events_group=float("nan"), events_reference=float("nan"))})
    return pd.DataFrame(rows)
