"""Disclosure declared once (helpers.report.declarations): every published table is declared there, the
CSV and the page read the same declaration, no notebook decides anything by the kind of data, and model
outputs resting on a small cell are withheld (with their complements)."""

import re

import numpy as np
import pandas as pd
import pytest

from helpers import paths
from helpers.pipeline import runs
from helpers.report import declarations, disclosure, outputs

REAL = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
SYNTHETIC = dict(REAL, cohort_kind="synthetic")


def _sources():
    return {d: (paths.ROOT / f"{d}.md").read_text(encoding="utf-8") for d in runs.toc_documents()
            if runs.is_notebook(paths.ROOT / f"{d}.md")}


def test_no_page_declares_counts_or_branches_on_the_kind_of_data():
    for doc, text in _sources().items():
        code = "\n".join(re.findall(r"```\{code-cell\}.*?```", text, flags=re.S))
        assert not re.search(r"\b(counts|rates|thesis|patients)=", code), doc
        assert not re.search(r"(cohort|vsmc|data)_kind\"\]\s*(==|!=)", code), doc
        assert "save_table(" not in code, doc


def test_every_table_a_page_publishes_or_shows_is_declared():
    for doc, text in _sources().items():
        for name in re.findall(r"""(?:publish|model_outputs)\([^"]*"(\w+)", (?:params|ex\w*_params)""", text) + \
                re.findall(r'name="(\w+)"', text):
            assert name in declarations.TABLES, (doc, name)
        for name in re.findall(r'points_allowed\("(\w+)"', text):
            assert name in declarations.FIGURES, (doc, name)


