"""Beyond the thesis: absolute risks standardized over the cohort, the markers Model 4 leaves out and their
missing values, and how strong an unmeasured confounder would have to be.

- :func:`standardized_risks` — cumulative incidence of the composite outcome in each Mg group at given
  times, from cause-specific Cox models of both causes with the Model 4 covariates, averaged over the
  cohort's own covariates (``helpers.stats.standardized.standardized_risk``, matched to
  ``riskRegression::ate``); differences and ratios against the middle Mg group, with log-scale limits
  for the ratios beside ``ate``'s own. Bad input becomes one :class:`~helpers.errors.InputError` that
  names the parameter or the column.
- :func:`overlap` — each group's covariate ranges against the cohort's bulk (5th to 95th centile):
  standardization asks every group's model to speak for the whole cohort.
- :func:`bootstrap_risks` — percentile intervals of the standardized risks from resampled cohorts.
- :func:`marker_analyses` — Model 4 plus iPTH, 25-OH vitamin D and hs-CRP by complete cases and by multiple
  imputation (``helpers.stats.imputation``), beside Model 4; when the data have every marker recorded, a
  demonstration hides a share of them under a stated mechanism, in memory, and compares with the full data.
- :func:`e_values` — E-values of low Mg: of the standardized risk ratio at the horizon (the E-value's own
  scale), and of the Model 4 hazard ratio as an approximation, with the rare-outcome assumption checked on
  the Aalen–Johansen cumulative incidence at the end of follow-up.

Work that repeats independently (imputations, bootstrap replicates) runs through a ``map(function, items)
-> list`` passed in by the caller (the notebook takes it from ``helpers.pipeline.distributed.mapper``);
each item carries its own seed, so the result is the same whichever runs them.
"""

import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import special

from helpers.analysis import derive, models
from helpers.errors import InputError
from helpers.stats import evalue, survival  # imputation (statsmodels, scipy.stats: ~1 s) where it imputes
from helpers.stats._common import Z95, local_map
from helpers.stats.standardized import StandardizedModel, standardized_risk

DURATION, EVENT, GROUP = "followup_years", "status", "mg_group"
MODEL_4 = models.covariates("Model 4")  # the two Mg indicators and the Model 4 adjustment set
ADJUSTMENT = models.MODEL_4  # Model 4 without the exposure: the covariates standardization averages over
DERIVED_FROM = {"male": "sex", "map": "sbp and dbp", "corrected_calcium": "calcium and albumin"}

# Markers: column, model term, label. iPTH and hs-CRP are skewed and enter per doubling; hs-CRP of 0
# (below detection) is taken as HSCRP_FLOOR mg/L before the logarithm.
MARKERS = (("ipth", "log2_ipth", "iPTH, per doubling"),
           ("vitd25", "vitd25_per_10", "25-OH vitamin D, per 10 ng/mL"),
           ("hscrp", "log2_hscrp", "hs-CRP, per doubling"))
HSCRP_FLOOR = 0.01
RARE_LIMIT = 0.15  # cumulative incidence under which a hazard ratio approximates a risk ratio
HIDDEN_SHARE = 0.2  # share of each marker hidden in the demonstration
HIDDEN_EGFR_LOG_ODDS = -0.7  # per SD of eGFR: markers more often missing in patients with lower eGFR
TRACE_CHAINS = 4  # the convergence trace follows the chains of the first imputations, as plot(mice(...)) does


class _Recent:
    """The last ``size`` results of an expensive computation, by what they were computed from: the page
    asks for the same Cox models (standardized risks, their tied-time variance, curves, E-values, the
    marker analyses of the exercise) several times, and each is fitted once."""

    def __init__(self, size: int):
        self.size, self.items = size, OrderedDict()

    def get(self, key, compute):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = compute()
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


def fingerprint(df: pd.DataFrame, columns) -> str:
    """A digest of ``columns`` of ``df``, their names, types and values in order (not the index): equal data,
    equal digest. One hashing pass over those columns, far cheaper than a fit."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{len(df)}".encode())
    for column in dict.fromkeys(columns):
        values = df[column]
        digest.update(f"{column}|{values.dtype!r}".encode())
        digest.update(pd.util.hash_pandas_object(values, index=False).to_numpy().tobytes())
    return digest.hexdigest()


_MODELS = _Recent(2)  # standardization's cause-specific Cox models (stats.standardized.StandardizedModel)
_COX = _Recent(4)  # Cox fits of the marker analyses and the E-values
_IMPUTED = _Recent(2)  # multiple imputations (the most imputations asked for on the same data and seed)


def _fit_cox(df, covariates, cause):
    """``survival.fit_cox`` of ``cause`` on ``covariates``, fitted once per data, covariates and cause."""
    key = (fingerprint(df, [DURATION, EVENT, *covariates]), tuple(covariates), cause)
    return _COX.get(key, lambda: survival.fit_cox(df, DURATION, EVENT, list(covariates), cause=cause))


def reference_group(cutpoints) -> str:
    """The middle Mg group's label (1.8–2.2 by default): the reference of every comparison."""
    return derive.mg_group_labels(cutpoints)[1]


