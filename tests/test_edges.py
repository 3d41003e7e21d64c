"""Agreement with R at the edges: a group level without an event of one cause (golden values made by
tests/golden/edges.R on R's pbc data, grouped by edema, whose edema = 1 level has no transplant).

- ``riskRegression::ate`` on ``CSC`` estimates every level's standardized risks there (the competing
  hazard of that level is 0); so does ``helpers.stats.standardized.standardized_risk``.
- ``survival::coxph`` prints a large arbitrary coefficient for the level without events; the book shows it
  as not estimable, and every finite coefficient equals R's.
- ``survival::coxph`` gives NA to an indicator of a level without patients (0 for everyone) and estimates
  the others; the book says "no patient in the group" and its other ratios equal R's.
"""

import numpy as np
import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers import survival
from helpers.analysis import models
from helpers.stats import survival as survival_stats
from helpers.stats.standardized import standardized_risk

GOLD = pd.read_csv(GOLDEN / "edges.csv", float_precision="round_trip")
DATA = pd.read_csv(GOLDEN / "edges_pbc.csv")
COVARIATES = ["age", "logbili", "albumin"]


def _pbc():
    d = DATA.copy()
    d["edema"] = d["edema"].map(lambda v: f"{v:g}")
    return d


@pytest.mark.parametrize("cause", [2, 1])
def test_standardized_risks_with_a_level_without_competing_events_equal_ate(cause):
    assert not ((DATA["edema"] == 1) & (DATA["status"] == 1)).any()  # the edge itself
    ours = standardized_risk(_pbc(), "time", "status", "edema", COVARIATES, [2, 5], cause=cause, reference="0")
    gold = GOLD[GOLD["case"] == f"pbc_edema_cause{cause}"].astype({"time": float})
    both = ours.merge(gold, on=["time", "group", "kind"], suffixes=("", "_r"))
    assert len(both) == len(gold) == 10
    # Tolerances: 1e-8 absolute on risks and differences, 1e-7 on standard errors (R stops the infinite
    # coefficient at about −17, leaving that level a hazard of about 1e−10 where ours is exactly 0).
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=0, atol=1e-7)


def test_a_coefficient_of_a_level_without_events_is_not_estimable_and_the_rest_equal_coxph():
    d = DATA.assign(edema05=(DATA["edema"] == 0.5).astype(float), edema1=(DATA["edema"] == 1).astype(float))
    exposure = ["edema05", "edema1"]
    with np.errstate(over="ignore"):
        fitted = survival_stats.fit_cox(d, "time", "status", [*exposure, *COVARIATES], cause=1)
        fit = survival.cause_specific_cox(d, "time", "status", [*exposure, *COVARIATES], cause=1)
    cells = models.contrast_cells(d, ["time", "status", *exposure, *COVARIATES], d["status"] == 1, exposure)
    assert models.not_estimable(fitted, cells["edema1"], "edema1") == "not estimable: no event in the group"
    assert models.not_estimable(fitted, cells["edema05"], "edema05") == ""
    assert fit.attrs["infinite"] == list(fitted.infinite) == ["edema1"]  # the public table names it too
    gold = GOLD[GOLD["case"] == "coxph_zero_level"].set_index("group")
    finite = ["edema05", *COVARIATES]
    # coxph's convergence criterion (relative change of the log likelihood 1e-9) leaves ~1e-6 on these.
    np.testing.assert_allclose(fit.loc[finite, "coef"], gold.loc[finite, "estimate"], rtol=0, atol=2e-6)
    np.testing.assert_allclose(fit.loc[finite, "se"], gold.loc[finite, "se"], rtol=0, atol=2e-6)
    assert abs(gold.at["edema1", "estimate"]) > 10  # R's arbitrary large number, which the book never shows


def test_an_indicator_of_a_group_without_patients_is_not_estimable_and_the_rest_equal_coxph():
    # R gives the all-zero indicator NA ("X matrix deemed to be singular") and estimates the others.
    d = DATA.assign(edema05=(DATA["edema"] == 0.5).astype(float), nobody=0.0)
    results = models.fit_models(d, survival.cause_specific_cox, "time", "status", models={"M": COVARIATES},
                                exposure=["edema05", "nobody"], cause=2)
    nobody, edema05 = results.set_index("term").loc["nobody"], results.set_index("term").loc["edema05"]
    assert nobody["reason"] == "not estimable: no patient in the group" and np.isnan(nobody["hr"])
    gold = GOLD[GOLD["case"] == "coxph_empty_level"].set_index("group")
    assert edema05["reason"] == "" and edema05["events"] == (d["status"] == 2).sum()
    np.testing.assert_allclose([edema05["coef"], edema05["se"]], gold.loc["edema05", ["estimate", "se"]].astype(float),
                               rtol=0, atol=2e-6)


def test_golden_values_are_what_r_makes(tmp_path):
    rerun("edges.R", tmp_path, "edges.csv", "edges_pbc.csv", rtol=1e-8, atol=1e-12)
