"""The seeded generator of the synthetic cohort, ``data/cohort.csv``.

The thesis's patient data are not public. This generator draws a synthetic twin calibrated to the
aggregates the thesis published. Its targets are read from ``data/published`` (through
``helpers.report.published``, their one reader), and its planted outcome model and the rule that selects
the outcome draw from ``data/published/synthetic_design.yml``, which also declares, for the book, which
results the twin fixes, constrains, plants or leaves free. Derived variables come from
``helpers.analysis.derive``, as in the chapters; ``helpers.report.calibration`` recomputes every target from the written file
and ``tests/test_calibration.py`` requires each to be met. How each part is made (every assumption is
stated here, with its number in the constants below):

- **Flow.** Exactly the thesis's: 2,238 enrolled; 251 without Mg; 340 with Mg ≥ 2.6 mg/dL; 1 without
  follow-up; 1,646 analysed as 37 / 914 / 695; 916 with both CAC scans, 15 of them revascularised; 886
  with baPWV at both visits.
- **Serum Mg** is recorded to 0.1 mg/dL, with fixed counts at each value (``MG_COUNTS``) that give each
  group the median and quartiles of Table 2.2.1.
- **Continuous variables.** Normal scores are drawn from a Gaussian copula with these assumed
  correlations: eGFR with phosphate −0.40, haemoglobin 0.45, intact PTH −0.45, age −0.25, proteinuria
  −0.30; phosphate with intact PTH 0.30; SBP with DBP by group, the value the published quartiles of SBP,
  DBP and pulse pressure imply (0.72, 0.54 and 0.62 from the lowest group up). Only the scores' ranks
  are kept: the i-th smallest value of a variable in a group of n is the target quantile at (i − 0.5)/n
  of a split log-normal through the group's published median and quartiles, clipped to plausible
  bounds (``BOUNDS``; age to the enrolment range 20–75). Medians and quartiles are therefore met by
  construction. Within each group DBP is then re-paired with SBP (both marginals unchanged) by the first
  of a fixed sequence of rank couplings at that correlation whose pulse pressure meets its quartiles.
- **Categorical variables.** The per-group counts of Table 2.2.1, exactly, in random order, with the
  missing values its denominators imply (medications, smoking, calcium score). Diabetic nephropathy is
  given only to patients with diabetes; HbA1c values go preferentially to patients with diabetes (by
  rank, so its marginal is unchanged). Lipid-lowering treatment, absent from Table 2.2.1, is assumed in
  about half of each group.
- **CAC and baPWV.** Baseline CAC categories exactly as Table 2.2.1; scans at 4 years and progression
  (√CAC rise ≥ 2.5; baPWV rise ≥ 10%) in exactly the published numbers of each group.
- **Outcomes** come from a stated model: the composite's cause-specific hazard is ``BASE_COMPOSITE``
  per year times the planted hazard ratios ``HR_GROUP`` (the thesis's Model 4 estimates, 2.53 and 0.93)
  and ``HR_COVARIATE`` (per unit of each Model 4 covariate); the competing kidney outcome's hazard is an
  assumption (``KIDNEY``: 0.035 per year at eGFR 50 and proteinuria 540 mg/day, × 0.96 per eGFR unit,
  × 1.5 per doubling of proteinuria), not a figure of the thesis; loss to follow-up 0.0375 per year;
  enrolment evenly over 2011–2016 and administrative censoring at the end of 2019. Times are whole days.
- **How the outcome draw was chosen.** Attempt k draws outcomes from the k-th child of
  ``numpy.random.SeedSequence(SEED)``. Within an attempt, each Mg group's outcomes are redrawn until its
  number of composite events equals the published one (7, 83, 63): the draw is conditioned on the
  published counts. The first attempt whose person-years lie within 2% of 7,368 and whose Model 4
  hazard ratios for both Mg indicators lie inside the published 95% CIs, by both the cause-specific and
  the Fine–Gray model, is kept. ``SEED`` was fixed before any calibration and never searched; with it the
  first attempt (k = 0) meets the targets.

What the twin cannot do: it matches the printed aggregates it was built to match, by construction, and so says nothing
about whether the thesis's findings are true. Its P values for trend follow from the marginals alone;
the book's data page reports how many fall on the same side of 0.05 as the published ones.
"""

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from helpers import paths
from helpers.analysis import derive, dictionary
from helpers.report import published

