"""Derived variables. They are computed here from the input columns and never read from input."""

import numpy as np
import pandas as pd

# Serum magnesium: 1 mmol/L = 2.431 mg/dL (molar mass 24.305 g/mol); 1 mEq/L = 0.5 mmol/L = 1.2155 mg/dL.
MG_UNIT_FACTORS = {"mg/dL": 1.0, "mmol/L": 2.431, "mEq/L": 1.2155}
# Laboratory columns whose unit differs between countries (parameter lab_units): the other unit each may be
# given in, and the factor that converts it into the data dictionary's unit.
LAB_UNITS = {
    "phosphate": ("mmol/L", 3.097),  # mg/dL; P 30.97 g/mol
    "calcium": ("mmol/L", 4.008),  # mg/dL; Ca 40.08 g/mol
    "albumin": ("g/L", 0.1),  # g/dL
    "hemoglobin": ("g/L", 0.1),  # g/dL
    "total_chol": ("mmol/L", 38.67),  # mg/dL
    "triglycerides": ("mmol/L", 88.57),  # mg/dL
    "creatinine": ("µmol/L", 1 / 88.42),  # mg/dL
    "proteinuria": ("g/day", 1000.0),  # mg/day
    "hscrp": ("mg/dL", 10.0),  # mg/L
    "ipth": ("pmol/L", 9.43),  # pg/mL; PTH(1-84) 9,425 g/mol
    "vitd25": ("nmol/L", 1 / 2.496),  # ng/mL; 25-OH vitamin D 400.6 g/mol
}


def mg_to_mgdl(values, unit: str):
    """Serum magnesium in mg/dL from values in ``unit`` (mg/dL, mmol/L or mEq/L)."""
    return values * MG_UNIT_FACTORS[unit]


def ckd_epi_2009(creatinine, age, sex):
    """eGFR (mL/min/1.73 m²) by the CKD-EPI 2009 creatinine equation (Levey et al., Ann Intern Med 2009).

    141 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.209 × 0.993^age × 1.018 if female, with κ = 0.7 (F) or 0.9
    (M) and α = −0.329 (F) or −0.411 (M); Scr is IDMS-traceable serum creatinine in mg/dL, age in years,
    sex 'M' or 'F'. The race coefficient (1.159) is not applied: the data carry no race, and the thesis's
    cohort is Korean.
    """
    scr = np.asarray(creatinine, float)
    female = np.asarray(sex) == "F"
    kappa = np.where(female, 0.7, 0.9)
    alpha = np.where(female, -0.329, -0.411)
    ratio = scr / kappa
    egfr = 141.0 * np.minimum(ratio, 1.0) ** alpha * np.maximum(ratio, 1.0) ** -1.209 * 0.993 ** np.asarray(age, float)
    return np.where(female, egfr * 1.018, egfr)


def mg_group_labels(cutpoints) -> list[str]:
    """Labels of the three Mg groups, low to high, for cut-points in mg/dL: ['<1.8', '1.8–2.2', '>2.2']."""
    low, high = cutpoints
    return [f"<{low:g}", f"{low:g}–{high:g}", f">{high:g}"]


def mg_group(mg: pd.Series, cutpoints) -> pd.Series:
    """Ordered Mg group: below the lower cut-point, between the two inclusive, above the upper (thesis 2.1.1).

    ``mg`` and ``cutpoints`` are in mg/dL. Values are compared after rounding to 1e-9 mg/dL so that a value
    converted from another unit and landing on a cut-point up to floating-point error counts as on it.
    """
    low, high = cutpoints
    x = mg.round(9)
    codes = np.select([x < low, x <= high, x > high], [0, 1, 2], default=-1)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=mg_group_labels(cutpoints), ordered=True), index=mg.index
    )


def corrected_calcium(calcium, albumin):
    """Albumin-corrected calcium, mg/dL: calcium + 0.8 × (4 − albumin) when albumin < 4.0 g/dL (thesis 2.1.2).

    Calcium in mg/dL, albumin in g/dL. Where albumin is at least 4.0 g/dL the measured calcium is kept.
    """
    calcium, albumin = np.asarray(calcium, float), np.asarray(albumin, float)
    return np.where(albumin < 4.0, calcium + 0.8 * (4.0 - albumin), calcium)