def adjustment_sets(params: dict, df: pd.DataFrame | None = None) -> tuple[list, list, str]:
    """The covariates of the composite's model (parameter ``standardization_adjustment``) and of the
    competing kidney outcome's (``kidney_adjustment``), and a note: when the data record no proteinuria
    at all, the kidney model falls back to Model 4 and the note says so."""
    own = list(models.STANDARDIZATION_ADJUSTMENTS[params["standardization_adjustment"]])
    kidney = list(models.KIDNEY_ADJUSTMENTS[params["kidney_adjustment"]])
    if df is not None and "log2_proteinuria" in kidney and not df["log2_proteinuria"].notna().any():
        return own, list(models.MODEL_4), "no proteinuria is recorded, so the kidney model adjusts for Model 4 alone"
    return own, kidney, ""


# --- standardized risks ---------------------------------------------------------------------------------

def check_standardization(df, times, cutpoints, covariates=ADJUSTMENT, source="the cohort", competing=None) -> None:
    """One :class:`InputError` naming the parameter or column for the inputs standardization cannot use:
    a time in ``risk_times`` beyond the last follow-up, a covariate constant over the patients analysed.
    (An Mg group without patients is no stop: its rows say why they have no estimate.)"""
    last = float(df[DURATION].max())
    beyond = [t for t in times if t > last]
    if beyond:
        raise InputError(
            f"risk_times: {beyond[0]:g} years is beyond the last follow-up of the {len(df):,} patients analysed "
            f"in {source} ({last:.1f} years); give times within follow-up, such as [3, 5].")
    covariates = list(dict.fromkeys([*covariates, *(competing or [])]))
    complete = df[covariates].dropna()
    for column in covariates:
        values = complete[column].unique()
        if len(values) <= 1:
            origin = f" (derived from {DERIVED_FROM[column]})" if column in DERIVED_FROM else ""
            shown = f"{values[0]:g}" if len(values) else "empty"
            raise InputError(
                f"column '{column}'{origin} of {source} is constant ({shown}) over the {len(complete):,} patients "
                "analysed, so Model 4 cannot adjust for it and the standardized risks cannot be estimated.")


def with_log_ratio_limits(table: pd.DataFrame, z: float = Z95) -> pd.DataFrame:
    """Add ``lower_log, upper_log`` to ratio rows: estimate · exp(∓z · se / estimate), a Wald interval on
    the log scale (the delta method's se of log ratio is se / ratio); NaN on other rows."""
    out = table.copy()
    ratio = (out["kind"] == "ratio").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        half = z * out["se"].to_numpy(float) / out["estimate"].to_numpy(float)
        out["lower_log"] = np.where(ratio, out["estimate"] * np.exp(-half), np.nan)
        out["upper_log"] = np.where(ratio, out["estimate"] * np.exp(half), np.nan)
    return out


def _standardize(df, times, cutpoints, covariates, cause, source, competing=None, ties=("ate",)):
    """``standardized_risk`` over the Mg groups with patients (every covariate recorded), one frame per tie
    rule of ``ties`` (``{rule: frame}``); a group without them gets rows without numbers that say why, and so
    do the contrasts when the reference group or all but one group is empty (``reason``: '' on estimated
    rows). The Cox models are fitted once per data, adjustment sets and cause (:class:`_Recent`)."""
    from helpers.analysis import cohort

    labels, reference = derive.mg_group_labels(cutpoints), reference_group(cutpoints)
    used = df[[DURATION, EVENT, GROUP, *covariates, *(competing or [])]].dropna()
    present = [g for g in labels if (used[GROUP] == g).any()]
    single = cohort.one_group(used[GROUP])
    missing = {g: single or f"not estimable: no patient in the {g} mg/dL group" for g in labels if single or g not in present}
    if reference not in present and not single:
        missing[reference] = f"not estimable: no patient in the reference group ({reference} mg/dL)"
    empty = pd.DataFrame(columns=["time", "group", "kind", "estimate", "se", "lower", "upper"], dtype=float)
    estimated = dict.fromkeys(ties, empty)
    if not single:
        data = df.assign(**{GROUP: df[GROUP].cat.remove_unused_categories()}) if len(present) < len(labels) else df
        data = data[data[GROUP].isin(present)]
        base = reference if reference in present else present[0]
        key = (fingerprint(data, [DURATION, EVENT, GROUP, *covariates, *(competing or [])]), tuple(covariates),
               None if competing is None else tuple(competing), cause, base)
        try:
            model = _MODELS.get(key, lambda: StandardizedModel(data, DURATION, EVENT, GROUP, list(covariates), cause=cause,
                                                               reference=base, competing_covariates=competing))
            estimated = {rule: table.assign(reason="") for rule, table in model.tables(times, ties).items()}
        except ValueError as exc:
            raise InputError(f"{source}: the standardized risks cannot be estimated: {exc}.") from None
    return {rule: _with_missing_groups(table, times, labels, reference, missing) for rule, table in estimated.items()}