SEED = 20240521
GROUPS = published.GROUPS

# Serum Mg in mg/dL: count of patients at each reported value (an assumption that gives each group the
# median and quartiles of Table 2.2.1; the 340 at or above 2.6 mg/dL are spread over 2.6–3.1).
MG_COUNTS = {
    "low": {1.4: 3, 1.5: 4, 1.6: 10, 1.7: 20},  # 37
    "mid": {1.8: 60, 1.9: 100, 2.0: 170, 2.1: 284, 2.2: 300},  # 914
    "high": {2.3: 300, 2.4: 200, 2.5: 195},  # 695
    "excluded_high": {2.6: 150, 2.7: 90, 2.8: 50, 2.9: 25, 3.0: 15, 3.1: 10},  # 340
}
_FLOW = published.flow().set_index("key")["n"]
N_ENROLLED, N_MG_MISSING = int(_FLOW["enrolled"]), int(_FLOW["mg_missing"])

# Decimals each continuous variable is recorded to (an assumption; Table 2.2.1 prints one decimal).
DECIMALS = {
    "age": 0, "egfr": 1, "pwv_baseline": 2, "sbp": 0, "dbp": 0, "bmi": 1, "phosphate": 1, "calcium": 1,
    "alp": 0, "ipth": 1, "vitd25": 1, "tco2": 1, "hemoglobin": 1, "albumin": 1, "total_chol": 0,
    "triglycerides": 0, "hscrp": 2, "hba1c": 1, "proteinuria": 1,
}
# Table 2.2.1: median, first and third quartile by group (total, <1.8, 1.8–2.2, >2.2), read as printed;
# the last entry is the number of decimals recorded.
MARGINALS = {name: (*published.quartiles(name), decimals) for name, decimals in DECIMALS.items()}
# Plausible bounds; values beyond them are clipped (clipping the tails leaves medians and quartiles as they
# are). Age: the cohort enrolled patients aged 20 to 75 years (thesis 2.1.1).
BOUNDS = {
    "age": (20, 75), "egfr": (6, 140), "pwv_baseline": (8, 35), "sbp": (85, 200), "dbp": (45, 120),
    "bmi": (15, 45), "phosphate": (1.5, 9), "calcium": (7, 11.5), "alp": (20, 600), "ipth": (5, 900),
    "vitd25": (3, 80), "tco2": (12, 38), "hemoglobin": (7, 18.5), "albumin": (2.2, 5.4), "total_chol": (70, 400),
    "triglycerides": (30, 1500), "hscrp": (0.01, 60), "hba1c": (4.2, 14), "proteinuria": (10, 20000),
}
MARGINAL_COLUMN = {"total": 0, "low": 1, "mid": 2, "high": 3}

# Assumed correlations of the copula's normal scores (stated in the module docstring).
CORRELATIONS = {
    ("egfr", "phosphate"): -0.40,
    ("egfr", "hemoglobin"): 0.45,
    ("egfr", "ipth"): -0.45,
    ("egfr", "age"): -0.25,
    ("egfr", "proteinuria"): -0.30,
    ("phosphate", "ipth"): 0.30,
    ("sbp", "dbp"): None,  # by group, from the published quartiles: see _sbp_dbp_correlation
}


def _binary(variable, level="1", sizes=None):
    """{level: counts, other: the rest}: a printed row of Table 2.2.1 and its complement in each group."""
    counts = published.group_counts(variable, level)
    sizes = sizes or tuple(published.group_sizes().values())
    return counts, tuple(s - c for s, c in zip(sizes, counts))


def _levels(variable, levels):
    return {level: published.group_counts(variable, level) for level in levels}