def mean_arterial_pressure(sbp, dbp, weight=None):
    """Mean arterial pressure, mmHg: DBP + (SBP − DBP) / 3 (``weight`` the share of the pulse pressure;
    the thesis names no formula, and 0.412 is the alternative of Meaney et al. 2000)."""
    return dbp + (sbp - dbp) / 3.0 if weight is None else dbp + (sbp - dbp) * weight


def pulse_pressure(sbp, dbp):
    """Pulse pressure, mmHg: SBP − DBP."""
    return sbp - dbp


def cac_progression(cac_baseline, cac_year4, threshold: float = 2.5):
    """CAC progression: √(CAC at 4 years) − √(CAC at baseline) ≥ 2.5 (thesis 2.1.5, after Hokanson 2004).

    Scores in Agatston units. Missing where either score is missing (float 1.0/0.0/NaN).
    """
    base, year4 = np.asarray(cac_baseline, float), np.asarray(cac_year4, float)
    with np.errstate(invalid="ignore"):
        flag = (np.sqrt(year4) - np.sqrt(base) >= threshold - 1e-12).astype(float)
    flag[np.isnan(base) | np.isnan(year4)] = np.nan
    return flag


def pwv_progression(pwv_baseline, pwv_year4, rise: float = 0.10):
    """Arterial stiffness progression: mean baPWV at 4 years at least 10% above baseline (thesis 2.1.5).

    Velocities in m/s. Missing where either measurement is missing (float 1.0/0.0/NaN).
    """
    base, year4 = np.asarray(pwv_baseline, float), np.asarray(pwv_year4, float)
    with np.errstate(invalid="ignore"):
        flag = ((year4 - base) / base >= rise - 1e-12).astype(float)
    flag[np.isnan(base) | np.isnan(year4)] = np.nan
    return flag


CAC_CATEGORIES = ["0", "0–100", "≥100"]


def cac_category(cac_baseline) -> pd.Series:
    """Baseline CAC category (thesis Table 2.2.1): '0', '0–100' (above 0, below 100) or '≥100' Agatston units."""
    cac = pd.Series(cac_baseline, dtype=float)
    codes = np.select([cac == 0, (cac > 0) & (cac < 100), cac >= 100], [0, 1, 2], default=-1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=CAC_CATEGORIES, ordered=True), index=cac.index)


def add_derived(df: pd.DataFrame, cutpoints) -> pd.DataFrame:
    """A copy of a validated cohort (Mg in mg/dL) with every derived variable of the data dictionary."""
    from helpers.analysis import dictionary

    out = df.copy()
    for column in dictionary.inputs().index:  # optional inputs that are absent become empty columns
        if column not in out.columns:
            out[column] = np.nan
    out["mg_group"] = mg_group(out["mg"], cutpoints)
    low, _, high = mg_group_labels(cutpoints)
    out["mg_low"] = (out["mg_group"] == low).astype(float).where(out["mg_group"].notna())
    out["mg_high"] = (out["mg_group"] == high).astype(float).where(out["mg_group"].notna())
    out["mg_tenths"] = out["mg"] * 10.0  # so that a hazard ratio reads per 0.1 mg/dL
    out["male"] = (out["sex"] == "M").astype(float).where(out["sex"].notna())
    out["corrected_calcium"] = corrected_calcium(out["calcium"], out["albumin"])
    out["map"] = mean_arterial_pressure(out["sbp"], out["dbp"])
    out["pulse_pressure"] = pulse_pressure(out["sbp"], out["dbp"])
    out["cac_category"] = cac_category(out["cac_baseline"])
    out["log_cac_baseline"] = np.log1p(out["cac_baseline"])
    out["log2_proteinuria"] = np.log2(1.0 + out["proteinuria"])
    out["cac_progression"] = cac_progression(out["cac_baseline"], out["cac_year4"])
    out["pwv_progression"] = pwv_progression(out["pwv_baseline"], out["pwv_year4"])
    return out
