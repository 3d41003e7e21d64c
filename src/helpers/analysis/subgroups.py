"""Subgroup analyses (thesis 2.2.5, Figure 2.2.4): Model 4 within strata and P for interaction.

Subgroups as the thesis defines them, with the cut-offs as parameters: age, sex, diabetes, uncontrolled
hypertension (SBP ≥ 130 or DBP ≥ 80 mmHg), obesity (BMI ≥ 25 kg/m²), eGFR, proteinuria, smoking history.
Within each stratum the cause-specific Model 4 hazard ratio of low against reference Mg is estimated with
the full Model 4, less only the covariates that are constant inside the stratum (sex within the sex strata,
diabetes within the diabetes strata: R's ``coxph`` reports NA for them); ``adjustment="reduced"`` also leaves
out age, BMI and eGFR inside their own strata (the parameter ``subgroup_adjustment``). The P for interaction is the
likelihood-ratio test of the Mg-group × subgroup terms in the whole cohort (``interaction_test``, matched
to R's ``coxph`` in ``tests/test_subgroups.py``).

Strata are small (37 patients have low Mg in all): a stratum whose low or reference group has no event,
or whose fit does not converge or gives an unstable estimate, is reported as not estimable with the
reason, never as an absurd number.
"""

import warnings
from functools import partial
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.analysis import derive
from helpers.analysis.subgroup_definitions import (  # noqa: F401
    ADJUSTMENTS, DEFAULT_CUTOFFS, FULL_MODEL, SUBGROUPS, Subgroup)
from helpers.stats import survival
from helpers.stats._common import chi2_sf, local_map

# Above this standard error of the log hazard ratio (a 95% CI wider than a factor of e^11.8, about
# 130,000) the estimate says nothing and is reported as not estimable.
MAX_SE = 3.0


def subgroup_definitions(cutoffs: dict) -> list[Subgroup]:
    """The declared subgroups (:data:`SUBGROUPS`) with their strata labelled by the cut-offs."""
    c = {**DEFAULT_CUTOFFS, **(cutoffs or {})}
    return [sub.labelled(c) for sub in SUBGROUPS]


def subgroup_flags(df: pd.DataFrame, cutoffs: dict) -> pd.DataFrame:
    """For each subgroup, 1 for the first stratum, 0 for the second, missing where it is not known."""
    c = {**DEFAULT_CUTOFFS, **(cutoffs or {})}
    flags = {}
    for sub in SUBGROUPS:
        condition, known = sub.flag(df, c)
        flags[sub.key] = condition.astype(float).where(known)
    return pd.DataFrame(flags, index=df.index)


@dataclass(frozen=True)
class InteractionTest:
    statistic: float
    df: int
    pvalue: float


def interaction_test(df, duration, event, covariates, exposure, modifier, cause=1) -> InteractionTest:
    """Likelihood-ratio test of exposure × modifier terms in a cause-specific Cox model.

    Both models contain ``covariates`` (which include ``exposure``) and ``modifier``; the larger one adds
    the product of each exposure term with the modifier. Patients missing any of them are left out of
    both. Matches ``anova(coxph(base), coxph(with interactions))`` in R.
    """
    return interaction_tests(df, duration, event, covariates, [exposure], modifier, cause)[0]


def interaction_tests(df, duration, event, covariates, exposures, modifier, cause=1) -> list[InteractionTest]:
    """:func:`interaction_test` for each set of exposure terms in ``exposures``, against one fit of the
    model without interactions (the same for every set: same patients, same terms)."""
    d = df[list(dict.fromkeys([duration, event, *covariates, modifier]))].dropna().copy()
    # A modifier that is a covariate already (sex, diabetes), or its complement, adds no main effect.
    same = [c for c in covariates if c != modifier and ((d[c] == d[modifier]).all() or (d[c] == 1 - d[modifier]).all())]
    base = list(covariates) if same or modifier in covariates else [*covariates, modifier]
    for term in dict.fromkeys(t for exposure in exposures for t in exposure):
        d[f"{term}:{modifier}"] = d[term] * d[modifier]
    small = survival.fit_cox(d, duration, event, base, cause=cause)
    tests = []
    for exposure in exposures:
        products = [f"{term}:{modifier}" for term in exposure]
        large = survival.fit_cox(d, duration, event, [*base, *products], cause=cause)
        lr = 2.0 * (large.loglik - small.loglik)
        tests.append(InteractionTest(float(lr), len(products), float(chi2_sf(lr, len(products)))))
    return tests


def stratum_covariates(d, covariates, exposure=("mg_low", "mg_high")) -> list[str]:
    """``covariates`` less those constant within the stratum ``d`` (as ``coxph`` would report NA for them);
    the exposure terms are kept (a stratum without one is judged by :func:`_estimate`)."""
    return [c for c in covariates if c in exposure or d[c].dropna().nunique() > 1]