def _categorical_counts() -> dict:
    """Counts per group (<1.8, 1.8–2.2, >2.2) of Table 2.2.1; the remainder of a group is missing."""
    male, female = _binary("sex", "M")
    out = {
        "sex": {"M": male, "F": female},
        "ckd_etiology": _levels("ckd_etiology", ("GN", "DN", "HTN", "PKD", "Other")),
        "smoking": _levels("smoking", ("never", "former", "current")),
    }
    for name in ("diabetes", "cvd"):
        yes, no = _binary(name)
        out[name] = {1: yes, 0: no}
    # Medication rows: the denominators are implied by the printed percentages.
    for name in ("diuretic", "vitd_agonist", "phosphate_binder"):
        yes, no = _binary(name, sizes=published.implied_denominators(name))
        out[name] = {1: yes, 0: no}
    # Not in Table 2.2.1 (the thesis uses it only as a CAC covariate): assumed about half of each group.
    out["lipid_lowering"] = {1: (18, 457, 347), 0: (19, 457, 348)}
    return out


CATEGORICAL = _categorical_counts()
# Baseline CAC category counts per group (0; 0 < CAC < 100; ≥ 100), as printed.
CAC_CATEGORIES = dict(zip(GROUPS, zip(*(published.group_counts("cac_category", lv) for lv in ("0", "0–100", "≥100")))))
# Among the analysed: both CAC scans (analysed for progression, revascularised), progressors; PWV the same.
# The 15 revascularised are split 0 / 9 / 6 between the groups (an assumption: the thesis gives the total).
_PROGRESSION = published.progression().set_index(["outcome", "group"])
CAC_REVASCULARISED = {"low": 0, "mid": 9, "high": 6}
CAC_FOLLOWUP = {g: (int(_PROGRESSION.at[("cac", g), "analysed"]), CAC_REVASCULARISED[g],
                    int(_PROGRESSION.at[("cac", g), "progressed"])) for g in GROUPS}
PWV_FOLLOWUP = {g: (int(_PROGRESSION.at[("pwv", g), "analysed"]), int(_PROGRESSION.at[("pwv", g), "progressed"]))
                for g in GROUPS}
PWV_BASELINE_SHARE = 0.95

# Outcome model and selection of the draw: declared in data/published/synthetic_design.yml (see the
# module docstring). Composite (status 1): cause-specific hazard
#   BASE_COMPOSITE × HR_GROUP[group] × Π HR_COVARIATE[c]^(x_c − reference_c)
# Competing kidney outcome (status 2): KIDNEY, an assumed rate. Loss to follow-up LOSS_TO_FOLLOW_UP per year.
_DESIGN = published.design()
_MODEL = _DESIGN["outcome_model"]
CUTPOINTS = tuple(_MODEL["cutpoints"])
HR_GROUP = {"low": float(published.model_hazard(_MODEL["group_hr_from"]["table"], "low", _MODEL["group_hr_from"]["model"])["hr"]),
            "mid": 1.0,
            "high": float(published.model_hazard(_MODEL["group_hr_from"]["table"], "high", _MODEL["group_hr_from"]["model"])["hr"])}
HR_COVARIATE = {name: tuple(v) for name, v in _MODEL["covariate_hr"].items()}
BASE_COMPOSITE = _MODEL["base_composite"]
KIDNEY = dict(_MODEL["kidney"])
LOSS_TO_FOLLOW_UP = _MODEL["loss_to_follow_up"]
STUDY_END = _MODEL["study_end"]
# Targets the outcome draw is conditioned on (thesis 2.2.2, Table 2.2.2).
_INCIDENCE = published.incidence().set_index("group")
EVENTS = {g: int(_INCIDENCE.at[g, "events"]) for g in GROUPS}
PERSON_YEARS = float(_INCIDENCE.at["overall", "person_years"])
PERSON_YEARS_TOLERANCE = _DESIGN["selection"]["person_years_tolerance"]
MAX_ATTEMPTS = _DESIGN["selection"]["max_attempts"]
HAZARD_RATIO_TABLES = tuple(_DESIGN["selection"]["hazard_ratio_tables"])


# Pulse pressure (SBP − DBP) of Table 2.2.1 by group (total, <1.8, 1.8–2.2, >2.2): median, Q1, Q3.
PULSE_PRESSURE = published.quartiles("pulse_pressure")
PAIRING_ATTEMPTS = 500


