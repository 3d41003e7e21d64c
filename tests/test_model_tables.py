"""The display tables of the models by Mg group: models as rows, this run beside the thesis."""

import numpy as np
import pandas as pd

from helpers.analysis import models
from helpers.report import model_tables, outputs, published
from helpers import survival
from test_models import _cohort  # the same small cohort the model-fitting tests use


LOW = "Mg <1.8 vs 1.8–2.2 mg/dL"
HIGH = "Mg >2.2 vs 1.8–2.2 mg/dL"


def test_models_are_rows_with_this_run_beside_the_thesis():
    df = _cohort()
    few = {"Model 1": models.MODEL_1, "Model 4": ["age", "male"]}  # labels matched to the thesis by name
    res = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models=few)
    ratios, counts = model_tables.hazard_ratio_tables(res, df, "status", 1, [1.8, 2.2], published.hazards())
    assert list(ratios[("", "Model")]) == ["Model 1", "Model 1", "Model 4", "Model 4"]
    assert list(ratios[("", "Source")]) == ["This run", "Thesis"] * 2
    assert ratios.shape[1] == 6  # the adjusted estimate is within six columns, not the twelfth
    thesis4 = ratios.iloc[3]
    assert thesis4[(LOW, "HR (95% CI)")] == "2.53 (1.12–5.69)" and thesis4[(LOW, "P")] == "0.024"
    assert thesis4[(HIGH, "HR (95% CI)")] == "0.93 (0.66–1.32)"
    ours = res[(res["model"] == "Model 4") & (res["term"] == "mg_high")].iloc[0]
    assert ratios.iloc[2][(HIGH, "HR (95% CI)")] == outputs.format_ratio(ours["hr"], ours["lower"], ours["upper"])
    n_low = int((df["mg_group"] == "<1.8").sum())
    e_low = int(((df["mg_group"] == "<1.8") & (df["status"] == 1)).sum())
    assert counts.iloc[0]["Participants"] == f"{n_low:,}" and counts.iloc[0]["Events (%)"] == f"{e_low} ({100 * e_low / n_low:.1f})"
    assert counts.iloc[1]["Events (%), thesis"] == "83 (9.1)" and counts.iloc[0]["Participants, thesis"] == "37"


def test_a_model_the_thesis_did_not_fit_shows_a_dash():
    df = _cohort()
    crude = {"Crude": [], "Model 1": models.MODEL_1}
    res = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models=crude)
    ratios = model_tables.ratio_table(res, [1.8, 2.2], "HR", published.hazards())
    thesis_crude = ratios.iloc[1]
    assert thesis_crude[("", "Model")] == "Crude" and thesis_crude[("", "Source")] == "Thesis"
    assert thesis_crude[(LOW, "HR (95% CI)")] == "–" and thesis_crude[(HIGH, "P")] == "–"
    assert ratios.iloc[0][(LOW, "HR (95% CI)")] not in ("", "–")


def test_progression_tables_show_odds_ratios_and_the_thesis_counts():
    df = _cohort(seed=5, n=600)
    df["progressed"] = (np.random.default_rng(2).random(len(df)) < 0.3).astype(float)
    res = models.fit_logistic_models(df, "progressed", models={"Model 1": models.MODEL_1})
    published = pd.DataFrame({"outcome": "cac", "group": ["low", "mid", "high"], "progressed": [11, 155, 133],
                              "analysed": [24, 497, 380]})
    ratios, counts = model_tables.progression_tables(res, df, "progressed", [1.8, 2.2], published, "cac")
    assert list(ratios[("", "Source")]) == ["This run"] and (LOW, "OR (95% CI)") in ratios.columns
    assert counts.iloc[0]["Progressed (%), thesis"] == "11 (45.8)"
    low = df["mg_group"] == "<1.8"
    assert counts.iloc[0]["Progressed (%)"] == f"{int(df.loc[low, 'progressed'].sum())} ({100 * df.loc[low, 'progressed'].mean():.1f})"


def test_the_tables_display_and_suppress_small_counts_with_real_data():
    df = _cohort()
    res = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models={"Model 1": models.MODEL_1})
    ratios, counts = model_tables.hazard_ratio_tables(res, df, "status", 1, [1.8, 2.2])
    html = outputs.show(ratios, "caption").to_html()
    assert "HR (95% CI)" in html and LOW in html
    real = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
    small = counts.assign(**{"Events (%)": ["3 (8.1)", "40 (9.0)", "50 (9.1)"]})
    shown, _ = outputs.disclosed(small, real, counts=["Participants", "Events (%)"])
    assert "3 (8.1)" not in shown["Events (%)"].tolist() and shown.iloc[0]["Events (%)"] != small.iloc[0]["Events (%)"]
    ratios_shown, _ = outputs.disclosed(ratios, real, counts=[])  # ratios only: declared with no counts
    assert ratios_shown.equals(ratios)


