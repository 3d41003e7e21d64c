"""Every label of data/published/synthetic_design.yml against what the generator does.

The shipped synthetic cohort (and cell-culture file) is set beside one drawn by the same generators with
another seed. A result declared *fixed* must come out the same; one declared *constrained*, *planted* or
*free* must move with the seed (else it is fixed, and saying otherwise hides how it was made); a
*constrained* one must also stay inside its interval under both seeds. Each declared result has its
statistic here, computed with the helpers the chapters use; a result without one fails the test.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.analysis import beyond, cohort, models, subgroups, vsmc
from helpers.pipeline import params as params_mod, validate
from helpers.report import calibration, published
from helpers.stats import survival
from helpers.stats.finegray_time import fine_gray_time_interaction
from helpers.synthetic import cohort as synthetic, vsmc as synthetic_vsmc

OTHER_SEED = 7
DURATION, EVENT = "followup_years", "status"


@dataclass
class Run:
    cohort: pd.DataFrame
    analysed: pd.DataFrame
    table: pd.DataFrame  # the calibration table: every published target recomputed
    vsmc: pd.DataFrame


def _run(cohort_path, vsmc_frame) -> Run:
    p = params_mod.load()
    the_cohort = validate.load_cohort(cohort_path)
    analysed = cohort.analysis_cohort(the_cohort, p["mg_cutpoints"], p["mg_exclude_at_or_above"])
    return Run(the_cohort, analysed, calibration.calibration_table(the_cohort, p), vsmc_frame)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    other = tmp_path_factory.mktemp("design") / "cohort.csv"
    synthetic.write(other, seed=OTHER_SEED)
    shipped_vsmc = validate.load_vsmc(paths.DATA / "vsmc.csv")
    return _run(paths.DATA / "cohort.csv", shipped_vsmc), _run(other, synthetic_vsmc.generate(OTHER_SEED))


# --- the statistic behind each declared result ------------------------------------------------------------

FREE_ROWS = ("Mean PWV", "Pulse pressure")


def _cells(run, section, tolerance=None, rows=None, exclude=()):
    t = run.table[run.table["Section"] == section]
    if tolerance is not None:
        t = t[t["Tolerance"] == tolerance]
    if rows is not None:
        t = t[t["Target"].str.startswith(rows)]
    t = t[~t["Target"].str.startswith(exclude)] if exclude else t
    assert len(t), (section, tolerance, rows)
    return tuple(t["This cohort"])


def _hr(run, fitter=survival.cause_specific_cox, model="Model 4", cause=1, terms=("mg_low", "mg_high"), extra=()):
    fit = fitter(run.analysed, DURATION, EVENT, [*models.covariates(model), *extra], cause=cause)
    return tuple(round(float(fit.at[t, "hr"]), 6) for t in terms)


def _rates(run):
    rates = survival.incidence_rate(run.analysed, DURATION, EVENT, group="mg_group")
    return tuple(rates["rate"].round(6))


def _interaction(run):
    test = subgroups.interaction_test(run.analysed, DURATION, EVENT, models.covariates("Model 4"), models.EXPOSURE,
                                      "diabetes")
    return round(test.pvalue, 6)


def _progression_or(run):
    part = cohort.progression_set(run.analysed, "cac")
    fit = models.fit_logistic_models(part, "cac_progression", models={"Model 4": models.MODEL_4},
                                     extra=models.progression_extra(run.analysed, "cac"))
    return round(float(fit.loc[fit["term"] == "mg_low", "or"].iloc[0]), 6)


def _marker_hr(run):
    data = beyond.marker_terms(run.analysed)
    fit = survival.cause_specific_cox(data, DURATION, EVENT, [*beyond.MODEL_4, "log2_ipth", "vitd25_per_10", "log2_hscrp"])
    return tuple(fit.loc[["log2_ipth", "vitd25_per_10", "log2_hscrp"], "hr"].round(6))


def _imputation(run):
    table = beyond.marker_analyses(run.analysed, 2, seed=1).table
    row = table[(table["analysis"].str.contains("imputation")) & (table["term"] == "mg_low")]
    return round(float(row["hr"].iloc[0]), 6)


def _standardized(run):
    risks = beyond.standardized_risks(run.analysed, [5], params_mod.load()["mg_cutpoints"])
    return tuple(risks["estimate"].round(8))


def _vsmc_marks(run):
    """The marks of the comparisons the thesis's figures print (the generator's declared pairs)."""
    tests = vsmc.comparisons(vsmc.ratios(run.vsmc), full=False).set_index(["outcome", "day", "arm", "against"])
    return tuple(tests.at[(*where, *pair), "mark"] for spec in synthetic_vsmc.DESIGN.values()
                 for where, pairs in spec["marks"].items() for pair in pairs)


STATISTICS = {
    "flow": lambda r: _cells(r, "Flow"),
    "baseline_counts": lambda r: _cells(r, "Table 2.2.1", "exact"),
    "baseline_quartiles": lambda r: _cells(r, "Table 2.2.1", "5% or 0.1", exclude=FREE_ROWS),
    "baseline_trend": lambda r: _cells(r, "Table 2.2.1", "same side of 0.05", exclude=FREE_ROWS),
    "pulse_pressure": lambda r: _cells(r, "Table 2.2.1", "5% or 0.1", rows="Pulse pressure"),
    "baseline_free": lambda r: (_cells(r, "Table 2.2.1", "same side of 0.05", rows=FREE_ROWS)
                                + _cells(r, "Table 2.2.1", "5% or 0.1", rows="Mean PWV")),
    "events": lambda r: _cells(r, "Outcomes", "exact"),
    "person_years": lambda r: round(float(r.analysed[DURATION].sum()), 4),
    "rates": _rates,
    "cs_model4": _hr,
    "fg_model4": lambda r: _hr(r, survival.fine_gray),
    "models_1_3": lambda r: tuple(_hr(r, model=m)[0] for m in ("Model 1", "Model 2", "Model 3")),
    "step": lambda r: _per_tenth(r),
    "competing": lambda r: _hr(r, cause=2),
    "proportional_hazards": lambda r: round(float(survival.proportional_hazards_test(
        r.analysed, DURATION, EVENT, models.covariates("Model 4")).table.at["GLOBAL", "p"]), 6),
    "proportional_subdistribution": lambda r: round(fine_gray_time_interaction(
        r.analysed, DURATION, EVENT, models.covariates("Model 4"), ["mg_low"]).pvalue, 6),
    "no_interaction": _interaction,
    "progression_counts": lambda r: _cells(r, "Progression"),
    "progression_or": _progression_or,
    "standardized": _standardized,
    "markers": _marker_hr,
    "imputation": _imputation,
    "evalue": lambda r: round(float(beyond.e_values(r.analysed).table["e_point"].iloc[-1]), 6),
    "vsmc_marks": _vsmc_marks,
}


def _per_tenth(run):
    fit = survival.cause_specific_cox(run.analysed, DURATION, EVENT, ["mg_tenths", *models.MODEL_4])
    return round(float(fit.at["mg_tenths", "hr"]), 6)


def _inside(run, section, rows=None, tolerance=None):
    t = run.table[run.table["Section"] == section]
    t = t[t["Target"].str.startswith(rows)] if rows else t
    t = t[t["Tolerance"] == tolerance] if tolerance else t
    return bool(t["Within tolerance"].all())


BOUNDS = {  # constrained results: the interval each must stay inside, under every seed
    "person_years": lambda r: _inside(r, "Outcomes", "Person-years"),
    "rates": lambda r: _inside(r, "Outcomes", "Person-years"),  # bounded through the events and person-years
    "cs_model4": lambda r: _inside(r, "Hazard ratios", "Model 4 cause-specific"),
    "fg_model4": lambda r: _inside(r, "Hazard ratios", "Model 4 Fine–Gray"),
    "pulse_pressure": lambda r: _inside(r, "Table 2.2.1", "Pulse pressure", "5% or 0.1"),
    "evalue": lambda r: _inside(r, "Hazard ratios", "Model 4 cause-specific"),
}


def contradiction(status: str, key: str, runs) -> str:
    """Why ``status`` does not describe how the generator makes ``key`` (empty when it does)."""
    a, b = (STATISTICS[key](r) for r in runs)
    if status == "fixed" and a != b:
        return f"{key} is declared fixed but changes with the generator's seed: {a} against {b}"
    if status != "fixed" and a == b:
        return f"{key} is declared {status} but is the same under another seed of the generator: it is fixed"
    if status == "constrained" and not all(BOUNDS[key](r) for r in runs):
        return f"{key} is declared constrained but leaves its interval under another seed"
    return ""


# --- the tests --------------------------------------------------------------------------------------------

def test_every_declared_result_has_a_statistic_here():
    declared = set(published.design_results()["key"])
    assert declared == set(STATISTICS), declared ^ set(STATISTICS)
    constrained = set(published.design_results().query("status == 'constrained'")["key"])
    assert constrained <= set(BOUNDS)


@pytest.mark.parametrize("key", list(published.design_results()["key"]))
def test_the_label_matches_the_generator(runs, key):
    assert contradiction(published.design_status(key), key, runs) == ""


@pytest.mark.parametrize("key, wrong", [("baseline_trend", "free"), ("baseline_free", "fixed"),
                                        ("rates", "fixed"), ("events", "planted")])
def test_a_wrong_label_is_caught(runs, key, wrong):
    """The P for trend once read 'free' although the generator fixes it; the check would say so."""
    assert contradiction(wrong, key, runs) != ""