def _sbp_dbp_correlation(group: str) -> float:
    """The SBP–DBP correlation that the group's published quartiles of SBP, DBP and pulse pressure imply.

    With normal spreads σ = IQR / 1.349: var(SBP − DBP) = σ_S² + σ_D² − 2ρσ_Sσ_D, solved for ρ.
    """
    k = MARGINAL_COLUMN[group]
    iqr = 2 * stats.norm.ppf(0.75)
    s_sbp = (MARGINALS["sbp"][k][2] - MARGINALS["sbp"][k][1]) / iqr
    s_dbp = (MARGINALS["dbp"][k][2] - MARGINALS["dbp"][k][1]) / iqr
    _, low, high = PULSE_PRESSURE[k]
    s_pp = (high - low) / iqr
    return float(np.clip((s_sbp**2 + s_dbp**2 - s_pp**2) / (2 * s_sbp * s_dbp), 0.0, 0.95))


def _pair_blood_pressures(rng, part: pd.DataFrame, group: str) -> pd.DataFrame:
    """Re-pair the group's DBP values with its SBP values so that pulse pressure meets its quartiles.

    Both marginals stay exactly as drawn. DBP goes to patients in the order of a bivariate normal score
    with the group's SBP–DBP correlation; the first of a fixed sequence of such scores whose pulse
    pressure has each published quartile within 5% (or 1 mmHg) is kept.
    """
    rho = _sbp_dbp_correlation(group)
    n = len(part)
    z_sbp = stats.norm.ppf((stats.rankdata(part["sbp"], method="ordinal") - 0.5) / n)
    dbp_sorted = np.sort(part["dbp"].to_numpy())
    target = PULSE_PRESSURE[MARGINAL_COLUMN[group]]
    for _ in range(PAIRING_ATTEMPTS):
        score = rho * z_sbp + np.sqrt(1 - rho**2) * rng.normal(size=n)
        dbp = np.empty(n)
        dbp[np.argsort(score, kind="stable")] = dbp_sorted
        q1, median, q3 = np.quantile(part["sbp"].to_numpy() - dbp, [0.25, 0.5, 0.75])
        if all(abs(got - want) <= max(0.05 * want, 1.0) for got, want in zip((median, q1, q3), target)):
            break
    return part.assign(dbp=dbp)


def _correlation_matrix(names, group="total"):
    corr = np.eye(len(names))
    pos = {n: i for i, n in enumerate(names)}
    for (a, b), r in CORRELATIONS.items():
        r = _sbp_dbp_correlation(group) if (a, b) == ("sbp", "dbp") else r
        corr[pos[a], pos[b]] = corr[pos[b], pos[a]] = r
    np.linalg.cholesky(corr)  # fails loudly if the stated correlations are not a valid matrix
    return corr


def _split_lognormal(z, median, q1, q3):
    """Map standard normal scores to a skewed positive variable with the given median and quartiles."""
    z75 = stats.norm.ppf(0.75)
    lo = (np.log(median) - np.log(q1)) / z75
    hi = (np.log(q3) - np.log(median)) / z75
    return np.exp(np.log(median) + np.where(z < 0, z * lo, z * hi))


def _exact(rng, counts: dict, n: int):
    """A random arrangement of exactly the given counts of each value, padded with missing to length n."""
    values = [v for v, k in counts.items() for _ in range(k)]
    values += [None] * (n - len(values))
    if len(values) != n:
        raise ValueError(f"counts add up to more than {n}")
    return rng.permutation(np.array(values, dtype=object))


def _continuous(rng, group: str, n: int) -> pd.DataFrame:
    """Copula draws whose ranks are kept and whose values are the target quantiles at those ranks.

    Each variable's i-th smallest value is the target quantile at (i − 0.5)/n: the group's median and
    quartiles are reproduced by construction, and the copula's rank correlations are kept.
    """
    names = list(MARGINALS)
    z = rng.multivariate_normal(np.zeros(len(names)), _correlation_matrix(names, group), size=n, method="cholesky")
    scores = stats.norm.ppf((stats.rankdata(z, axis=0, method="ordinal") - 0.5) / n)
    out = {}
    for j, name in enumerate(names):
        median, q1, q3 = MARGINALS[name][MARGINAL_COLUMN[group]]
        values = np.clip(_split_lognormal(scores[:, j], median, q1, q3), *BOUNDS[name])
        out[name] = np.round(values, MARGINALS[name][-1])
    return pd.DataFrame(out)


