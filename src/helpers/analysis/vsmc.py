"""Cell-culture chapter (thesis chapter 3): densitometry ratios and the comparisons behind the marks.

The thesis compares two arms at a time with unpaired two-tailed t-tests (GraphPad Prism): each arm with
control (marked *) and each magnesium arm with phosphate (marked #). Beside that test this module gives
what a reader needs to judge it with three to six replicates per arm: Welch's test (no equal-variance
assumption), Holm's adjustment across the comparisons of one figure, and Hedges' g with its 95% CI.
Checked against R in ``tests/test_vsmc.py`` (``t.test``, ``p.adjust``).
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pingouin as pg
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

CONTROL, PHOSPHATE = "control", "phosphate"
MG_ARMS = ("phosphate + 1 mM MgCl2", "phosphate + 2 mM MgCl2")
TREATMENTS = (CONTROL, PHOSPHATE, *MG_ARMS)
SHORT = {CONTROL: "CTL", PHOSPHATE: "Pi", MG_ARMS[0]: "Pi + 1 mM Mg", MG_ARMS[1]: "Pi + 2 mM Mg"}

# Outcome of each experiment: (name, numerator quantities, denominator quantities, normalised to control).
OUTCOMES = {
    "calcium": [("Calcium content", ("calcium",), (), False)],
    "runx2": [("RUNX2/β-actin", ("runx2",), ("beta_actin",), True)],
    "nfkb": [
        ("p-IκBα/IκBα/β-actin", ("p_ikba",), ("ikba", "beta_actin"), True),
        ("p-p65/p65/β-actin", ("p_p65",), ("p65", "beta_actin"), True),
    ],
    "nfkb_time": [("p-p65/p65/β-actin", ("p_p65",), ("p65", "beta_actin"), True)],
}


def ratios(df: pd.DataFrame) -> pd.DataFrame:
    """Per replicate, each experiment's outcome: target / β-actin, or phospho / total / β-actin.

    Densitometry ratios are normalised to the mean of the control arm of the same experiment and day,
    so control averages 1. Calcium content keeps its unit. Returns experiment, day, outcome, treatment,
    replicate, value, unit.
    """
    wide = df.pivot_table(index=["experiment", "day", "treatment", "replicate"], columns="quantity", values="value")
    units = df.groupby(["experiment", "quantity"])["unit"].first()
    frames = []
    for experiment, outcomes in OUTCOMES.items():
        if experiment not in wide.index.get_level_values("experiment"):
            continue
        part = wide.xs(experiment, level="experiment")
        for name, num, den, normalise in outcomes:
            value = part[list(num)].prod(axis=1)
            for q in den:
                value = value / part[q]
            out = value.rename("value").reset_index()
            out["day"] = out["day"].astype(int)
            out.insert(0, "experiment", experiment)
            out.insert(2, "outcome", name)
            if normalise:
                control = out[out["treatment"] == CONTROL].groupby("day")["value"].mean()
                out["value"] = out["value"] / out["day"].map(control)
                out["unit"] = "relative to control"
            else:
                out["unit"] = units.get((experiment, num[0]), "")
            frames.append(out)
    result = pd.concat(frames, ignore_index=True)
    result["treatment"] = pd.Categorical(result["treatment"], categories=list(TREATMENTS), ordered=True)
    return result.sort_values(["experiment", "outcome", "day", "treatment", "replicate"]).reset_index(drop=True)


@dataclass(frozen=True)
class Comparison:
    """Two arms compared: Student's and Welch's t-tests and Hedges' g (95% CI)."""

    student_t: float
    student_p: float
    welch_t: float
    welch_df: float
    welch_p: float
    hedges_g: float
    g_lower: float
    g_upper: float


