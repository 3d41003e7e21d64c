"""Cell-culture statistics against R (tests/golden/vsmc.R), ratios and marks worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.analysis import vsmc

DATA = pd.read_csv(GOLDEN / "vsmc_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "vsmc.csv", float_precision="round_trip").set_index(["comparison", "quantity"])["value"]
PAIRS = [("phosphate", "control"), ("mg1", "control"), ("mg2", "control"), ("mg1", "phosphate"), ("mg2", "phosphate")]


@pytest.mark.parametrize("arm, against", PAIRS)
def test_compare_matches_t_test_and_the_hedges_formula(arm, against):
    x = DATA.loc[DATA["arm"] == arm, "value"]
    y = DATA.loc[DATA["arm"] == against, "value"]
    c = vsmc.compare(x, y)
    key = f"{arm}_vs_{against}"
    for quantity in ("student_t", "student_p", "welch_t", "welch_df", "welch_p", "hedges_g", "g_lower", "g_upper"):
        assert getattr(c, quantity) == pytest.approx(GOLD[(key, quantity)], rel=1e-8), quantity


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
    rerun("vsmc.R", tmp_path, "vsmc.csv", "vsmc_data.csv")