def _categorical(rng, group: str, n: int) -> pd.DataFrame:
    out = {}
    for name, levels in CATEGORICAL.items():
        if group == "total":
            p = np.array([sum(c) for c in levels.values()], float)
            out[name] = rng.choice(np.array(list(levels), dtype=object), size=n, p=p / p.sum())
        else:
            out[name] = _exact(rng, {v: c[GROUPS.index(group)] for v, c in levels.items()}, n)
    out = pd.DataFrame(out)
    # Diabetic nephropathy needs diabetes: the DN causes go to patients with diabetes, the others to the
    # rest (every group has more patients with diabetes than with DN in Table 2.2.1).
    dm = out["diabetes"].to_numpy() == 1
    causes = out["ckd_etiology"].to_numpy()
    is_dn = causes == "DN"
    if group != "total" and is_dn.sum() <= dm.sum():
        others = rng.permutation(causes[~is_dn])
        slots = rng.permutation(np.flatnonzero(dm))
        dn_slots = slots[: is_dn.sum()]
        rest = np.setdiff1d(np.arange(n), dn_slots)
        new = np.empty(n, dtype=object)
        new[dn_slots] = "DN"
        new[rest] = others
        out["ckd_etiology"] = new
    return out


def _couple(rng, values, score):
    """Reassign ``values`` so that higher values go to higher ``score``; the set of values is unchanged."""
    values = np.sort(np.asarray(values, float))
    order = np.argsort(score + rng.normal(size=len(score)), kind="stable")
    out = np.empty_like(values)
    out[order] = values
    return out


def _cac_scores(rng, categories):
    n = len(categories)
    low = np.round(np.exp(rng.uniform(np.log(1), np.log(99.9), n)), 1)
    high = np.round(np.minimum(100 + np.exp(rng.normal(5.0, 1.2, n)), 15000), 1)
    return np.select([categories == 0, categories == 1], [0.0, low], high)


def _cac_year4(rng, baseline, progress):
    root = np.sqrt(baseline)
    step = np.where(progress, rng.uniform(2.7, 9.0, len(root)), rng.uniform(-0.3, 2.3, len(root)))
    step = np.where(~progress & (root == 0), np.where(rng.random(len(root)) < 0.8, 0.0, rng.uniform(0, 2.3, len(root))), step)
    return np.round(np.maximum(root + step, 0.0) ** 2, 1)


def _flow_layout(rng):
    """Who is where in the flow: Mg value, group and follow-up availability for every enrolled patient."""
    rows = []
    for group in ("low", "mid", "high", "excluded_high"):
        for value, k in MG_COUNTS[group].items():
            rows += [(value, group)] * k
    rows.append((2.4, "no_followup"))  # the one patient lost before any follow-up (Mg below 2.6 mg/dL)
    rows += [(np.nan, "mg_missing")] * N_MG_MISSING
    layout = pd.DataFrame(rows, columns=["mg", "slot"])
    assert len(layout) == N_ENROLLED
    return layout.iloc[rng.permutation(len(layout))].reset_index(drop=True)


def _model_frame(df) -> pd.DataFrame:
    """The generated columns with the derived variables of ``helpers.analysis.derive`` (at the planted cut-points)."""
    d = derive.add_derived(df, CUTPOINTS)
    d["diabetes"] = pd.to_numeric(d["diabetes"])
    return d


def _hazards(df):
    """Composite and kidney hazards per year for each patient, from the stated outcome model."""
    d = _model_frame(df)
    log_hr = sum(np.log(hr) * (d[c].to_numpy(float) - ref) for c, (hr, ref) in HR_COVARIATE.items())
    composite = BASE_COMPOSITE * np.exp(log_hr)
    kidney = (
        KIDNEY["base"] * KIDNEY["egfr"] ** (d["egfr"].to_numpy(float) - 50.0)
        * KIDNEY["proteinuria_doubling"] ** np.log2(d["proteinuria"].to_numpy(float) / 540.0)
    )
    return composite, kidney


