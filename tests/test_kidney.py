"""Chapter 3's table of the competing kidney outcome against survival::coxph on the shipped cohort
(tests/golden/kidney.R): crude, Models 1-4 and the kidney outcome's own adjustment set, cause 2."""

import pandas as pd
import pytest

from golden_values import GOLDEN, rerun
from helpers import survival
from helpers.analysis import beyond, models
from helpers.pipeline import params as params_mod, validate

GOLD = pd.read_csv(GOLDEN / "kidney.csv", keep_default_na=False, float_precision="round_trip")
GOLD["value"] = GOLD["value"].astype(float)


def test_kidney_outcome_models_match_coxph():
    """Coefficients to 1e-6 absolute, standard errors and P to 1e-6 relative (coxph run to eps 1e-12)."""
    p = params_mod.load()
    _, analysed = validate.cohorts(p)
    _, kidney, note = beyond.adjustment_sets(p, analysed)
    assert note == "" and kidney[-1] == "log2_proteinuria"
    fits = models.fit_models(analysed, survival.cause_specific_cox, "followup_years", "status",
                             models={**models.WITH_CRUDE, "Kidney": kidney}, cause=2)
    for _, row in fits.iterrows():
        gold = GOLD[(GOLD["model"] == row["model"]) & (GOLD["term"] == row["term"])].set_index("quantity")["value"]
        assert row["coef"] == pytest.approx(gold["coef"], abs=1e-6), (row["model"], row["term"])
        assert row["se"] == pytest.approx(gold["se"], rel=1e-6)
        assert row["p"] == pytest.approx(gold["p"], rel=1e-6)
        counts = GOLD[(GOLD["model"] == row["model"]) & (GOLD["term"] == "")].set_index("quantity")["value"]
        assert (row["n"], row["events"]) == (counts["n"], counts["events"])
    assert set(fits["model"]) == {"Crude", "Model 1", "Model 2", "Model 3", "Model 4", "Kidney"}


def test_golden_values_are_what_r_makes(tmp_path):
    rerun("kidney.R", tmp_path, "kidney.csv", rtol=1e-9, atol=1e-12)
