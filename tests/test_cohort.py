"""Participant flow: counted from the data, box by box, on a hand-made cohort and on the default one."""

import numpy as np
import pandas as pd

from helpers.analysis import cohort
from helpers.report import published
from helpers.pipeline import validate


def _tiny():
    # 10 patients: 2 without Mg, 2 at or above 2.6, 1 without follow-up, 5 analysed (1 low, 2 mid, 2 high).
    return pd.DataFrame(
        {
            "mg": [np.nan, np.nan, 2.6, 3.0, 2.0, 1.7, 1.8, 2.2, 2.3, 2.5],
            "followup_years": [1.0, 2.0, 3.0, 1.0, np.nan, 2.0, 0.5, 4.0, 1.5, 2.5],
            "cac_baseline": [0, 0, 0, 0, 0, 10, np.nan, 0, 50, 0],
            "cac_year4": [0, 0, 0, 0, 0, 40, 3, np.nan, 60, 1],
            "revasc_by_year4": [0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
            "pwv_baseline": [14] * 10,
            "pwv_year4": [15, 15, 15, 15, 15, np.nan, 15, 15, 15, np.nan],
            "calcium": 9.0, "albumin": 4.0, "sbp": 120.0, "dbp": 80.0, "sex": "F",
        }
    )


def test_primary_flow_counts_each_exclusion_in_order():
    flow = cohort.primary_flow(_tiny(), [1.8, 2.2], 2.6).set_index("key")["n"]
    assert flow.to_dict() == {
        "enrolled": 10, "mg_missing": 2, "mg_high": 2, "no_followup": 1, "analysed": 5,
        "analysed_low": 1, "analysed_mid": 2, "analysed_high": 2,
    }


def test_follow_up_zero_is_excluded_only_without_an_event():
    """A record with an event on the day of enrolment is analysed, as coxph, cuminc and crr keep it; one with
    follow-up 0 and no event contributes no time and is counted under 'No follow-up time'."""
    tiny = _tiny().assign(status=[0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
    tiny.loc[5, "followup_years"] = 0.0  # Mg 1.7, an event at day 0: kept
    tiny.loc[6, "followup_years"] = 0.0  # Mg 1.8, no event at day 0: excluded
    flow = cohort.primary_flow(tiny, [1.8, 2.2], 2.6).set_index("key")
    assert flow.at["no_followup", "n"] == 2 and flow.at["analysed", "n"] == 4
    assert "0 without an event" in flow.at["no_followup", "label"]
    analysed = cohort.analysis_cohort(tiny, [1.8, 2.2], 2.6)
    assert ((analysed["followup_years"] == 0) & (analysed["status"] == 1)).sum() == 1


def test_secondary_flows():
    analysed = cohort.analysis_cohort(_tiny(), [1.8, 2.2], 2.6)
    cac = cohort.cac_flow(analysed, [1.8, 2.2]).set_index("key")["n"]
    assert cac[["cac_not_both", "cac_both", "cac_revasc", "cac_analysed"]].tolist() == [2, 3, 1, 2]
    assert cac[["cac_low", "cac_mid", "cac_high"]].tolist() == [1, 0, 1]
    pwv = cohort.pwv_flow(analysed, [1.8, 2.2]).set_index("key")["n"]
    assert pwv[["pwv_not_both", "pwv_analysed", "pwv_low", "pwv_mid", "pwv_high"]].tolist() == [2, 3, 0, 2, 1]


def test_no_upper_exclusion_when_the_parameter_is_null():
    flow = cohort.primary_flow(_tiny(), [1.8, 2.2], None).set_index("key")["n"]
    assert flow["mg_high"] == 0 and flow["analysed"] == 7


def test_default_data_reproduce_every_published_flow_count(default_params):
    df = validate.load_cohort(default_params["cohort_csv"])
    cuts = default_params["mg_cutpoints"]
    analysed = cohort.analysis_cohort(df, cuts, default_params["mg_exclude_at_or_above"])
    for flow in (
        cohort.primary_flow(df, cuts, default_params["mg_exclude_at_or_above"]),
        cohort.cac_flow(analysed, cuts),
        cohort.pwv_flow(analysed, cuts),
    ):
        table = published.compare_flow(flow)
        assert table["Thesis"].notna().all()
        assert (table["Difference"] == 0).all(), table