def _draw(rng, composite, kidney, group_hr):
    """One draw of follow-up (years, to whole days) and status for the given patients."""
    n = len(composite)
    potential = STUDY_END - rng.uniform(2011.0, 2016.0, n)
    t1 = rng.exponential(1.0 / (composite * group_hr))
    t2 = rng.exponential(1.0 / kidney)
    t3 = rng.exponential(1.0 / LOSS_TO_FOLLOW_UP, n)
    time = np.minimum.reduce([t1, t2, t3, potential])
    status = np.select([time == t1, time == t2], [1, 2], 0)
    days = np.maximum(np.round(time * 365.25), 1)
    return np.round(days / 365.25, 4), status


def _outcomes(seed, df, slot):
    """Follow-up and status for every patient; see :func:`generate` for how the draw is conditioned."""
    composite, kidney = _hazards(df)
    group_hr = np.array([HR_GROUP.get(s, 1.0) for s in slot])
    for attempt, child in enumerate(np.random.SeedSequence(seed).spawn(MAX_ATTEMPTS)):
        rng = np.random.default_rng(child)
        time, status = _draw(rng, composite, kidney, group_hr)
        for group, target in EVENTS.items():
            rows = np.flatnonzero(slot == group)
            while int((status[rows] == 1).sum()) != target:  # condition on the published count
                time[rows], status[rows] = _draw(rng, composite[rows], kidney[rows], group_hr[rows])
        analysed = np.isin(slot, GROUPS)
        years = time[analysed].sum()
        if abs(years / PERSON_YEARS - 1.0) > PERSON_YEARS_TOLERANCE:
            continue
        if _hazard_ratios_inside(df, time, status, slot):
            return time, status, attempt
    raise RuntimeError(f"no outcome draw met the targets in {MAX_ATTEMPTS} attempts")


def _hazard_ratios_inside(df, time, status, slot) -> bool:
    """Do the Model 4 hazard ratios of both Mg indicators lie inside the thesis's 95% CIs, by both models?"""
    from helpers.analysis import models
    from helpers.stats import survival

    analysed = np.isin(slot, GROUPS)
    d = _model_frame(df[analysed]).assign(followup_years=time[analysed], status=status[analysed])
    covariates = models.covariates("Model 4")
    fitters = dict(zip(HAZARD_RATIO_TABLES, (survival.cause_specific_cox, survival.fine_gray)))
    for table, fitter in fitters.items():
        fit = fitter(d, "followup_years", "status", covariates)
        for term, group in (("mg_low", "low"), ("mg_high", "high")):
            row = published.model_hazard(table, group)
            if not row["lower"] <= fit.at[term, "hr"] <= row["upper"]:
                return False
    return True


def generate(seed: int = SEED) -> pd.DataFrame:
    """Draw the synthetic cohort: one row per enrolled patient, in the columns of the data dictionary."""
    rng = np.random.default_rng(seed)
    layout = _flow_layout(rng)
    parts = []
    for slot, idx in layout.groupby("slot", sort=True).groups.items():
        group = slot if slot in GROUPS else "total"
        n = len(idx)
        part = pd.concat([_continuous(rng, group, n), _categorical(rng, group, n)], axis=1)
        part.index = idx
        part["hba1c"] = _couple(rng, part["hba1c"], 1.5 * pd.to_numeric(part["diabetes"]).fillna(0).to_numpy(float))
        if group in GROUPS:
            part = _pair_blood_pressures(rng, part, group)
        part = _follow_up_measurements(rng, part, group if group in GROUPS else None)
        parts.append(part)
    df = pd.concat(parts).sort_index()
    df["mg"] = layout["mg"]
    df["followup_years"], df["status"], attempt = _outcomes(seed, df, layout["slot"].to_numpy())
    df.attrs["outcome_attempt"] = attempt
    lost = layout["slot"] == "no_followup"
    df.loc[lost, "followup_years"] = np.nan
    df["status"] = df["status"].astype("Int64")
    df.loc[lost, "status"] = pd.NA
    df.insert(0, "patient_id", [f"SYN{i:05d}" for i in range(1, len(df) + 1)])
    columns = [c for c in dictionary.inputs().index if c in df.columns]  # creatinine is not generated: eGFR is
    return df[columns]


