"""The declaration of what the synthetic cohort fixes (data/published/synthetic_design.yml), its box, and
that the box is shown for the shipped cohort only."""

import pandas as pd
import pytest

from helpers import paths
from helpers.analysis import models
from helpers.pipeline import params as params_mod
from helpers.report import outputs, published

CHAPTERS = ("cohort", "baseline", "hazards", "sensitivity", "progression", "subgroups", "sweep", "vsmc", "beyond")


def test_every_results_chapter_has_declared_results_of_known_status():
    for chapter in CHAPTERS:
        rows = published.design_results(chapter)
        assert len(rows) > 0, chapter
        assert set(rows["status"]) <= set(published.STATUSES)


def test_the_declared_values_are_filled_in_from_the_published_tables():
    rows = published.design_results().set_index("key")
    events = ", ".join(str(v) for v in published.incidence().set_index("group").loc[list(published.GROUPS), "events"])
    assert f"({events})" in rows.at["events", "result"]
    assert "{" not in "".join(rows["result"]) + "".join(rows["how"])


def test_an_unknown_status_is_refused(monkeypatch):
    text = published._design_text().replace("status: free", "status: guessed", 1)
    monkeypatch.setattr(published, "_design_text", lambda: text)
    with pytest.raises(ValueError, match="guessed"):
        published.design()


def test_the_box_lists_the_chapter_results_for_the_shipped_cohort_only():
    box = outputs.design_box({"cohort_shipped": True}, "hazards").data
    assert outputs.DESIGN_TITLE in box
    for result in published.design_results("hazards")["result"]:
        assert result in box
    assert outputs.design_box({"cohort_shipped": False, "cohort_kind": "synthetic"}, "hazards").data == ""


def test_a_modified_copy_is_not_the_shipped_cohort_even_when_declared_synthetic(tmp_path):
    cohort = pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)
    cohort.loc[0, "age"] = "60"
    data = tmp_path / "cohort.csv"
    cohort.to_csv(data, index=False, lineterminator="\n")
    p = params_mod.load(overrides={"cohort_csv": str(data), "data_kind": "synthetic"})
    assert p["cohort_kind"] == "synthetic" and p["cohort_shipped"] is False
    assert outputs.design_box(p, "hazards").data == ""
    assert params_mod.load()["cohort_shipped"] is True


@pytest.mark.book
def test_a_chapter_run_on_a_modified_copy_shows_no_box(tmp_path):
    """Executed as the build executes it (papermill), on the shipped file with one value changed and
    declared synthetic: the chapter says the data are synthetic but claims nothing of the generator's design."""
    from helpers.pipeline import execute

    cohort = pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)
    cohort.loc[0, "age"] = "60"
    data = tmp_path / "cohort.csv"
    cohort.to_csv(data, index=False, lineterminator="\n")
    overrides = {"cohort_csv": str(data), "data_kind": "synthetic"}
    # One chapter with a box (the landing page's marks for a modified copy are the next test's, in-process).
    target = tmp_path / "03_hazards.ipynb"
    execute.execute(paths.ROOT / "notebooks/03_hazards.md", target, "params/default.yml", overrides, tmp_path / "tables")
    executed = target.read_text(encoding="utf-8")
    assert outputs.DESIGN_TITLE not in executed and "synthetic_design.yml" not in executed
    assert "Synthetic data" in executed


def test_findings_at_a_glance_come_from_the_run_and_carry_marks_for_the_shipped_cohort_only():
    from helpers.analysis import models
    from helpers.pipeline import validate
    from helpers.report import glance
    from helpers.stats import survival

    p = params_mod.load()
    _, analysed = validate.cohorts(p)
    table = glance.findings(analysed, p).set_index("Finding")
    fit = models.fit_models(analysed, survival.cause_specific_cox, "followup_years", "status", cause=1)
    low = fit[(fit["model"] == "Model 4") & (fit["term"] == "mg_low")].iloc[0]
    assert table.at["Model 4 cause-specific HR, Mg <1.8 (Table 2.2.2)", "This run"] == outputs.format_ratio(
        low["hr"], low["lower"], low["upper"])
    assert table.at["Model 4 cause-specific HR, Mg <1.8 (Table 2.2.2)", "Design status"] == "constrained"
    assert set(table["Design status"]) <= set(glance.MARKS.values())
    other = glance.findings(analysed, p | {"cohort_shipped": False})
    assert "Design status" not in other.columns and glance.legend(p | {"cohort_shipped": False}) == ""


def test_the_landing_pages_answer_states_the_estimate_its_counts_and_its_design_status():
    """The headline's HR, CI and low-group counts are those of a Model 4 fit and of the patients it used,
    counted here independently; the status is the declaration's; other data carry no design status."""
    import re

    from helpers.pipeline import validate
    from helpers.report import glance
    from helpers.stats import survival

    p = params_mod.load()
    _, analysed = validate.cohorts(p)
    text = glance.headline(analysed, p)
    fit = models.fit_models(analysed, survival.cause_specific_cox, "followup_years", "status", cause=1)
    low = fit[(fit["model"] == "Model 4") & (fit["term"] == "mg_low")].iloc[0]
    assert f"Hazard ratio {low['hr']:.2f} ({low['lower']:.2f}–{low['upper']:.2f})" in text
    complete = analysed[analysed[models.MODEL_4].notna().all(axis=1) & (analysed["mg"] < 1.8)]
    assert f"{int((complete['status'] == 1).sum())} events among {len(complete)} patients" in text
    assert "Design status: constrained." in text and "not a finding" in text
    other = glance.headline(analysed, p | {"cohort_shipped": False})
    assert "Design status" not in other and re.search(r"Hazard ratio \d\.\d\d", other)


def test_an_empty_design_box_displays_nothing():
    # IPython shows an object with no rich output by its repr, which would print
    # "<IPython.core.display.Markdown object>" where the box would be; the empty box must format to nothing.
    from IPython.core.interactiveshell import InteractiveShell

    formatter = InteractiveShell.instance().display_formatter
    assert formatter.format(outputs.design_box({"cohort_shipped": False}, "hazards")) == ({}, {})
    shown, _ = formatter.format(outputs.design_box({"cohort_shipped": True}, "hazards"))
    assert not shown  # shown through display(), as markdown, not by the formatter's repr