def _with_missing_groups(estimated, times, labels, reference, missing):
    """The estimated rows with, for each group of ``missing`` (label: reason), its risk rows and contrast rows
    with that reason (every contrast's when the reference is among them), in the groups' order."""
    rows = [{"time": float(t), "group": g, "kind": kind, "reason": why} for g, why in missing.items() if g != reference
            for t in times for kind in ("risk", "difference", "ratio")]
    rows += [{"time": float(t), "group": reference, "kind": "risk", "reason": missing[reference]} for t in times
             if reference in missing and reference in labels]
    out = pd.concat([estimated, pd.DataFrame(rows)], ignore_index=True) if rows else estimated
    if reference in missing and len(out):
        contrast = out["kind"].isin(["difference", "ratio"])
        out.loc[contrast, ["estimate", "se", "lower", "upper"]] = np.nan
        out.loc[contrast, "reason"] = missing[reference]
    kinds, order = {"risk": 0, "difference": 1, "ratio": 2}, {g: i for i, g in enumerate(labels)}
    return out.sort_values(["time", "kind", "group"], key=lambda s: s.map(kinds) if s.name == "kind" else
                           s.map(order) if s.name == "group" else s, kind="stable").reset_index(drop=True)


def group_cells(table: pd.DataFrame, df, cutpoints, covariates=ADJUSTMENT) -> pd.DataFrame:
    """The table with the cells each row rests on, among the patients analysed (every covariate recorded):
    ``n_group, events_group, competing_group`` of its ``group``, and for a difference or ratio row
    (``kind``) those of the reference group too (``*_reference``); what disclosure control checks."""
    d = df[[DURATION, EVENT, GROUP, *covariates]].dropna()
    counts = {g: (int(len(part)), int((part[EVENT] == 1).sum()), int((part[EVENT] == 2).sum()))
              for g, part in d.groupby(GROUP, observed=False)}
    zero = (0, 0, 0)
    own = np.array([counts.get(g, zero) for g in table["group"]], dtype=float).reshape(-1, 3)
    contrast = table["kind"].isin(["difference", "ratio"]).to_numpy() if "kind" in table.columns else np.zeros(len(table), bool)
    ref = np.where(contrast[:, None], np.array(counts.get(reference_group(cutpoints), zero), dtype=float), np.nan)
    names = ("n", "events", "competing")
    return table.assign(**{f"{k}_group": own[:, i] for i, k in enumerate(names)},
                        **{f"{k}_reference": ref[:, i] for i, k in enumerate(names)})


def standardized_risks(df, times, cutpoints, covariates=ADJUSTMENT, cause=1, source="the cohort",
                       competing=None) -> pd.DataFrame:
    """Standardized cumulative incidence of ``cause`` by Mg group at ``times``, with differences and ratios.

    Cause-specific Cox models of every cause with the Mg group and ``covariates``; every patient's risk
    predicted in each group and averaged over the cohort. The frame of ``standardized_risk`` (``time,
    group, kind, estimate, se, lower, upper``; difference and ratio rows against the middle group) plus
    ``lower_log, upper_log`` for the ratios (:func:`with_log_ratio_limits`). ``competing``: the other
    causes' covariates (default: ``covariates``).
    """
    check_standardization(df, times, cutpoints, covariates, source, competing)
    return group_cells(with_log_ratio_limits(_standardize(df, times, cutpoints, covariates, cause, source, competing)["ate"]),
                       df, cutpoints, covariates)