def hedges_correction(df: float) -> float:
    """Hedges' (1981) exact small-sample factor J(m) = Γ(m/2) / (√(m/2) Γ((m − 1)/2)) on m = n₁ + n₂ − 2
    degrees of freedom, as R's ``metafor::escalc(measure = "SMD")`` (its approximation is 1 − 3/(4m − 1))."""
    return float(np.exp(special.gammaln(df / 2) - 0.5 * np.log(df / 2) - special.gammaln((df - 1) / 2)))


def compare(x, y) -> Comparison:
    """Arm ``x`` against arm ``y``: unpaired two-tailed Student t (equal variances, Prism's default) and
    Welch t (``scipy.stats.ttest_ind``, as R's ``t.test``), and Hedges' g of x − y with its 95% CI:
    pooled-SD d (``pingouin``) × :func:`hedges_correction`, as ``metafor::escalc(measure = "SMD")``; the CI
    is g ± t(0.975, n₁ + n₂ − 2) × √(1/n₁ + 1/n₂ + g²/(2(n₁ + n₂))) (``pingouin.compute_esci``, metafor's
    large-sample variance)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    student = stats.ttest_ind(x, y, equal_var=True)
    welch = stats.ttest_ind(x, y, equal_var=False)
    g = float(pg.compute_effsize(x, y, eftype="cohen")) * hedges_correction(len(x) + len(y) - 2)
    lower, upper = pg.compute_esci(g, len(x), len(y), eftype="hedges", decimals=15)
    return Comparison(float(student.statistic), float(student.pvalue), float(welch.statistic), float(welch.df),
                      float(welch.pvalue), g, float(lower), float(upper))


def marks(p: float, symbol: str) -> str:
    """'***' for P < 0.001, '**' for < 0.01, '*' for < 0.05 (with ``symbol`` in place of *), else ''."""
    if not np.isfinite(p):
        return ""
    return symbol * (3 if p < 0.001 else 2 if p < 0.01 else 1 if p < 0.05 else 0)


def comparisons(values: pd.DataFrame, full: bool = True) -> pd.DataFrame:
    """Every comparison the thesis marks, for each experiment, outcome and day.

    Each arm against control (*), each magnesium arm against phosphate (#). Holm's adjustment runs over
    the comparisons of one experiment and outcome (one figure), across days. Returns one row per
    comparison with n, mean and SEM of both arms, the tests and the marks. ``full=False`` gives only
    Student's test and its mark (what a search over draws needs).
    """
    rows = []
    for (experiment, outcome, day), part in values.groupby(["experiment", "outcome", "day"], sort=False, observed=True):
        arms = {t: g["value"].to_numpy() for t, g in part.groupby("treatment", observed=True)}
        pairs = [(t, CONTROL, "*") for t in (PHOSPHATE, *MG_ARMS) if t in arms and CONTROL in arms]
        pairs += [(t, PHOSPHATE, "#") for t in MG_ARMS if t in arms and PHOSPHATE in arms]
        for arm, reference, symbol in pairs:
            x, y = arms[arm], arms[reference]
            if not full:
                p = float(stats.ttest_ind(x, y, equal_var=True).pvalue)
                rows.append({"experiment": experiment, "outcome": outcome, "day": day, "arm": arm,
                             "against": reference, "student_p": p, "mark": marks(p, symbol)})
                continue
            c = compare(x, y)
            rows.append({
                "experiment": experiment, "outcome": outcome, "day": day, "arm": arm, "against": reference,
                "n arm": len(x), "n against": len(y),
                "mean arm": x.mean(), "SEM arm": stats.sem(x), "mean against": y.mean(), "SEM against": stats.sem(y),
                **c.__dict__, "mark": marks(c.student_p, symbol),
            })
    out = pd.DataFrame(rows)
    if not full:
        return out
    out["holm_p"] = np.nan
    for _, idx in out.groupby(["experiment", "outcome"], sort=False).groups.items():
        out.loc[idx, "holm_p"] = multipletests(out.loc[idx, "student_p"], method="holm")[1]
    out["mark (Holm)"] = [marks(p, "*" if a == CONTROL else "#") for p, a in zip(out["holm_p"], out["against"])]
    return out
