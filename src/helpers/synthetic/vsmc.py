"""Seeded, illustrative replicates of the cell-culture experiments (thesis chapter 3), ``data/vsmc.csv``.

The thesis prints no raw values, only figures with means ± SEM and significance marks. These replicates
are illustrative: drawn so that the thesis's described pattern and marks come out of the same t-tests it
used, and labelled as such wherever they show. For each experiment, arm means (relative to control, or
calcium content in µg/mg protein) and a coefficient of variation are stated below; replicate values are
log-normal around them; band intensities are built so that the ratios come out as drawn (β-actin around
1, total protein around 1). For each experiment the draws come from a fixed sequence (children of
``numpy.random.SeedSequence(SEED)``), and the first whose Student-t marks equal the thesis's is kept.

Marks required (thesis Figures 3.2.3–3.2.7; * against control, # against phosphate):
- calcium, day 7 (5 replicates): phosphate *** ; 1 and 2 mM Mg at least ** against control, ### against phosphate.
- RUNX2/β-actin, day 14 (4): phosphate * ; 1 and 2 mM Mg # .
- p-IκBα/IκBα/β-actin, day 14 (4): phosphate * ; 1 mM Mg # ; 2 mM Mg ## .
- p-p65/p65/β-actin, day 14 (4): phosphate not significant (a trend) ; 1 and 2 mM Mg # .
- p-p65/p65/β-actin over time, 2 mM Mg (4): day 2 phosphate * and Mg # ; days 5 and 8 no mark (highest at day 2).
"""

import numpy as np
import pandas as pd

from helpers import paths
from helpers.analysis import vsmc

SEED = 20210401
MAX_ATTEMPTS = 5000
CTL, PI, MG1, MG2 = vsmc.TREATMENTS

# experiment: days, replicates per arm, CV, {outcome: {day: {arm: mean}}}, required marks
DESIGN = {
    "calcium": {
        "n": 5, "cv": 0.18, "unit": "µg/mg protein",
        "means": {"Calcium content": {7: {CTL: 1.2, PI: 9.5, MG1: 4.6, MG2: 3.0}}},
        "marks": {("Calcium content", 7): {(PI, CTL): {"***"}, (MG1, CTL): {"**", "***"}, (MG2, CTL): {"**", "***"},
                                            (MG1, PI): {"###"}, (MG2, PI): {"###"}}},
    },
    "runx2": {
        "n": 4, "cv": 0.22, "unit": "a.u.",
        "means": {"RUNX2/β-actin": {14: {CTL: 1.0, PI: 1.9, MG1: 1.2, MG2: 1.1}}},
        "marks": {("RUNX2/β-actin", 14): {(PI, CTL): {"*"}, (MG1, PI): {"#"}, (MG2, PI): {"#"}}},
    },
    "nfkb": {
        "n": 4, "cv": 0.2, "unit": "a.u.",
        "means": {"p-IκBα/IκBα/β-actin": {14: {CTL: 1.0, PI: 1.85, MG1: 1.15, MG2: 0.95}},
                  "p-p65/p65/β-actin": {14: {CTL: 1.0, PI: 1.35, MG1: 0.9, MG2: 0.85}}},
        "marks": {("p-IκBα/IκBα/β-actin", 14): {(PI, CTL): {"*"}, (MG1, PI): {"#"}, (MG2, PI): {"##"}},
                  ("p-p65/p65/β-actin", 14): {(PI, CTL): {""}, (MG1, PI): {"#"}, (MG2, PI): {"#"}}},
    },
    "nfkb_time": {
        "n": 4, "cv": 0.2, "unit": "a.u.",
        "means": {"p-p65/p65/β-actin": {2: {CTL: 1.0, PI: 2.1, MG2: 1.3}, 5: {CTL: 1.0, PI: 1.4, MG2: 1.2},
                                        8: {CTL: 1.0, PI: 1.15, MG2: 1.05}}},
        "marks": {("p-p65/p65/β-actin", 2): {(PI, CTL): {"*"}, (MG2, PI): {"#"}},
                  ("p-p65/p65/β-actin", 5): {(PI, CTL): {""}, (MG2, PI): {""}},
                  ("p-p65/p65/β-actin", 8): {(PI, CTL): {""}, (MG2, PI): {""}}},
    },
}


def _lognormal(rng, mean, cv, n):
    sigma = np.sqrt(np.log(1 + cv**2))
    return mean * np.exp(rng.normal(-sigma**2 / 2, sigma, n))


def _draw(rng, experiment, spec):
    """Rows (experiment, day, treatment, replicate, quantity, value, unit) for one draw of an experiment."""
    rows = []
    for outcome, by_day in spec["means"].items():
        for day, arms in by_day.items():
            for arm, mean in arms.items():
                ratio = _lognormal(rng, mean, spec["cv"], spec["n"])
                actin = rng.normal(1.0, 0.06, spec["n"])
                total = rng.normal(1.0, 0.08, spec["n"])
                for r in range(spec["n"]):
                    base = (experiment, day, arm, r + 1)
                    if experiment == "calcium":
                        rows.append((*base, "calcium", ratio[r], spec["unit"]))
                    elif outcome.startswith("RUNX2"):
                        rows += [(*base, "runx2", ratio[r] * actin[r], "a.u."), (*base, "beta_actin", actin[r], "a.u.")]
                    else:
                        phospho, tot = ("p_ikba", "ikba") if "IκBα" in outcome else ("p_p65", "p65")
                        rows += [(*base, phospho, ratio[r] * total[r] * actin[r], "a.u."), (*base, tot, total[r], "a.u.")]
                        if not any(q[4] == "beta_actin" and q[:4] == base for q in rows):
                            rows.append((*base, "beta_actin", actin[r], "a.u."))
    return pd.DataFrame(rows, columns=["experiment", "day", "treatment", "replicate", "quantity", "value", "unit"])


def _marks_match(frame, spec) -> bool:
    tests = vsmc.comparisons(vsmc.ratios(frame), full=False)
    for (outcome, day), required in spec["marks"].items():
        part = tests[(tests["outcome"] == outcome) & (tests["day"] == day)].set_index(["arm", "against"])
        for pair, allowed in required.items():
            if part.at[pair, "mark"] not in allowed:
                return False
    return True


def generate(seed: int = SEED) -> pd.DataFrame:
    """All experiments; each the first draw of its own fixed sequence whose marks match the thesis."""
    frames, attempts = [], {}
    for k, (experiment, spec) in enumerate(DESIGN.items()):
        for attempt, child in enumerate(np.random.SeedSequence([seed, k]).spawn(MAX_ATTEMPTS)):
            frame = _draw(np.random.default_rng(child), experiment, spec)
            if _marks_match(frame, spec):
                frames.append(frame)
                attempts[experiment] = attempt
                break
        else:
            raise RuntimeError(f"no draw of {experiment} matched the thesis's marks")
    out = pd.concat(frames, ignore_index=True)
    out["value"] = out["value"].round(4)
    out.attrs["attempts"] = attempts  # which draw of each experiment's sequence was kept
    return out


def write(path=None, seed: int = SEED) -> pd.DataFrame:
    df = generate(seed)
    df.to_csv(paths.resolve(path or paths.DATA / "vsmc.csv"), index=False, lineterminator="\n")
    return df


if __name__ == "__main__":
    frame = write()
    print(f"data/vsmc.csv: {len(frame):,} illustrative replicate measurements (seed {SEED}).")