def tied_time_variance(df, times, cutpoints, covariates=ADJUSTMENT, cause=1, competing=None) -> pd.DataFrame:
    """Standard errors of the standardized risks two ways: as R's ``ate`` computes them (each distinct tied
    event time counted once in the influence function of the Cox coefficients) and counting every tied
    event (the usual form; its coefficient variance agrees with ``coxph(robust = TRUE)``). One row per time,
    group and kind, with ``se_ate``, ``se_counted`` and their ratio; without tied event times the two agree."""
    fits = _standardize(df, times, cutpoints, covariates, cause, "the cohort", competing, ties=("ate", "counted"))
    out = fits["ate"][["time", "group", "kind", "se"]].rename(columns={"se": "se_ate"})
    out["se_counted"] = fits["counted"]["se"].to_numpy(float)
    out["reason"] = fits["ate"]["reason"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):  # a level without events of a cause: both 0
        out["ratio"] = out["se_counted"] / out["se_ate"]
    return group_cells(out, df, cutpoints, covariates)


def standardized_curves(df, cutpoints, covariates=ADJUSTMENT, cause=1, step=0.25, source="the cohort",
                        competing=None) -> pd.DataFrame:
    """Standardized cumulative incidence on a grid of ``step`` years to the last follow-up, for a figure:
    ``group, time, cif, lower, upper`` with a row of zeros at time 0 (the columns of the Aalen–Johansen
    curves of ``survival.cumulative_incidence``)."""
    last = float(df[DURATION].max())
    grid = np.round(np.arange(step, last + 1e-9, step), 6)
    risks = _standardize(df, grid, cutpoints, covariates, cause, source, competing)["ate"]
    risks = risks[risks["kind"] == "risk"].rename(columns={"estimate": "cif"})
    start = pd.DataFrame({"group": derive.mg_group_labels(cutpoints), "time": 0.0, "cif": 0.0, "lower": 0.0, "upper": 0.0})
    curves = pd.concat([start, risks[["group", "time", "cif", "lower", "upper"]]], ignore_index=True)
    order = {g: i for i, g in enumerate(derive.mg_group_labels(cutpoints))}
    curves = curves.sort_values(["group", "time"], key=lambda s: s.map(order) if s.name == "group" else s,
                                kind="stable").reset_index(drop=True)
    return group_cells(curves, df, cutpoints, covariates)


# --- overlap --------------------------------------------------------------------------------------------

def _binary(values: pd.Series) -> bool:
    return set(values.dropna().unique()) <= {0, 1}


def overlap(df, covariates=ADJUSTMENT, bulk=(0.05, 0.95)) -> pd.DataFrame:
    """Each Mg group's covariate distribution against the whole cohort's.

    One row per covariate and group: ``n`` patients with the covariate recorded, then for a continuous
    covariate ``min, q05, median, q95, max`` of the group and ``cohort_low, cohort_high`` (the cohort's
    ``bulk`` centiles), ``covers`` True when the group's range reaches both; for a 0/1 covariate ``share``
    (proportion with 1) and ``covers`` True when the group has both values wherever the cohort has.
    ``gap`` says what is not covered (in words: the extremes are single patients' values).
    """
    rows = []
    for column in covariates:
        x = df[column]
        low, high = (float(v) for v in x.quantile(list(bulk)))
        binary = _binary(x)
        for label, part in df.groupby(GROUP, observed=False, sort=True):
            v = part[column].dropna()
            row = {"covariate": column, "group": label, "n": len(v)}
            if binary:
                share = float(v.mean()) if len(v) else np.nan
                both = x.nunique() < 2 or (0 < share < 1)
                gap = "" if both else f"every patient {'has' if share == 1 else 'lacks'} it"
                row |= {"share": share, "covers": bool(both), "gap": gap}
            else:
                q = v.quantile([0, bulk[0], 0.5, bulk[1], 1]).to_numpy(float) if len(v) else np.full(5, np.nan)
                gaps = ([f"lowest value above the cohort's {100 * bulk[0]:g}th centile"] if q[0] > low else []) + \
                       ([f"highest value below the cohort's {100 * bulk[1]:g}th centile"] if q[4] < high else [])
                row |= {"min": q[0], "q05": q[1], "median": q[2], "q95": q[3], "max": q[4],
                        "cohort_low": low, "cohort_high": high, "covers": not gaps, "gap": "; ".join(gaps)}
            rows.append(row)
    return pd.DataFrame(rows)


# --- bootstrap ------------------------------------------------------------------------------------------

