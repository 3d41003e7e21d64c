"""The synthetic cohort meets every published target (issue: calibration), recomputed from data/cohort.csv."""

import numpy as np
import pytest

from helpers.report import calibration, published
from helpers.analysis import cohort
from helpers.pipeline import validate
from helpers.pipeline import params
from helpers.synthetic import cohort as synthetic


@pytest.fixture(scope="module")
def table():
    p = params.load()
    the_cohort, _ = validate.cohorts(p)
    return calibration.calibration_table(the_cohort, p)


@pytest.mark.parametrize("section", ["Flow", "Table 2.2.1", "Outcomes", "Progression", "Hazard ratios"])
def test_every_required_target_is_met(table, section):
    rows = table[(table["Section"] == section) & table["Required"]]
    assert len(rows) > 0
    missed = rows[~rows["Within tolerance"]]
    assert missed.empty, missed[["Target", "Published", "This cohort", "Tolerance"]].to_string()


def test_the_targets_cover_the_issue(table):
    required = table[table["Required"]]
    # 8 + 8 + 6 boxes of the three flow diagrams and the Mg resolution; 152 cells of Table 2.2.1; 3 event
    # counts and person-years;
    # 6 progression counts; 4 hazard ratios (2 indicators × cause-specific and Fine–Gray).
    assert required.groupby("Section").size().to_dict() == {
        "Flow": 23, "Table 2.2.1": 152, "Outcomes": 4, "Progression": 6, "Hazard ratios": 4,
    }


def test_p_for_trend_is_reported_for_every_published_one_and_never_required(table):
    # No step of the generator targets the baseline P for trend: it follows from the group counts and the
    # within-group values the generator fixes (the design declares it "fixed" by construction), so how many
    # land on the thesis's side of 0.05 is reported, not required: one row per P value printed in Table 2.2.1,
    # counted here from the transcription.
    assert published.design_status("baseline_trend") == "fixed"
    printed = published.table_2_2_1()
    trend = table[table["Tolerance"] == "same side of 0.05"]
    assert len(trend) == int((printed["p_trend"].astype(str).str.strip() != "").sum()) and not trend["Required"].any()


def test_the_first_outcome_attempt_was_kept():
    # The docstring says the first attempt of the seed sequence meets the targets; keep that true.
    assert synthetic.generate().attrs["outcome_attempt"] == 0


def test_the_tolerance_check_can_fail(table):
    p = params.load()
    the_cohort, _ = validate.cohorts(p)
    shifted = the_cohort.copy()
    shifted["age"] = shifted["age"] + 10
    shifted.loc[shifted.index[:3], "status"] = np.where(shifted.loc[shifted.index[:3], "followup_years"] > 0, 1, 0)
    other = calibration.calibration_table(shifted, p)
    assert not other.loc[other["Target"] == "Age (years): Total", "Within tolerance"].iloc[0]