def _estimate(d, duration, event, covariates, cause):
    """Model 4's HR of low Mg within a stratum, or the reason it cannot be estimated."""
    events = {t: int(((d[t] == 1) & (d[event] == cause)).sum()) for t in ("mg_low",)}
    reference = int(((d["mg_low"] == 0) & (d["mg_high"] == 0) & (d[event] == cause)).sum())
    if (d["mg_low"] == 1).sum() == 0:
        return None, "no patient with low Mg"
    if events["mg_low"] == 0:
        return None, "no event with low Mg"
    if reference == 0:
        return None, "no event in the reference group"
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a diverging fit warns; its result is judged below instead
            fit = survival.fit_cox(d, duration, event, stratum_covariates(d, covariates), cause=cause)
    except (RuntimeError, np.linalg.LinAlgError, ValueError):
        return None, "the model did not converge"
    if not fit.converged:  # the optimiser's verdict
        return None, "the model did not converge"
    row = fit.summary.loc["mg_low"].rename({"ratio": "hr"})
    if not (np.isfinite(row["coef"]) and np.isfinite(row["se"])) or row["se"] > MAX_SE or abs(row["coef"]) > 10:
        return None, "too few events for a stable estimate"
    return row, ""


def _interaction_p(d, duration, event, covariates, modifier, cause, exposures=(("mg_low", "mg_high"), ("mg_low",))):
    """The P value of each test of :func:`interaction_tests` (NaN where the fits fail)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            tests = interaction_tests(d, duration, event, covariates, [list(e) for e in exposures], modifier, cause)
        return [t.pvalue if np.isfinite(t.statistic) and t.statistic >= -1e-8 else np.nan for t in tests]
    except (RuntimeError, np.linalg.LinAlgError, ValueError):
        return [np.nan] * len(exposures)


def subgroup_analysis(df, duration, event, covariates, cutoffs=None, cause=1, cutpoints=(1.8, 2.2),
                      adjustment=FULL_MODEL, map=None) -> pd.DataFrame:
    """Every subgroup's strata: counts and events by Mg group, the low-Mg HR, and P for interaction.

    ``covariates`` are Model 4's (with the exposure indicators ``mg_low`` and ``mg_high`` first); within a
    stratum those constant in it are left out, and with ``adjustment="reduced"`` the subgroup's own variable
    too. Returns one row per stratum; a stratum that cannot be estimated has empty HR columns and a reason.
    ``p_interaction`` (the 2-df likelihood-ratio test of both Mg-group × subgroup terms) and
    ``p_interaction_low`` (the 1-df test of the low-Mg × subgroup term alone: the contrast the forest plot
    draws) are left empty where a stratum of the subgroup is not estimable, with the reason in
    ``p_interaction_note``. ``map(function, subgroups) -> list`` runs the subgroups' fits (a plain loop when
    None; ``helpers.pipeline.distributed.mapper`` gives one for local processes or a Dask cluster); the rows
    are the same whichever runs them.
    """
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"adjustment must be one of {', '.join(ADJUSTMENTS)}")
    used = list(dict.fromkeys([duration, event, "mg_group", *covariates]))
    work = partial(_subgroup_rows, data=df[used].join(subgroup_flags(df, cutoffs).add_prefix("sub_")),
                   duration=duration, event=event, covariates=list(covariates), cause=cause,
                   labels=derive.mg_group_labels(cutpoints), adjustment=adjustment)
    blocks = (map or local_map)(work, subgroup_definitions(cutoffs))
    return pd.DataFrame([row for block in blocks for row in block])


def _subgroup_rows(sub, data, duration, event, covariates, cause, labels, adjustment) -> list[dict]:
    """The rows of :func:`subgroup_analysis` for one subgroup: its two strata."""
    within = list(covariates) if adjustment == FULL_MODEL else [c for c in covariates if c not in sub.drop]
    modifier = f"sub_{sub.key}"
    d = data.drop(columns=[c for c in data.columns if c.startswith("sub_") and c != modifier])
    p_inter, p_low = _interaction_p(d, duration, event, covariates, modifier, cause)
    strata = []
    for value, level in zip((1.0, 0.0), sub.levels):
        part = d[d[modifier] == value]
        row = {"subgroup": sub.label, "stratum": level}
        for label, key in zip(labels, ("low", "mid", "high")):
            in_group = part["mg_group"] == label
            row[f"n_{key}"] = int(in_group.sum())
            row[f"events_{key}"] = int((in_group & (part[event] == cause)).sum())
        estimate, reason = _estimate(part, duration, event, within, cause)
        if estimate is None:
            row |= {"hr": np.nan, "lower": np.nan, "upper": np.nan, "p": np.nan, "estimable": False, "reason": reason}
        else:
            row |= {**estimate[["hr", "lower", "upper", "p"]].to_dict(), "estimable": True, "reason": ""}
        strata.append(row)
    missing = [r["stratum"] for r in strata if not r["estimable"]]
    note = f"not estimable in {', '.join(missing)}" if missing else ("" if np.isfinite(p_inter) else "the test failed")
    return [row | {"p_interaction": np.nan if missing else p_inter,
                   "p_interaction_low": np.nan if missing else p_low, "p_interaction_note": note} for row in strata]