def test_csv_and_page_come_from_one_declaration(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    table = pd.DataFrame({"Serum Mg (mg/dL)": ["<1.8", "1.8–2.2"], "Participants": [37, 912], "Events": [3, 61],
                          "Person-years": [140, 4210]})
    published = outputs.publish(table, "incidence", REAL)
    csv = pd.read_csv(tmp_path / "incidence.csv", dtype=str)
    page = outputs.show(published, params=REAL, name="incidence").data
    assert csv["Events"].tolist() == page["Events"].astype(str).tolist() == [disclosure.REDACTED, "60"]
    assert csv["Participants"].tolist() == ["35", "910"]
    # synthetic data: nothing changes, and the same call is made
    assert outputs.publish(table, "incidence", SYNTHETIC).equals(table)


def _model_rows():
    # Crude model, low (7 events: small) and high (20 events) against a reference of 60 events.
    return pd.DataFrame({"model": "Crude", "term": ["mg_low", "mg_high"], "coef": [0.9123, -0.0456],
                         "se": [0.393706, 0.2468], "hr": [2.49, 0.955], "lower": [1.15, 0.59], "upper": [5.39, 1.55],
                         "p": [0.0204, 0.853], "n": 1000, "events": 87, "n_dropped": 0, "n_group": [37, 300],
                         "events_group": [7, 20], "n_reference": 663, "events_reference": 60, "reason": ""})


def test_model_outputs_resting_on_a_small_cell_are_withheld_and_the_rest_rounded():
    out, withheld = disclosure.model_outputs(_model_rows(), declarations.TABLES["cause_specific"], disclosure.rules(REAL))
    assert withheld == 1
    low, high = out.iloc[0], out.iloc[1]
    assert all(pd.isna(low[c]) for c in ("coef", "se", "hr", "lower", "upper", "p"))
    assert low["reason"].startswith("withheld") and "1 to 7" in low["reason"]
    assert high["se"] == 0.25 and high["coef"] == -0.05 and high["p"] == 0.853
    same, _ = disclosure.model_outputs(_model_rows(), declarations.TABLES["cause_specific"], disclosure.rules(SYNTHETIC))
    pd.testing.assert_frame_equal(same, _model_rows())


def test_a_logistic_output_with_few_non_events_is_withheld():
    rows = _model_rows().assign(events_group=[30, 20])  # 37 − 30 = 7 patients without the outcome
    out, _ = disclosure.model_outputs(rows, declarations.TABLES["progression_cac"], disclosure.rules(REAL))
    assert pd.isna(out.at[0, "or"] if "or" in out else out.at[0, "hr"]) and out.at[1, "se"] == 0.25


def test_the_complement_stratum_is_withheld_with_the_small_one():
    table = pd.DataFrame({"subgroup": ["Sex", "Sex", "Age", "Age"], "stratum": ["Female", "Male", "<60", "≥60"],
                          "n_low": [15, 22, 18, 19], "events_low": [3, 12, 8, 9], "n_mid": 400, "events_mid": 30,
                          "n_high": 200, "events_high": 15, "hr": [2.1, 1.8, 1.5, 1.9], "lower": 0.8, "upper": 4.0,
                          "p": 0.2, "estimable": True, "reason": "", "p_interaction": [0.4, 0.4, 0.7, 0.7],
                          "p_interaction_note": ""})
    out, withheld = disclosure.model_outputs(table, declarations.TABLES["subgroups"], disclosure.rules(REAL))
    assert withheld == 2
    assert out["hr"].isna().tolist() == [True, True, False, False]
    assert out["estimable"].tolist() == [False, False, True, True]
    assert "another stratum" in out.at[1, "reason"] and out["p_interaction"].isna().tolist() == [True, True, False, False]


def test_centiles_only_where_enough_patients_lie_beyond_them_and_no_extremes():
    table = pd.DataFrame({"covariate": "age", "group": ["<1.8", "1.8–2.2"], "n": [37, 900], "min": [30.0, 20.0],
                          "q05": [35.0, 30.0], "median": [60.0, 58.0], "q95": [80.0, 79.0], "max": [88.0, 90.0]})
    out, _ = disclosure.model_outputs(table, declarations.TABLES["overlap"], disclosure.rules(REAL))
    assert "min" not in out and "max" not in out
    # 0.05 · 37 = 1.85 < 7: the 5th and 95th centiles of the small group are one or two patients' values
    assert np.isnan(out.at[0, "q05"]) and np.isnan(out.at[0, "q95"]) and out.at[0, "median"] == 60.0
    assert out.at[1, "q05"] == 30.0


def test_points_are_drawn_for_synthetic_data_only(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    assert outputs.points_allowed("schoenfeld", SYNTHETIC) and not outputs.points_allowed("schoenfeld", REAL)
    with pytest.raises(KeyError, match="not declared"):
        outputs.points_allowed("nothing", REAL)


def test_a_figures_lines_resting_on_few_patients_are_left_out():
    trace = pd.DataFrame({"chain": 1, "cycle": [1, 2, 1, 2], "variable": ["a", "a", "b", "b"], "mean": [1.234, 1.3, 5.0, 5.1],
                          "n_imputed": [5, 5, 40, 40]})
    out, withheld = disclosure.model_outputs(trace, declarations.TABLES["imputation_trace"], disclosure.rules(REAL))
    assert withheld == 2 and out["variable"].tolist() == ["b", "b"] and "n_imputed" not in out and "reason" not in out
    same, _ = disclosure.model_outputs(trace, declarations.TABLES["imputation_trace"], disclosure.rules(SYNTHETIC))
    assert same["variable"].tolist() == ["a", "a", "b", "b"] and "n_imputed" not in same


# --- outputs that rest on a group's cells, on a small planted cohort (the attack: a small group's estimate,
# curve or quartile must not reach the CSV or the page) -----------------------------------------------------

def _planted(n=300, low=20, high=80, seed=3):
    """A cohort with ``low`` patients in the low-Mg group, ``high`` in the high one, the rest the reference;
    the low group has 5 composite events (a small cell), the others many; kidney events (cause 2) throughout."""
    from helpers.analysis import models

    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.normal(size=n) for c in models.MODEL_4})
    df["male"], df["diabetes"] = rng.integers(0, 2, n), rng.integers(0, 2, n)
    df["mg_low"] = (np.arange(n) < low).astype(float)
    df["mg_high"] = ((np.arange(n) >= low) & (np.arange(n) < low + high)).astype(float)
    df["followup_years"] = rng.uniform(0.5, 8.0, n).round(2)
    status = rng.choice([0, 1, 2], size=n, p=[0.55, 0.3, 0.15])
    status[:low] = 0
    status[:5], status[5:8] = 1, 2
    df["status"] = status
    return df


def _groups(df):
    return pd.Categorical(np.where(df["mg_low"] == 1, "<1.8", np.where(df["mg_high"] == 1, ">2.2", "1.8–2.2")),
                          categories=["<1.8", "1.8–2.2", ">2.2"], ordered=True)


def test_a_small_groups_fine_gray_implied_curve_is_left_out(tmp_path, monkeypatch):
    from helpers.analysis import models

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    df = _planted()
    curves = models.fine_gray_standardized_curves(df, "followup_years", "status", models.EXPOSURE, [1.8, 2.2])
    low = curves[curves["profile"] == "<1.8"].iloc[0]
    assert (low["n_group"], low["events_group"], low["competing_group"]) == (20, 5, 3)  # counted, not fitted
    shown = outputs.publish(curves, "fine_gray_implied_incidence", REAL)
    assert "<1.8" not in set(shown["profile"]) and {"1.8–2.2", ">2.2"} <= set(shown["profile"])
    csv = pd.read_csv(tmp_path / "fine_gray_implied_incidence.csv")
    assert "<1.8" not in set(csv["profile"]) and not set(declarations.GROUP_CELLS) & set(csv.columns)
    same = outputs.publish(curves, "fine_gray_implied_incidence", SYNTHETIC)
    assert "<1.8" in set(same["profile"])