def test_covariates_are_named_for_readers():
    assert model_tables.covariate_label("map") == "Mean arterial pressure"
    assert model_tables.covariate_label("mg_low", [1.8, 2.2]) == "Mg <1.8 (vs 1.8–2.2) mg/dL"
    assert model_tables.covariate_label("GLOBAL") == "Whole model (global test)"


def test_short_values_are_kept_on_one_line_and_long_text_may_wrap():
    table = pd.DataFrame({"Label": ["a long first-column label that may wrap"], "Short": ["Pi + 1 mM Mg"],
                          "Long": ["a sentence of explanation well over the limit for one line"]})
    html = outputs.show(table).to_html()
    style = html[html.index("<style"):html.index("</style>")]
    assert "white-space: nowrap" in style
    assert "_col1" in style and "_col2" not in style and "_col0" not in style
    short_labels = outputs.show(table.assign(Label="Model 1")).to_html()
    assert "_col0" in short_labels[:short_labels.index("</style>")]


def _time_terms(low_events=True, low_group=True):
    """models.fine_gray_time_terms on test_declarations' planted cohort (20 low, 80 high, 200 reference), its low
    group's events removed or the group emptied when asked."""
    from test_declarations import _planted

    df = _planted()
    if not low_events:
        df.loc[df["mg_low"] == 1, "status"] = 0
    if not low_group:
        df["mg_low"] = 0.0
    return models.fine_gray_time_terms(df, "followup_years", "status", models.EXPOSURE)


def test_the_time_interaction_test_is_shown_as_a_table_and_a_sentence():
    """Numbers typed as the thesis prints them (two decimals, CI joined by "to" where a bound is negative, U+2212 minus, P to three), a withheld
    row's reason in its place; the joint test in words."""
    terms = pd.DataFrame({"term": ["mg_low", "mg_high", "both"], "coef": [-0.2421, np.nan, np.nan],
                          "lower": [-0.6323, np.nan, np.nan], "upper": [0.1480, np.nan, np.nan], "p": [0.2238, np.nan, 0.4164],
                          "statistic": [np.nan, np.nan, 1.752], "df": [np.nan, np.nan, 2],
                          "reason": ["", "withheld: a cell under 11 patients", ""]})
    shown = model_tables.time_interaction_table(terms, [1.8, 2.2])
    assert shown.table.to_dict("list") == {
        "Term": ["Mg <1.8 × log(years)", "Mg >2.2 × log(years)"],
        "Coefficient (95% CI)": ["−0.24 (−0.63 to 0.15)", "withheld: a cell under 11 patients"], "P": ["0.224", "–"]}
    assert shown.text == "Both time terms together: χ² = 1.75, 2 df, P = 0.416."


def test_a_time_interaction_test_that_cannot_be_made_says_why_and_keeps_the_other_term():
    """A group without an event has no finite time term (crr's would run off to infinity): its row and the joint
    test say so, the other group's term stands; an empty group makes the information matrix singular, and every
    row says why. Never an exception: the chapter goes on."""
    terms = _time_terms(low_events=False)
    assert terms["reason"].tolist()[0] == terms["reason"].tolist()[2] == "not estimable: no event in the low-Mg group"
    assert terms.loc[[0, 2], ["coef", "p", "statistic"]].isna().all().all() and terms.at[1, "reason"] == ""
    assert np.isfinite(terms.at[1, "coef"]) and terms.at[1, "lower"] < terms.at[1, "coef"] < terms.at[1, "upper"]
    shown = model_tables.time_interaction_table(terms, [1.8, 2.2])
    assert shown.table["Coefficient (95% CI)"].tolist()[0] == "not estimable: no event in the low-Mg group"
    assert shown.table["P"].tolist()[0] == "–" and shown.table["P"].tolist()[1] != "–"
    assert shown.text == "Both time terms together: not estimable: no event in the low-Mg group."
    empty = _time_terms(low_group=False)
    assert empty["reason"].str.startswith("not estimable").all() and empty[["coef", "p", "statistic"]].isna().all().all()
    assert "singular" in empty.at[1, "reason"] and empty.at[0, "n_group"] == 0