def _bootstrap_once(seed, data, times, reference, covariates, cause, competing=None):
    """One replicate: resample patients with replacement within each Mg group, standardize again; the
    estimates in the order of ``standardized_risk``'s rows, or None when the resample cannot be fitted."""
    rng = np.random.default_rng(seed)
    codes = data[GROUP].cat.codes.to_numpy()
    picks = [rng.choice(np.flatnonzero(codes == j), size=int((codes == j).sum()), replace=True)
             for j in range(len(data[GROUP].cat.categories))]
    sample = data.iloc[np.concatenate(picks)].reset_index(drop=True)
    try:
        return standardized_risk(sample, DURATION, EVENT, GROUP, covariates, times, cause=cause,
                                 reference=reference, competing_covariates=competing)["estimate"].to_numpy(float)
    except (ValueError, np.linalg.LinAlgError, RuntimeError):
        return None


def bootstrap_risks(df, times, cutpoints, replicates, seed, map=None, covariates=ADJUSTMENT, cause=1,
                    level=0.95, source="the cohort", competing=None) -> pd.DataFrame:
    """Percentile bootstrap intervals of the standardized risks, differences and ratios.

    ``replicates`` resamples of the patients, with replacement within each Mg group (so each group keeps
    its size), each drawn from its own child of ``numpy.random.SeedSequence([seed, 2])`` and run through
    ``map(function, items) -> list`` (a plain loop when None). Returns the rows of
    :func:`standardized_risks` (``time, group, kind, estimate``) with ``boot_lower, boot_upper`` (the
    (1 ± level)/2 quantiles over the replicates that could be fitted), ``replicates`` (used) and
    ``failed`` (resamples that could not be fitted, such as one without an event in a group), and the
    cells of :func:`standardized_risks` each row rests on (for disclosure control).
    """
    point = standardized_risks(df, times, cutpoints, covariates, cause, source, competing)
    used = list(dict.fromkeys([*covariates, *(competing or [])]))
    data = df[[DURATION, EVENT, GROUP, *used]].dropna().reset_index(drop=True)
    seeds = np.random.SeedSequence([seed, 2]).spawn(replicates)
    work = partial(_bootstrap_once, data=data, times=list(times), reference=reference_group(cutpoints),
                   covariates=list(covariates), cause=cause, competing=competing)
    results = (map or local_map)(work, seeds)
    fitted = [r for r in results if r is not None]
    cells = [c for c in ("n_group", "events_group", "competing_group", "n_reference", "events_reference",
                         "competing_reference") if c in point.columns]
    out = point[["time", "group", "kind", "estimate", *cells]].copy()  # the cells each row rests on
    tail = 100 * (1 - level) / 2
    draws = np.vstack(fitted) if fitted else np.full((1, len(out)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column of NaN (a ratio of two zero risks) stays NaN
        out["boot_lower"] = np.nanpercentile(draws, tail, axis=0)
        out["boot_upper"] = np.nanpercentile(draws, 100 - tail, axis=0)
    out["replicates"] = len(fitted)
    out["failed"] = len(results) - len(fitted)
    return out


# --- markers and their missing values -------------------------------------------------------------------

def marker_terms(df) -> pd.DataFrame:
    """A copy of the cohort with the markers' model terms added (missing stays missing): log2 iPTH,
    25-OH vitamin D per 10 ng/mL, log2 hs-CRP (values below ``HSCRP_FLOOR`` mg/L taken as it)."""
    out = df.copy()
    out["log2_ipth"] = np.log2(out["ipth"])
    out["vitd25_per_10"] = out["vitd25"] / 10.0
    out["log2_hscrp"] = np.log2(out["hscrp"].clip(lower=HSCRP_FLOOR))
    return out


def missing_markers(df) -> pd.DataFrame:
    """How many of the patients have each marker recorded (``n_recorded``) and missing (``n_missing``)."""
    rows = []
    for column, _, label in MARKERS:
        missing = int(df[column].isna().sum())
        rows.append({"marker": label.split(",")[0], "column": column, "n_recorded": len(df) - missing,
                     "n_missing": missing})
    return pd.DataFrame(rows)


def hide_markers(df, seed, share=HIDDEN_SHARE, egfr_log_odds=HIDDEN_EGFR_LOG_ODDS) -> pd.DataFrame:
    """For the demonstration only: a copy of the cohort with each marker hidden, independently, missing at
    random given eGFR.

    logit P(hidden) = a + ``egfr_log_odds`` · (eGFR − mean) / SD, with ``a`` solved so that the expected
    share hidden is ``share``; draws from ``numpy.random.default_rng([seed, 1])``. The input is not changed.
    """
    # A patient without eGFR counts as at the mean (the models leave such a patient out anyway).
    from scipy import optimize

    z = np.nan_to_num(((df["egfr"] - df["egfr"].mean()) / df["egfr"].std()).to_numpy(float))
    intercept = optimize.brentq(lambda a: special.expit(a + egfr_log_odds * z).mean() - share, -30, 30)
    probability = special.expit(intercept + egfr_log_odds * z)
    rng = np.random.default_rng([seed, 1])
    out = df.copy()
    for column, _, _ in MARKERS:
        out.loc[rng.uniform(size=len(out)) < probability, column] = np.nan
    return out


def _cox_rows(data, covariates, terms, setting, analysis, cause):
    covariates = models.fitted_terms(data, [DURATION, EVENT], [c for c in covariates if c not in models.EXPOSURE])
    fit = _fit_cox(data, covariates, cause)
    cells = models.contrast_cells(data, [DURATION, EVENT, *covariates], data[EVENT] == cause, models.EXPOSURE)
    blank = dict.fromkeys(("n_group", "events_group", "n_reference", "events_reference"), np.nan)
    rows = []
    for t in terms:
        reason = models.not_estimable(fit, cells[t], t) if t in cells else ""
        estimate = dict.fromkeys(["hr", "lower", "upper", "p"], np.nan) if reason else \
            models.estimates(fit, t, ("ratio", "lower", "upper", "p"))
        rows.append({"setting": setting, "analysis": analysis, "term": t, **estimate, "n": fit.n, "events": fit.events,
                     "n_imputed": 0, "df": np.nan, "fmi": np.nan, **cells.get(t, blank), "reason": reason})
    return rows


def _imputed(data, covariates, impute, imputations, seed, map, cause):
    """``imputation.multiple_imputation_cox``; on the data, seed and model of an earlier call with at least as
    many imputations, that call's first ``imputations`` pooled again (``imputation.first_imputations``: the
    same result, each imputation depending only on the data and its own child of the seed)."""
    from helpers.stats import imputation

    key = (fingerprint(data, [DURATION, EVENT, *covariates, *impute]), tuple(covariates), tuple(impute), seed, cause)
    earlier = _IMPUTED.items.get(key)
    if earlier is not None and earlier.imputations >= imputations:
        return imputation.first_imputations(earlier, imputations)
    _IMPUTED.items.pop(key, None)
    return _IMPUTED.get(key, lambda: imputation.multiple_imputation_cox(
        data, DURATION, EVENT, covariates, impute, imputations=imputations, seed=seed, cause=cause, map=map,
        trace_chains=TRACE_CHAINS))


def _mi_rows(data, covariates, terms, impute, setting, imputations, seed, map, cause):
    adjustment = [c for c in covariates if c not in models.EXPOSURE]  # the imputed markers' gaps aside:
    covariates = [*models.fitted_terms(data, [DURATION, EVENT], [c for c in adjustment if c not in impute]),
                  *[c for c in adjustment if c in impute]]
    result = _imputed(data, covariates, impute, imputations, seed, map, cause)
    table = result.table.set_index("term")
    cells = models.contrast_cells(data, [DURATION, EVENT, *models.EXPOSURE], data[EVENT] == cause, models.EXPOSURE)
    blank = dict.fromkeys(("n_group", "events_group", "n_reference", "events_reference"), np.nan)
    rows = []
    for t in terms:
        c = cells.get(t, blank)
        reason = ("not estimable: no patient in the group or its reference" if 0 in (c["n_group"], c["n_reference"]) else
                  "not estimable: no event in the group or its reference" if 0 in (c["events_group"], c["events_reference"]) else "")
        values = ({"hr": table.at[t, "hr"], "lower": table.at[t, "hr_lower"], "upper": table.at[t, "hr_upper"], "p": table.at[t, "p"],
                   "df": table.at[t, "df"], "fmi": table.at[t, "fmi"]} if not reason else
                  dict.fromkeys(["hr", "lower", "upper", "p", "df", "fmi"], np.nan))
        rows.append({"setting": setting, "analysis": "Model 4 + markers, multiple imputation", "term": t, **values,
                     "n": result.n, "events": result.events, "n_imputed": result.n_missing, **c, "reason": reason})
    return rows, result.trace


@dataclass(frozen=True)
class MarkerAnalyses:
    """``table``: one row per setting, analysis and term (``hr, lower, upper, p``; ``n`` patients used,
    ``events``, ``n_imputed`` patients with a marker imputed, ``df`` Barnard–Rubin degrees of freedom and
    ``fmi`` fraction of missing information for the pooled rows). ``missing``: each marker's counts in the
    data. ``demonstration``: True when the data had every marker recorded, so that imputation was shown on
    a copy with :func:`hide_markers`. ``trace``: the convergence trace of a few chains; ``needed``: the
    imputations von Hippel's rule asks for at the largest fraction of missing information (5% variation
    of the standard errors between runs)."""

    table: pd.DataFrame
    missing: pd.DataFrame
    demonstration: bool
    trace: pd.DataFrame | None = None  # the first imputations' convergence trace (imputation.chain_trace's columns)
    needed: int | None = None  # imputations von Hippel's rule asks for, from the largest FMI



def marker_analyses(df, imputations, seed, map=None, cause=1) -> MarkerAnalyses:
    """Model 4, then Model 4 plus iPTH, 25-OH vitamin D and hs-CRP by complete cases and by multiple
    imputation (``imputations`` data sets seeded by ``seed``, run through ``map``; the imputation model
    holds the covariates, the markers, both event indicators and both Nelson–Aalen cumulative hazards).

    When no marker is missing, complete cases are every patient and there is nothing to impute; the
    markers are then hidden in a copy (:func:`hide_markers`) to show what each approach does, with the
    full data as the answer. Markers with no recorded value at all are left out.
    """
    from helpers.stats import imputation

    if imputations < 2:
        raise InputError(f"imputations: {imputations} imputed data set is not multiple imputation; give 2 or more (20 by default).")
    missing = missing_markers(df)
    kept = [(c, t) for c, t, _ in MARKERS if df[c].notna().any()]
    terms = [t for _, t in kept]
    exposure = list(models.EXPOSURE)
    recorded = marker_terms(df)
    rows = _cox_rows(recorded, MODEL_4, exposure, "as recorded", "Model 4", cause)
    if not terms:
        return MarkerAnalyses(pd.DataFrame(rows), missing, False)
    with_markers = MODEL_4 + terms
    rows += _cox_rows(recorded, with_markers, exposure + terms, "as recorded", "Model 4 + markers, complete cases", cause)
    demonstration = not recorded[terms].isna().any().any()
    if demonstration:
        setting = f"{HIDDEN_SHARE:.0%} of each marker hidden"
        data = marker_terms(hide_markers(df, seed))
        rows += _cox_rows(data, with_markers, exposure + terms, setting, "Model 4 + markers, complete cases", cause)
    else:
        setting, data = "as recorded", recorded
    mi_rows, trace = _mi_rows(data, with_markers, exposure + terms, terms, setting, imputations, seed, map, cause)
    table = pd.DataFrame(rows + mi_rows)
    fmi = table["fmi"].dropna()
    needed = imputation.imputations_needed(float(fmi.max())) if len(fmi) else None
    return MarkerAnalyses(table, missing, demonstration, trace, needed)


# --- unmeasured confounding -----------------------------------------------------------------------------

@dataclass(frozen=True)
class EValues:
    """``table``: one row per scale (``assumption, scale, primary, rare, ratio, lower, upper, rr, rr_lower,
    rr_upper, e_point, e_ci``): first, when standardized risks are given, the standardized risk ratio at
    the horizon (``primary``: the E-value's own scale, no conversion), then the Model 4 hazard ratio read
    as a risk ratio and, for a common outcome, converted to one (approximations); ``incidence_end``: the
    Aalen–Johansen cumulative incidence at the end of follow-up overall and in each group (``group, time,
    cif``); ``largest`` its largest value; ``rare`` whether it is at most ``limit``; ``fit`` the Model 4
    fit (``survival.cause_specific_cox``), for comparing the E-value with the hazard ratios of measured
    covariates."""

    table: pd.DataFrame
    incidence_end: pd.DataFrame
    largest: float
    rare: bool
    limit: float
    fit: pd.DataFrame

    @property
    def headline(self) -> pd.Series:
        """The row to read: the standardized risk ratio's when there is one, else the hazard ratio's last
        (converted when the outcome is common)."""
        primary = self.table[self.table["primary"]]
        return primary.iloc[0] if len(primary) else self.table.iloc[-1]


def _e_row(assumption, scale, primary, rare, ratio, lower, upper, reason="", cells=None) -> dict:
    """One row of the E-value table; with ``reason`` (or without a finite positive ratio and limits) its
    numbers are empty and the row says why. ``cells``: what the ratio rests on, for disclosure control."""
    row = {"assumption": assumption, "scale": scale, "primary": primary, "rare": rare, "ratio": ratio,
           "lower": lower, "upper": upper, **(cells or {})}
    if reason or not all(np.isfinite(v) and v > 0 for v in (ratio, lower, upper)):
        return row | dict.fromkeys(["ratio", "lower", "upper", "rr", "rr_lower", "rr_upper", "e_point", "e_ci"], np.nan) | \
            {"reason": reason or "not estimable: no finite ratio"}
    e = evalue.e_value(ratio, lower, upper, rare=rare)
    return row | {"rr": e.rr, "rr_lower": e.rr_lower, "rr_upper": e.rr_upper, "e_point": e.point, "e_ci": e.ci, "reason": ""}


def risk_ratio_row(risks: pd.DataFrame, group: str) -> dict:
    """The E-value row of the standardized risk ratio of ``group`` at the last time of ``risks`` (a frame of
    :func:`standardized_risks`), with its log-scale limits: a risk ratio needs no conversion."""
    horizon = float(risks["time"].max())
    row = risks[(risks["time"] == horizon) & (risks["group"] == group) & (risks["kind"] == "ratio")].iloc[0]
    cells = {f"{k}_{side}": row[f"{k}_{side}"] for side in ("group", "reference") for k in ("n", "events")
             if f"{k}_{side}" in row.index}
    values = [float(row[c]) for c in ("estimate", "lower_log", "upper_log")]
    if not all(np.isfinite(v) and v > 0 for v in values):  # withheld, or not estimable: no row on this scale
        raise ValueError(str(row.get("reason", "") or "") or "the standardized risk ratio has no finite positive limits")
    return _e_row(f"standardized risk ratio at {horizon:g} years: the E-value's own scale", "risk ratio", True, True,
                  *values, "", cells)


def e_values(df, term="mg_low", covariates=MODEL_4, cause=1, limit=RARE_LIMIT, curve_data=None, risks=None) -> EValues:
    """E-values (VanderWeele and Ding 2017) of low Mg.

    With ``risks`` (a frame of :func:`standardized_risks`), the first row is that of the standardized risk
    ratio of the lowest Mg group at the latest time: a risk ratio, the scale the E-value is defined on,
    which accounts for the competing kidney outcome. The Model 4 cause-specific hazard ratio of ``term``
    follows as an approximation: read as a risk ratio when the outcome is rare (the Aalen–Johansen
    cumulative incidence of ``cause`` at the end of follow-up, overall and in each Mg group, at most
    ``limit``, 15%), and, when any exceeds it, converted for a common outcome (VanderWeele 2017), which
    ignores the competing risk. ``curve_data`` (default ``df``) is what the curves are estimated from: a
    report passes the disclosed data there (real data: counts rounded in time).
    """
    from helpers.analysis import cohort

    terms = models.fitted_terms(df, [DURATION, EVENT], [c for c in covariates if c not in models.EXPOSURE])
    fit = _fit_cox(df, terms, cause)
    curve_data = df if curve_data is None else curve_data
    hr, lower, upper = (float(fit.summary.at[term, c]) if term in fit.summary.index else np.nan
                        for c in ("ratio", "lower", "upper"))
    cells = models.contrast_cells(df, [DURATION, EVENT, *covariates], df[EVENT] == cause)[term]
    reason = cohort.one_group(df[GROUP]) or models.not_estimable(fit, cells, term)
    curves = pd.concat([survival.cumulative_incidence(curve_data, DURATION, EVENT, cause=cause).assign(group="All patients"),
                        survival.cumulative_incidence(curve_data, DURATION, EVENT, cause=cause, group=GROUP)])
    end = curves.groupby("group", sort=False).tail(1)[["group", "time", "cif"]].reset_index(drop=True)
    largest = float(end["cif"].max())
    rare = largest <= limit
    rows = []
    if risks is not None:
        try:
            rows.append(risk_ratio_row(risks, str(df[GROUP].cat.categories[0])))
        except ValueError:  # a ratio of zero risks, or limits that are not finite: no E-value on this scale
            pass
    for assumption, as_rare in (("approximation: the hazard ratio read as a risk ratio (rare outcome)", True),
                                ("approximation: the hazard ratio converted to a risk ratio (common outcome, √HR)", False)):
        if not as_rare and rare:
            continue
        rows.append(_e_row(assumption, "hazard ratio", False, as_rare, hr, lower, upper, reason, cells))
    return EValues(pd.DataFrame(rows), end, largest, rare, limit, fit.table())


def e_value_of(fit: pd.DataFrame, term: str, rare: bool) -> evalue.EValue:
    """The E-value of another term of a fitted Cox model (a frame of ``survival.cause_specific_cox``), under
    the same rare-outcome reading: for setting a measured covariate's strength beside the exposure's."""
    row = fit.loc[term]
    return evalue.e_value(float(row["hr"]), float(row["lower"]), float(row["upper"]), rare=rare)