def test_median_follow_up_quartiles_only_where_a_quarter_of_the_group_reaches_the_threshold(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    table = pd.DataFrame({"Serum Mg (mg/dL)": ["<1.8", "1.8–2.2"], "Participants": [20, 900],
                          "Median follow-up, years [Q1–Q3]": ["4.1 [2.0–6.3]", "4.4 [2.5–6.0]"]})
    shown = outputs.publish(table, "median_follow_up", REAL)
    # 0.25 · 20 = 5 < 7: the quartiles of the small group are one or two patients' times
    assert shown.at[0, "Median follow-up, years [Q1–Q3]"].startswith("withheld") and shown.at[1, "Median follow-up, years [Q1–Q3]"] == "4.4 [2.5–6.0]"
    csv = pd.read_csv(tmp_path / "median_follow_up.csv", dtype=str)
    assert "4.1" not in " ".join(csv.fillna("").to_numpy().ravel())
    assert outputs.publish(table, "median_follow_up", SYNTHETIC).equals(table)


def test_baseline_adjusted_pwv_contrasts_on_few_non_events_or_patients_are_withheld(tmp_path, monkeypatch):
    from helpers.analysis import models

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    rng = np.random.default_rng(5)
    df = _planted(low=30, high=90)
    df["pwv_baseline"] = rng.normal(1500, 200, len(df))
    df["pwv_progression"] = rng.integers(0, 2, len(df))
    df.loc[:29, "pwv_progression"] = [1] * 25 + [0] * 5  # the low group: 5 patients without progression
    df["pwv_year4"] = df["pwv_baseline"] * np.where(df["pwv_progression"] == 1, 1.15, 0.98)
    ancova = models.pwv_baseline_adjusted(df)
    low = ancova[ancova["term"] == "mg_low"]
    assert low["n_group"].tolist() == [30, 30, 30] and low["events_group"].tolist()[:2] == [25, 25]
    shown = outputs.publish(ancova, "progression_pwv_baseline", REAL)
    logistic_low = (shown["term"] == "mg_low") & (shown["scale"] == "odds ratio")
    assert shown.loc[logistic_low, ["estimate", "lower", "upper", "p"]].isna().all().all()
    assert shown.loc[logistic_low, "reason"].str.startswith("withheld").all()
    assert shown.loc[~logistic_low, "estimate"].notna().all()  # the ANCOVA rests on 30 patients, the high group on many
    csv = pd.read_csv(tmp_path / "progression_pwv_baseline.csv")
    assert csv.loc[logistic_low.to_numpy(), "estimate"].isna().all()
    # a group of 6 patients: the ANCOVA's difference of means is withheld too
    few = models.pwv_baseline_adjusted(df.iloc[24:].reset_index(drop=True))
    out = outputs.publish(few, "progression_pwv_baseline", REAL)
    assert out.loc[out["term"] == "mg_low", "estimate"].isna().all()
    assert outputs.publish(ancova, "progression_pwv_baseline", SYNTHETIC)["estimate"].notna().all()


def test_the_time_interaction_test_of_a_small_group_is_withheld_with_the_joint_test(tmp_path, monkeypatch):
    from helpers.analysis import models

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    terms = models.fine_gray_time_terms(_planted(), "followup_years", "status", models.EXPOSURE)
    assert terms["term"].tolist() == ["mg_low", "mg_high", "both"] and terms.at[0, "events_group"] == 5
    assert terms.at[2, "events_group"] == 5 and terms.at[2, "competing_group"] == 3  # the smaller group's cells
    shown = outputs.publish(terms, "proportional_subdistribution_hazards", REAL)
    assert shown.loc[[0, 2], ["coef", "se", "lower", "upper", "p", "statistic"]].isna().all().all()
    assert shown.loc[[0, 2], "reason"].str.startswith("withheld").all() and shown.at[1, "coef"] == round(terms.at[1, "coef"], 3)
    csv = pd.read_csv(tmp_path / "proportional_subdistribution_hazards.csv")
    assert csv.loc[[0, 2], ["coef", "se", "p", "statistic"]].isna().all().all() and "events_group" not in csv
    same = outputs.publish(terms, "proportional_subdistribution_hazards", SYNTHETIC)
    assert same[["coef", "p"]].iloc[:2].notna().all().all() and np.isfinite(same.at[2, "statistic"])


def test_dose_response_curve_ends_and_the_small_groups_ratio_are_withheld(tmp_path, monkeypatch):
    from helpers.analysis import dose_response

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    df = _planted()
    rng = np.random.default_rng(9)
    df["mg"] = np.where(df["mg_low"] == 1, rng.uniform(1.5, 1.79, len(df)),
                        np.where(df["mg_high"] == 1, rng.uniform(2.21, 2.6, len(df)), rng.uniform(1.8, 2.2, len(df)))).round(3)
    df["mg_group"] = _groups(df)
    params = dict(REAL, dose_response_knots=3, mg_cutpoints=[1.8, 2.2], dose_response_reference_mg=None)
    fits = {m: f for m, f in dose_response.mg_splines(df, params).items() if not isinstance(f, str)}
    assert "cox" in fits
    curves = dose_response.curves(fits, df)
    # the points whose far side holds 1 to 7 patients or events: counted from the data, not from the fit
    mg, dead = df["mg"].to_numpy(), (df["status"] == 1).to_numpy()
    ref = fits["cox"].reference
    small = [0 < (m := (mg <= x) if x < ref else (mg >= x)).sum() <= 7 or 0 < (m & dead).sum() <= 7
             for x in curves["mg"]]
    assert any(small) and not all(small)
    shown = outputs.publish(curves, "dose_response_curves", REAL)
    assert len(shown) == len(curves) - sum(small) and "n_beyond" not in shown
    assert shown["mg"].min() > curves["mg"].min()  # the low end, where the 5 low-group events lie, is not drawn
    csv = pd.read_csv(tmp_path / "dose_response_curves.csv")
    assert len(csv) == len(shown)
    fit = dose_response.with_curve(fits["cox"], shown, "cox")
    assert len(fit.curve) == (shown["model"] == dose_response.MODELS["cox"]).sum()
    assert len(outputs.publish(curves, "dose_response_curves", SYNTHETIC)) == len(curves)
    table = dose_response.spline_summary(fits, dose_response.reading_points(df)).assign(**dose_response.reading_cells(df))
    assert table.at[0, "events_low"] == 5
    out = outputs.publish(table, "dose_response", REAL)
    assert out["ratio_low_median"].isna().all() and out["reason"].str.startswith("withheld").all()
    assert out["p_overall"].notna().all()  # the whole cohort's tests stay
    assert "withheld" in dose_response.in_words(out, outputs.format_ratio, outputs.format_p)["cs_low"]


def test_bootstrap_intervals_of_a_small_group_are_withheld(tmp_path, monkeypatch):
    from helpers.analysis import beyond

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    df = _planted()
    df["mg_group"] = _groups(df)
    boot = beyond.bootstrap_risks(df, [3.0], [1.8, 2.2], 4, seed=1, covariates=["age"])
    low = boot["group"] == "<1.8"
    assert (boot.loc[low, "events_group"] == 5).all()  # counted in the data
    shown = outputs.publish(boot, "standardized_risks_bootstrap", REAL)
    assert shown.loc[low, ["estimate", "boot_lower", "boot_upper"]].isna().all().all()
    assert shown.loc[~low & (boot["kind"] == "risk"), "estimate"].notna().all() and "events_group" not in shown
    csv = pd.read_csv(tmp_path / "standardized_risks_bootstrap.csv")
    assert csv.loc[low.to_numpy(), "boot_upper"].isna().all() and csv["reason"].str.startswith("withheld").sum() == low.sum()
    assert outputs.publish(boot, "standardized_risks_bootstrap", SYNTHETIC)["estimate"].notna().any()


def test_the_kidney_outcome_table_withholds_a_group_with_few_kidney_events(tmp_path, monkeypatch):
    from helpers import survival
    from helpers.analysis import models
    from helpers.report import model_tables

    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path))
    df = _planted()  # the low group: 3 kidney events (cause 2), a small cell
    df["mg_group"] = _groups(df)
    fits = models.fit_models(df, survival.cause_specific_cox, "followup_years", "status", models={"Crude": []}, cause=2)
    assert fits.at[0, "events_group"] == 3
    shown = outputs.publish(fits, "cause_specific_kidney", REAL)
    table, _ = model_tables.hazard_ratio_tables(shown, df, "status", 2, [1.8, 2.2])
    page = outputs.show(table, params=REAL, name="table_kidney").data
    cells = " ".join(page.astype(str).to_numpy().ravel())
    assert "withheld" in cells and f"{fits.at[0, 'hr']:.2f}" not in cells and f"{fits.at[1, 'hr']:.2f}" in cells
