"""Disclosure control: counts redacted or rounded, cells with percentages recomputed, curves from rounded
counts, synthetic data untouched."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers.report import disclosure, outputs
from helpers.report.disclosure import REDACTED, Rules
from helpers.stats import survival

REAL = Rules(active=True, threshold=7, base=5)
SYNTHETIC = Rules(active=False, threshold=7, base=5)


@pytest.mark.parametrize("n, shown", [(0, 0), (1, REDACTED), (7, REDACTED), (8, 10), (12, 10), (13, 15),
                                      (1646, 1645), (2238, 2240)])
def test_round_count(n, shown):
    assert disclosure.round_count(n, 7, 5) == shown


def test_a_count_above_the_threshold_never_rounds_to_zero():
    assert disclosure.round_count(3, 2, 10) == 10
    with pytest.raises(ValueError, match="negative"):
        disclosure.round_count(-1, 7, 5)


@pytest.mark.parametrize("cell, shown", [
    ("1,009 (61.3)", "1,010 (61.4)"),      # denominator 1,646 -> 1,645
    ("13 (35.1)", "15 (42.9)"),            # 13 of 37: 15 of 35
    ("3 (8.1)", REDACTED),
    ("17/35 (48.6)", "15/35 (42.9)"),
    ("0/5 (0.0)", REDACTED),               # the denominator is small
    ("789/1,590 (49.6)", "790/1,590 (49.7)"),
    ("12 of 24", "10 of 25"),
    ("9 (12%)", "10 (13%)"),
    ("0 (0.0)", "0 (0.0)"),
    ("54.0 [44.0;63.0]", "54.0 [44.0;63.0]"),  # a median is not a count
    ("76.8 ± 10.5", "76.8 ± 10.5"),
    ("", ""),
    (np.nan, np.nan),
    (11.0, 10),
])
def test_cells(cell, shown):
    got = disclosure.disclose_cell(cell, 7, 5)
    assert (pd.isna(got) and pd.isna(shown)) or got == shown


def test_a_count_column_with_a_fraction_is_refused():
    with pytest.raises(ValueError, match="not a whole number"):
        disclosure.disclose_cell(2.5, 7, 5)


def test_table_declared_columns_only_and_group_headers():
    table = pd.DataFrame({"Box": ["a", "b"], "n": [3, 1646], "Thesis": [1, 1646],
                          "<1.8 (n = 6)": ["2 (33.3)", "1.7 [1.6;1.8]"], "Total (n = 1,646)": ["9 (0.5)", "2.2 [2.1;2.3]"]})
    shown, summary = disclosure.disclose_table(table, ["n", "<1.8 (n = 6)", "Total (n = 1,646)"], REAL)
    assert shown["n"].tolist() == [REDACTED, 1645]
    assert shown["Thesis"].tolist() == [1, 1646]  # not declared: left alone
    assert f"<1.8 (n = {REDACTED})" in shown.columns and (shown[f"<1.8 (n = {REDACTED})"] == REDACTED).all()
    assert shown["Total (n = 1,645)"].tolist() == ["10 (0.6)", "2.2 [2.1;2.3]"]
    assert summary["redacted"] >= 3 and summary["rounded"] >= 2
    same, _ = disclosure.disclose_table(table, ["n"], SYNTHETIC)
    assert same is table


def test_rates_are_redacted_with_their_count():
    table = pd.DataFrame({"events": [3, 40], "rate": ["1.2 (0.2–3.5)", "16.0 (11.4–21.8)"]})
    shown, _ = disclosure.disclose_table(table, ["events"], REAL, rates={"rate": "events"})
    assert shown["rate"].tolist() == [REDACTED, "16.0 (11.4–21.8)"]


def test_undeclared_table_is_refused_with_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("MG_TABLES_DIR", str(tmp_path))
    params = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
    with pytest.raises(ValueError, match="must be declared"):
        outputs.save_table(pd.DataFrame({"n": [3]}), "x", params)
    outputs.save_table(pd.DataFrame({"n": [3], "Difference": [0]}), "x", params, counts=["n"], thesis=["Difference"])
    assert pd.read_csv(tmp_path / "x.csv").to_dict("list") == {"n": [REDACTED]}
    outputs.save_table(pd.DataFrame({"n": [3]}), "y", params, counts=["n"], thesis="all")
    assert "Left out" in (tmp_path / "y.csv").read_text()
    log = pd.read_csv(tmp_path / disclosure.LOG_NAME)
    assert log["Output"].tolist() == ["tables/x.csv", "tables/y.csv"] and log.loc[0, "Redacted"] == 1
    synthetic = dict(params, cohort_kind="synthetic")
    with pytest.raises(ValueError, match="must be declared"):  # a table's declaration does not depend on the data
        outputs.save_table(pd.DataFrame({"n": [3]}), "z", synthetic)
    outputs.save_table(pd.DataFrame({"n": [3], "Difference": [0]}), "z", synthetic, counts=["n"], thesis=["Difference"])
    assert pd.read_csv(tmp_path / "z.csv").to_dict("list") == {"n": [3], "Difference": [0]}


def test_incidence_from_rounded_counts():
    frame = pd.DataFrame({"group": ["low", "Overall"], "participants": [37, 1646], "events": [3, 153],
                          "person_years": [140.2, 7368.4], "rate": [21.4, 20.76], "lower": [4.4, 17.6], "upper": [62.5, 24.3]})
    shown = disclosure.incidence(frame, REAL)
    assert shown.loc[0, "rate"] == REDACTED and shown.loc[0, "person_years"] == REDACTED
    assert shown.loc[1, ["participants", "events", "person_years"]].tolist() == [1645, 155, 7370]
    assert shown.loc[1, "rate"] == pytest.approx(155 / 7370 * 1000)
    # R: poisson.test(155, 7.37)$conf.int gives 17.85063123 24.61504850
    assert shown.loc[1, "lower"] == pytest.approx(17.85063123, rel=1e-8)
    assert shown.loc[1, "upper"] == pytest.approx(24.61504850, rel=1e-8)
    assert disclosure.incidence(frame, SYNTHETIC) is frame


def _cohort(seed=1, n=400):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"t": rng.exponential(5, n).round(3) + 0.001, "s": rng.choice([0, 1, 2], n, p=[0.6, 0.25, 0.15]),
                         "g": rng.choice(["a", "b"], n)})


def test_rounded_event_data_carries_multiples_of_the_base_on_a_grid():
    data = _cohort()
    pseudo = disclosure.rounded_event_data(data, "t", "s", "g", 5)
    assert np.allclose(pseudo["t"] * 10, np.round(pseudo["t"] * 10))
    for (_, _), part in pseudo.groupby(["g", "s"]):
        cumulative = part.groupby("t").size().cumsum()
        assert (cumulative % 5 == 0).all()
    # each kind of end is rounded up: never fewer than the true counts, at most base - 1 more
    true = data.groupby(["g", "s"]).size()
    rounded = pseudo.groupby(["g", "s"]).size()
    assert ((rounded - true >= 0) & (rounded - true < 5)).all()


def test_rounded_curves_step_only_by_groups_of_events_and_stay_close():
    data = _cohort()
    exact = survival.cumulative_incidence(data, "t", "s", cause=1, group="g")
    curves = disclosure.cumulative_incidence(data, "t", "s", 1, "g", REAL)
    for g, part in curves.groupby("group"):
        steps = part["time"][part["cif"].diff() > 0]
        assert np.allclose(steps * 10, np.round(steps * 10))
        # close to the exact curve at a few times (rounding moves it by a few events in 200)
        for t in (1, 3, 5):
            a = survival.at_times(exact[exact["group"] == g], [t], "cif")[0]
            b = survival.at_times(part, [t], "cif")[0]
            assert abs(a - b) < 0.04
    assert disclosure.cumulative_incidence(data, "t", "s", 1, "g", SYNTHETIC).equals(exact)


def test_a_single_event_does_not_show_as_its_own_step():
    data = pd.DataFrame({"t": [1.03, 2.0, 2.0, 2.0, 2.0, 3.0, 3.5, 4.0, 4.0, 4.0], "s": [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]})
    curves = disclosure.cumulative_incidence(data, "t", "s", 1, None, REAL)
    # the one event becomes five pseudo-events at 1.1 years: its exact time and size are gone
    step = curves[curves["cif"].diff() > 0]
    assert step["time"].round(6).tolist() == [1.1]


def test_histogram_redacts_small_bins_and_draws_no_extreme():
    values = [1.0] * 3 + [2.0] * 12 + [3.0] * 2 + [4.0] * 40 + [5.0] * 1
    edges, heights, redacted = disclosure.histogram(values, [0.5, 1.5, 2.5, 3.5, 4.5, 5.5], REAL)
    # an inner bin of 2 is drawn empty and flagged; the outer bins of 3 and 1 are left out with their
    # edges, so the axis does not say where the lowest and the highest patient lie
    assert heights.tolist() == [10, 0, 40] and redacted.tolist() == [False, True, False]
    assert edges.tolist() == [1.5, 2.5, 3.5, 4.5]
    values = [1.0] * 3 + [2.0] * 12 + [3.0] * 40
    _, exact, none = disclosure.histogram(values, [0.5, 1.5, 2.5, 3.5], SYNTHETIC)
    assert exact.tolist() == [3, 12, 40] and not none.any()


def test_rules_follow_the_input_kind():
    params = {"cohort_kind": "real", "vsmc_kind": "synthetic", "small_count_threshold": 10, "rounding_base": 10}
    assert disclosure.rules(params).active and not disclosure.rules(params, "vsmc").active
    assert disclosure.rules(params).count(23) == 20 and outputs.count(1234, params) == "1,230"
    assert outputs.count(1234, dict(params, cohort_kind="synthetic")) == "1,234"


def test_flow_diagram_draws_disclosed_counts_as_they_are():
    import matplotlib

    from helpers.report import figures

    flow = pd.DataFrame({"key": ["enrolled", "no_followup", "analysed"], "label": ["Enrolled", "No follow-up", "Analysed"],
                         "n": [2238, 2, 2236], "kind": ["main", "excluded", "main"]})
    params = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
    shown = disclosure.disclose_table(flow, ["n"], disclosure.rules(params))[0]
    fig = figures.flow_diagram(shown, "flow")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("n = [REDACTED]" in t for t in texts) and any("n = 2,240" in t for t in texts)
    assert not any("2,238" in t or "2,236" in t for t in texts)
    assert isinstance(fig, matplotlib.figure.Figure)


def test_a_real_build_offers_no_download(tmp_path):
    import yaml

    from helpers import paths
    from helpers.pipeline import build

    config = tmp_path / "_config.yml"
    config.write_text((paths.ROOT / "_config.yml").read_text(encoding="utf-8"), encoding="utf-8")
    build._configure(config, "", real=True)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert settings["sphinx"]["config"]["html_theme_options"] == {"use_download_button": False}
    assert settings["sphinx"]["config"]["html_copy_source"] is False and settings["sphinx"]["recursive_update"]


def test_counts_opening_phrases_are_disclosed():
    assert disclosure.disclose_cell("3 missing egfr; 12 missing bmi", 7, 5) == f"{REDACTED} missing egfr; 10 missing bmi"
    assert disclosure.disclose_cell("1,234 with negative followup_years", 7, 5) == "1,235 with negative followup_years"
    assert disclosure.disclose_cell("–", 7, 5) == "–"
    assert disclosure.disclose_cell("Model 4 uses 3", 7, 5) == "Model 4 uses 3"  # not a count-opening phrase


def test_exercise_counts_follow_the_rules():
    from helpers.report import exercises

    params = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
    assert exercises.count(3, params) == REDACTED and exercises.count(1646, params) == "1,645"
    assert exercises.count(3, dict(params, cohort_kind="synthetic")) == "3"


def _cutpoints(hr_low_19=1.49):
    # The planted real-data cohort's groups at three lower cut-points (patients, composite events): <1.8
    # holds 7 events and <1.9 one more, so <1.9's ratio is nearly <1.8's and its SE, less the band's
    # rounded counts, gives the 7 back (the attack in tests/test_real_data.py measured 7.28).
    return pd.DataFrame({
        "cut-points": ["1.7 / 2.2", "1.8 / 2.2", "1.9 / 2.2", "2.0 / 2.2", "1.8 / 2.2"],
        "model": ["Cause-specific"] * 5, "group": ["<1.7", "<1.8", "<1.9", "<2.0", ">2.2"],
        "participants": [17, 37, 63, 120, 330], "events": [2, 7, 8, 20, 25],
        "reference_participants": [493, 473, 447, 390, 473], "reference_events": [44, 39, 38, 27, 39],
        "hr": [0.9, 1.6, hr_low_19, 1.2, 0.95], "lower": [0.2, 0.7, 0.68, 0.7, 0.57], "upper": [3.9, 3.6, 3.30, 2.1, 1.59],
        "p": [0.9, 0.25, 0.32, 0.5, 0.84], "note": [""] * 5})


def test_a_cut_points_group_one_small_band_away_from_a_withheld_one_is_withheld_too():
    from helpers.report import declarations

    for name in ("sweep", "cutpoint_sensitivity"):
        table = _cutpoints().rename(columns={"hr": "HR or sHR (95% CI)"}) if name == "cutpoint_sensitivity" else _cutpoints()
        out, withheld = disclosure.model_outputs(table, declarations.TABLES[name], REAL)
        ratio = out.columns[out.columns.str.startswith(("hr", "HR"))][0]
        assert withheld == 3, name  # <1.7 and <1.8 on their own cells; <1.9 as their neighbour
        assert out[ratio].isna().tolist() == [True, True, True, False, False], name
        assert "another cut-point" in out.at[2, "note"] and "1 to 7" in out.at[1, "note"]
    # the same table without the nesting rule publishes <1.9, the leak the rule closes
    plain = dataclasses.replace(declarations.TABLES["sweep"], nested=())
    assert disclosure.model_outputs(_cutpoints(), plain, REAL)[0]["hr"].notna().tolist() == [False, False, True, True, True]


def test_spline_knots_only_where_enough_patients_lie_beyond_the_outer_ones():
    from helpers.report import declarations

    table = pd.DataFrame({"model": ["a", "b", "c", "d"], "n": [139, 140, 139, 279], "events": [20] * 4,
                          "knots": ["1.8, 2.1, 2.3, 2.5", "1.8, 2.1, 2.3, 2.5", "1.9, 2.1, 2.4", "1.6, 1.8, 1.9, 2.1, 2.2, 2.3, 2.5"]})
    out, _ = disclosure.model_outputs(table, declarations.TABLES["dose_response"], REAL)
    # 4 knots sit at the 5th and 95th centiles: 0.05 * 139 < 7 <= 0.05 * 140; 3 knots (4 asked for, ties)
    # may too; 7 knots at the 2.5th and 97.5th: 0.025 * 279 < 7
    assert out["knots"].str.startswith("withheld").tolist() == [True, False, True, True]
    assert disclosure.model_outputs(table, declarations.TABLES["dose_response"], SYNTHETIC)[0]["knots"].equals(table["knots"])
    assert disclosure.centile_allowed(0.1, 70, REAL) and not disclosure.centile_allowed(0.1, 69, REAL)


def test_a_schoenfeld_test_resting_on_a_small_group_is_withheld_with_the_global_test():
    from helpers.report import declarations

    fits = pd.DataFrame({"term": ["mg_low", "mg_high", "age"], "n_group": [37, 330, np.nan], "events_group": [7, 25, np.nan],
                         "n_reference": [473, 473, np.nan], "events_reference": [39, 39, np.nan]})
    ph = pd.DataFrame({"Covariate": ["mg_low", "mg_high", "age", "GLOBAL"], "rho": [-0.145, 0.073, -0.078, np.nan],
                       "chisq": [1.53, 0.4, 0.42, 10.05], "df": [1, 1, 1, 12], "p": ["0.216", "0.526", "0.517", "0.611"]})
    table = disclosure.cells_of_terms(ph, "Covariate", fits, "GLOBAL", declarations.MODEL_CELLS)
    assert table.loc[3, "events_group"] == 7 and table.loc[1, "events_group"] == 25
    out, withheld = disclosure.model_outputs(table, declarations.TABLES["proportional_hazards"], REAL)
    assert withheld == 2 and out.loc[[0, 3], "chisq"].isna().all() and out.loc[[0, 3], "p"].isna().all()
    assert out.loc[1, "chisq"] == 0.4 and out.loc[2, "p"] == "0.517" and "events_group" not in out


def test_a_groups_quartiles_only_where_a_quarter_of_it_reaches_the_threshold():
    table = pd.DataFrame({"Variable": ["Age", "Male"], "<1.8 (n = 27)": ["54.0 [45.0–61.0]", "20 (74.1)"],
                          "1.8–2.2 (n = 28)": ["54.0 [44.0;62.0]", "20 (71.4)"]})
    shown, summary = disclosure.disclose_table(table, list(table.columns[1:]), REAL)
    # 0.25 * 27 < 7 <= 0.25 * 28: the smaller group's median and quartiles are redacted, its counts rounded
    assert shown["<1.8 (n = 25)"].tolist() == [REDACTED, "20 (80.0)"]
    assert shown["1.8–2.2 (n = 30)"].tolist() == ["54.0 [44.0;62.0]", "20 (66.7)"]
    assert summary["redacted"] == 1


def test_a_p_for_trend_is_redacted_with_any_small_cell_of_its_variable():
    table = pd.DataFrame({
        "Variable": ["Diuretics", "Male", "Etiology", "   DN", "   GN", "Age", "On dialysis"],
        "<1.8 (n = 37)": ["4/37 (10.8)", "20 (54.1)", "", "3 (8.1)", "34 (91.9)", "54.0 [45.0–61.0]", "33 (89.2)"],
        ">1.8 (n = 803)": ["241/758 (31.8)", "495 (61.6)", "", "187 (23.3)", "616 (76.7)", "55.0 [44.0–63.0]", "400 (49.8)"],
        "P for trend": ["0.098 ↑", "0.333 ↓", "0.003", "", "", "0.183 ↑", "0.001 ↓"]})
    shown, summary = disclosure.disclose_table(table, list(table.columns[1:3]), REAL, tests=("P for trend",))
    # Diuretics: a redacted cell; Etiology: a redacted level beneath its heading; On dialysis: 4 of 37 without
    assert shown["P for trend"].tolist() == [REDACTED, "0.333 ↓", REDACTED, "", "", "0.183 ↑", REDACTED]
    assert disclosure.disclose_table(table, list(table.columns[1:3]), SYNTHETIC, tests=("P for trend",))[0] is table


def test_a_spline_end_resting_on_few_patients_is_withheld_with_its_knots():
    from helpers.report import declarations

    rows = pd.DataFrame({"or": [3.1, 1.4], "lower": [0.9, 0.8], "upper": [10.7, 2.5], "n": [120, 400],
                         "knots": ["1.8, 2.1, 2.3, 2.5"] * 2, "n_beyond": [5, 40], "events_beyond": [2, 12]})
    out, withheld = disclosure.model_outputs(rows, declarations.TABLES["progression_spline_end"], REAL)
    # 5 patients at or below the first point: withheld; 120 patients: 0.05 * 120 < 7, the knots withheld too
    assert withheld == 1 and pd.isna(out.at[0, "or"]) and out.at[1, "or"] == 1.4
    assert out.at[0, "knots"].startswith("withheld") and out.at[1, "knots"] == "1.8, 2.1, 2.3, 2.5"
    assert "n_beyond" not in out


def test_a_logistic_spline_curve_loses_the_ends_resting_on_few_patients(tmp_path, monkeypatch):
    from helpers.stats import regression

    monkeypatch.setenv("MG_TABLES_DIR", str(tmp_path))
    params = {"cohort_kind": "real", "small_count_threshold": 7, "rounding_base": 5}
    mg = np.array([1.6] * 3 + [1.7] * 20 + [2.0] * 100 + [2.5] * 30 + [2.6] * 6)
    progressed = np.arange(len(mg)) % 3 == 0
    curve = pd.DataFrame({"mg": [1.6, 1.7, 2.0, 2.5, 2.6], "log_or": [0.9, 0.5, 0.0, -0.2, -0.3], "se": [0.61234567] * 5})
    curve = curve.assign(**{"or": np.exp(curve["log_or"]), "lower": np.exp(curve["log_or"] - 1), "upper": np.exp(curve["log_or"] + 1)})
    fit = regression.SplineFit(curve, np.array([1.7, 2.0, 2.3, 2.5]), 2.0, 1.0, 2, 0.6, len(mg), int(progressed.sum()))
    shown = outputs.publish_curve(fit, mg, progressed, "progression_cac_spline", params)
    # 1.6: 3 patients at or below it; 2.6: 6 at or above it; 1.7: 23 patients, 8 progressed, 15 not
    assert shown.curve["mg"].tolist() == [1.7, 2.0, 2.5] and shown.curve["se"].tolist() == [0.612] * 3
    assert pd.read_csv(tmp_path / "progression_cac_spline.csv")["mg"].tolist() == [1.7, 2.0, 2.5]
    same = outputs.publish_curve(fit, mg, progressed, "progression_cac_spline", dict(params, cohort_kind="synthetic"))
    assert same.curve.equals(curve)
    assert outputs.knots_text([1.7, 2.0, 2.3, 2.5], 139, params).startswith("withheld")
    assert outputs.knots_text([1.7, 2.0, 2.3, 2.5], 140, params) == "1.70, 2.00, 2.30, 2.50"