def _follow_up_measurements(rng, part, group):
    """CAC and baPWV at baseline and at 4 years, and revascularisation between the scans."""
    n = len(part)
    if group is None:  # not analysed: plausible values, no exact counts to meet
        cats = rng.choice([0, 1, 2], size=n, p=[0.496, 0.275, 0.229])
        part["cac_baseline"] = np.where(rng.random(n) < 0.95, _cac_scores(rng, cats), np.nan)
        have = ~np.isnan(part["cac_baseline"].to_numpy()) & (rng.random(n) < 0.55)
        part["cac_year4"] = np.where(have, _cac_year4(rng, np.nan_to_num(part["cac_baseline"].to_numpy()), rng.random(n) < 0.33), np.nan)
        part["revasc_by_year4"] = np.where(have, (rng.random(n) < 0.016).astype(float), np.nan)
        part["pwv_baseline"] = np.where(rng.random(n) < PWV_BASELINE_SHARE, part["pwv_baseline"], np.nan)
        have = ~np.isnan(part["pwv_baseline"].to_numpy()) & (rng.random(n) < 0.55)
        part["pwv_year4"] = np.where(have, np.round(part["pwv_baseline"] * rng.uniform(0.85, 1.35, n), 2), np.nan)
        return part
    # CAC: exact baseline categories, then both scans for the first kept + revascularised of those measured.
    cats = _exact(rng, {0: CAC_CATEGORIES[group][0], 1: CAC_CATEGORIES[group][1], 2: CAC_CATEGORIES[group][2]}, n)
    measured = np.flatnonzero(pd.notna(cats))
    base = np.full(n, np.nan)
    base[measured] = _cac_scores(rng, cats[measured].astype(int))
    kept, revasc, progressors = CAC_FOLLOWUP[group]
    chosen = rng.choice(measured, size=kept + revasc, replace=False)
    progress = np.zeros(n, bool)
    progress[chosen[:progressors]] = True
    year4 = np.full(n, np.nan)
    year4[chosen] = _cac_year4(rng, base[chosen], progress[chosen])
    rv = np.full(n, np.nan)
    rv[chosen] = 0.0
    rv[chosen[kept:]] = 1.0
    part["cac_baseline"], part["cac_year4"], part["revasc_by_year4"] = base, year4, rv
    # baPWV: baseline for most, both for the published count, progressors exactly.
    pwv0 = part["pwv_baseline"].to_numpy(float).copy()
    both, prog = PWV_FOLLOWUP[group]
    chosen = rng.choice(n, size=both, replace=False)
    missing_base = np.setdiff1d(np.arange(n), chosen)
    n_missing = int(round((1 - PWV_BASELINE_SHARE) * n))
    pwv0[rng.choice(missing_base, size=min(n_missing, len(missing_base)), replace=False)] = np.nan
    rise = np.where(np.arange(both) < prog, rng.uniform(0.12, 0.40, both), rng.uniform(-0.15, 0.08, both))
    pwv1 = np.full(n, np.nan)
    pwv1[chosen] = np.round(pwv0[chosen] * (1 + rise), 2)
    part["pwv_baseline"], part["pwv_year4"] = pwv0, pwv1
    return part


def write(path=None, seed: int = SEED) -> pd.DataFrame:
    """Generate the cohort and write it as CSV (default ``data/cohort.csv``)."""
    df = generate(seed)
    df.to_csv(paths.resolve(path or paths.DATA / "cohort.csv"), index=False, lineterminator="\n")
    return df


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.synthetic.cohort", description="Write the synthetic cohort.")
    parser.add_argument("--out", default=str(paths.DATA / "cohort.csv"))
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    df = write(args.out, args.seed)
    print(f"{paths.shown(args.out)}: {len(df):,} synthetic patients (seed {args.seed}).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
