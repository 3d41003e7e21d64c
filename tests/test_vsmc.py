"""Cell-culture statistics against R (tests/golden/vsmc.R: t.test, p.adjust, metafor::escalc), Hedges' g against
a textbook worked example, ratios and marks worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.analysis import vsmc

DATA = pd.read_csv(GOLDEN / "vsmc_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "vsmc.csv", float_precision="round_trip").set_index(["comparison", "quantity"])["value"]
PAIRS = [("phosphate", "control"), ("mg1", "control"), ("mg2", "control"), ("mg1", "phosphate"), ("mg2", "phosphate")]


def _arms(arm, against):
    return DATA.loc[DATA["arm"] == arm, "value"], DATA.loc[DATA["arm"] == against, "value"]


@pytest.mark.parametrize("arm, against", PAIRS)
def test_compare_matches_t_test(arm, against):
    c = vsmc.compare(*_arms(arm, against))
    for quantity in ("student_t", "student_p", "welch_t", "welch_df", "welch_p"):
        assert getattr(c, quantity) == pytest.approx(GOLD[(f"{arm}_vs_{against}", quantity)], rel=1e-8), quantity


# Hedges' g and its standard error against metafor::escalc(measure = "SMD"), to 1e-10 relative.
@pytest.mark.parametrize("arm, against", PAIRS)
def test_hedges_g_and_its_interval_match_metafor(arm, against):
    c = vsmc.compare(*_arms(arm, against))
    key = f"{arm}_vs_{against}"
    assert c.hedges_g == pytest.approx(GOLD[(key, "hedges_g")], rel=1e-10)
    # the 95% CI is g ± t(0.975, n₁ + n₂ − 2) × SE, with metafor's large-sample SE
    assert (c.g_lower + c.g_upper) / 2 == pytest.approx(c.hedges_g, rel=1e-12)
    half = GOLD[(key, "t_quantile")] * GOLD[(key, "hedges_se")]
    assert (c.g_upper - c.g_lower) / 2 == pytest.approx(half, rel=1e-10)


def _sample(mean, sd, n, seed):
    z = np.random.default_rng(seed).normal(size=n)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def test_hedges_g_is_borensteins_worked_example():
    # Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, ch. 4: means 103 and 100,
    # SDs 5.5 and 4.5, 50 per group: d = 0.5970, J = 0.9923, g = 0.5924.
    c = vsmc.compare(_sample(103, 5.5, 50, 1), _sample(100, 4.5, 50, 2))
    assert round(vsmc.hedges_correction(98), 4) == 0.9923 and round(c.hedges_g, 4) == 0.5924


def test_hedges_g_is_invariant_to_units_and_antisymmetric():
    x, y = _arms("phosphate", "control")
    c = vsmc.compare(x, y)
    rescaled = vsmc.compare(10 * np.asarray(x) + 3, 10 * np.asarray(y) + 3)
    swapped = vsmc.compare(y, x)
    assert rescaled.hedges_g == pytest.approx(c.hedges_g, rel=1e-12)
    assert swapped.hedges_g == pytest.approx(-c.hedges_g, rel=1e-12)
    assert (swapped.g_lower, swapped.g_upper) == pytest.approx((-c.g_upper, -c.g_lower), rel=1e-12)


def test_holm_matches_p_adjust():
    values = pd.DataFrame({
        "experiment": "x", "outcome": "y", "day": 7, "replicate": range(len(DATA)),
        "treatment": DATA["arm"].map({"control": "control", "phosphate": "phosphate",
                                      "mg1": vsmc.MG_ARMS[0], "mg2": vsmc.MG_ARMS[1]}),
        "value": DATA["value"],
    })
    out = vsmc.comparisons(values).set_index(["arm", "against"])
    names = {"phosphate": "phosphate", "control": "control", "mg1": vsmc.MG_ARMS[0], "mg2": vsmc.MG_ARMS[1]}
    for arm, against in PAIRS:
        assert out.at[(names[arm], names[against]), "holm_p"] == pytest.approx(GOLD[(f"{arm}_vs_{against}", "holm_p")], rel=1e-8)


def test_marks():
    assert [vsmc.marks(p, "*") for p in (0.0005, 0.005, 0.02, 0.2)] == ["***", "**", "*", ""]
    assert vsmc.marks(0.04, "#") == "#"


def test_ratios_divide_and_normalise_to_control():
    rows = []
    for t, p65, total, actin in (("control", 2.0, 4.0, 1.0), ("control", 3.0, 4.0, 1.0), ("phosphate", 6.0, 4.0, 0.5)):
        rep = len([r for r in rows if r[2] == t]) // 3 + 1
        rows += [("nfkb_time", 2, t, rep, "p_p65", p65), ("nfkb_time", 2, t, rep, "p65", total),
                 ("nfkb_time", 2, t, rep, "beta_actin", actin)]
    df = pd.DataFrame(rows, columns=["experiment", "day", "treatment", "replicate", "quantity", "value"]).assign(unit="a.u.")
    out = vsmc.ratios(df)
    # Control ratios 0.5 and 0.75 (mean 0.625); phosphate 6 / 4 / 0.5 = 3 -> 3 / 0.625 = 4.8.
    assert out.loc[out["treatment"] == "control", "value"].mean() == pytest.approx(1.0)
    assert out.loc[out["treatment"] == "phosphate", "value"].iloc[0] == pytest.approx(4.8)


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("vsmc.R", tmp_path, "vsmc.csv", "vsmc_data.csv", rtol=1e-8)
