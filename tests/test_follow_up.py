"""Median follow-up by reverse Kaplan–Meier (helpers.stats.survival.kaplan_meier) against R's quantile(survfit(...))
(tests/golden/follow_up.R), including flat stretches at exactly 0.25, 0.5 and 0.75."""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers.stats import survival

DATA = pd.read_csv(GOLDEN / "follow_up_data.csv", float_precision="round_trip")
GOLD = pd.read_csv(GOLDEN / "follow_up.csv", float_precision="round_trip")


@pytest.mark.parametrize("name", sorted(DATA["dataset"].unique()))
def test_median_follow_up_matches_quantile_survfit(name):
    d = DATA[DATA["dataset"] == name]
    ours = survival.median_follow_up(d, "time", "status", group="group").set_index("group").rename(index={"Overall": "all"})
    gold = GOLD[GOLD["dataset"] == name]
    for g, part in gold.groupby("group"):
        r = part.set_index("prob")["quantile"].astype(float)
        got = ours.loc[g, ["q1", "median", "q3"]].to_numpy(float)
        # Times are data values or midpoints of two: exact up to rounding.
        np.testing.assert_allclose(got, r.loc[[0.25, 0.5, 0.75]].to_numpy(), rtol=1e-12, atol=1e-12)
        assert ours.loc[g, "participants"] == (len(d) if g == "all" else int((d["group"] == g).sum()))


def test_a_flat_stretch_at_one_half_takes_its_midpoint():
    # Ten censored at 1..10: 1 − S reaches 0.5 at 5 and stays until 6.
    d = pd.DataFrame({"t": np.arange(1.0, 11.0), "e": 0})
    assert survival.median_follow_up(d, "t", "e").loc[0, "median"] == 5.5


def test_golden_values_are_what_r_makes(tmp_path):
    # R against R, judged by the tolerance this module states against R
    rerun("follow_up.R", tmp_path, "follow_up.csv", "follow_up_data.csv", rtol=1e-12, atol=1e-12)
