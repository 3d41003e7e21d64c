"""Any plausible cohort builds: real-shaped cohorts (tests/cohorts.py, seeded) that vary size, Mg unit,
column order, extra and missing optional columns, missing covariates, tiny and empty groups, strata without
events, ties, follow-up 0 and a single Mg group, each run in real mode through the chapters' own code
(in-process, cell by cell: tests/chapters_inprocess.py). No case raises, and no page shows a traceback or
an exception's name; where an estimate cannot be made the cell says why, and where R gives an estimate
(standardized risks of a level without competing events) so does the book."""

import re

import numpy as np
import pandas as pd
import pytest

import chapters_inprocess
import cohorts
from helpers.errors import InputError
from cohorts import HIGH, LOW, MID
from helpers.analysis import cohort
from helpers.pipeline import params as params_mod, runs, validate

pytestmark = [pytest.mark.filterwarnings("ignore"), pytest.mark.slow]
EXCEPTION = re.compile(r"Traceback|\b[A-Z]\w*(Error|Exception)\b|\bnan\b|\binf\b")


@pytest.fixture(scope="session")
def _validated(tmp_path_factory):
    return tmp_path_factory.mktemp("validated-cohorts")


@pytest.fixture(autouse=True)
def _agg(monkeypatch, _validated):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # As in a build, a cohort file is validated once (by the checks before any chapter), and the chapters
    # read the validated frame (validate.VALIDATED_ENV; keyed by the file's bytes and units): a case's own
    # file, and the shipped cohort its exercises read.
    monkeypatch.setenv(validate.VALIDATED_ENV, str(_validated))


def _checks(params_file) -> str:
    """What the build checks before any notebook runs (the cohort against the data contract, then each
    page's declared parameter checks): '' when all pass, else the one message it stops with."""
    settings = params_mod.load(params_file)
    try:
        cohort = validate.load_cohort(settings["cohort_csv"], settings["mg_unit"], settings["lab_units"])
        validate.preflight(settings, [n for names in runs.PREFLIGHT.values() for n in names], cohort)
    except InputError as stop:
        return str(stop)
    return ""


def _run(shape, chapters, tmp_path):
    """The build's checks, then (when they pass) each chapter's output; no chapter may raise."""
    params_file = cohorts.write(shape, tmp_path)
    stop = _checks(params_file)
    if stop:
        return stop, {}
    return "", {chapter: chapters_inprocess.run(chapter, params_file, tmp_path / "tables") for chapter in chapters}


def test_there_are_enough_cases_and_every_variation_is_tried():
    assert len(cohorts.CASES) >= 30
    shapes = [s for s, _ in cohorts.CASES]
    sizes = {s.n for s in shapes}
    assert min(sizes) == 150 and max(sizes) == 20_000
    assert {s.mg_unit for s in shapes} == {"mg/dL", "mmol/L", "mEq/L"}
    for variation in ("shuffle_columns", "extra_columns", "drop_optional", "missing_share", "no_composite_in",
                      "no_competing_in", "women_low_no_competing", "women_low_no_events", "ties", "zero_followup",
                      "zero_followup_event", "single_group", "lab_units"):
        assert any(getattr(s, variation) for s in shapes), variation
    assert {s.low_group_size for s in shapes} >= {1, 3, 5, 7} and max(s.missing_share for s in shapes) == 0.4
    # Every chapter that reads the cohort runs in some case (07 reads the cell-culture file only).
    chapters = {d.split("/")[-1] for d in runs.toc_documents() if d.startswith("notebooks/")} - {"07_vsmc"}
    assert len(chapters) == 7 and chapters <= {c for _, run in cohorts.CASES for c in run}


def test_the_generator_is_seeded_and_writes_what_a_user_would():
    shape = cohorts.CASES[1][0]
    a, b = cohorts.make(shape), cohorts.make(shape)
    pd.testing.assert_frame_equal(a, b)
    assert "pwv_baseline" not in a and "site_note_0" in a and list(a.columns) != sorted(a.columns)
    mg = pd.to_numeric(a["mg"], errors="coerce")
    assert mg.max() < 1.2  # mmol/L


@pytest.mark.parametrize("case", range(len(cohorts.CASES)), ids=lambda i: f"case{i}")
def test_every_case_builds_its_chapters_in_real_mode(case, tmp_path):
    shape, chapters = cohorts.CASES[case]
    stop, shown = _run(shape, chapters, tmp_path)
    assert not stop  # every case is a plausible cohort: only a violation of the data contract stops
    for chapter, text in shown.items():
        found = EXCEPTION.search(text)
        assert not found, (chapter, text[max(0, found.start() - 200):found.end() + 100])
    log = pd.read_csv(tmp_path / "tables" / "disclosure_log.csv")
    tables = log[log["Kind"] == "table"]  # (exercise solutions quote the shipped synthetic cohort: Kind 'text')
    assert len(tables) and (tables["Note"] != "synthetic data: exact counts").all()


def _table(tmp_path, name):
    return pd.read_csv(tmp_path / "tables" / f"{name}.csv", keep_default_na=False)


def test_a_group_without_a_composite_event_says_why_and_the_rest_is_estimated(tmp_path):
    shape = cohorts.Shape(101, n=600, no_composite_in="low")
    assert not _run(shape, ("03_hazards",), tmp_path)[0]
    table = _table(tmp_path, "cause_specific")
    low, high = table[table["term"] == "mg_low"], table[table["term"] == "mg_high"]
    assert (low["reason"] == "not estimable: no event in the low-Mg group").all() and (low["hr"] == "").all()
    assert (high["hr"] != "").all() and (high["reason"] == "").all()


def test_a_group_without_competing_events_gets_standardized_risks(tmp_path):
    shape = cohorts.Shape(102, n=900, no_competing_in="low")
    assert not _run(shape, ("08_beyond",), tmp_path)[0]
    risks = _table(tmp_path, "standardized_risks")
    low = risks[(risks["group"] == "<1.8") & (risks["kind"] == "risk")]
    assert (pd.to_numeric(low["competing_group"]) == 0).all()
    assert pd.to_numeric(low["estimate"]).gt(0).all()  # estimated, as ate on CSC estimates it


def test_a_tiny_group_is_withheld_everywhere_it_would_be_published(tmp_path):
    shape = cohorts.Shape(103, n=600, low_group_size=5)
    stop, shown = _run(shape, ("03_hazards", "06_subgroups"), tmp_path)
    assert not stop
    table = _table(tmp_path, "cause_specific")
    low = table[table["term"] == "mg_low"]
    assert (low["se"] == "").all() and low["reason"].str.startswith(("withheld", "not estimable")).all()
    subgroups = _table(tmp_path, "subgroups")
    assert (subgroups["hr"] == "").all()  # every stratum rests on at most 5 low-Mg patients
    assert "withheld" in shown["03_hazards"]


def test_a_contract_violation_stops_with_one_message_before_any_chapter(tmp_path):
    shape = cohorts.Shape(104, n=150)
    params_file = cohorts.write(shape, tmp_path)
    settings = params_mod.load(params_file, {"mg_unit": "mmol/L"})  # the wrong unit: 2.4 mmol/L is 5.8 mg/dL
    with pytest.raises(InputError) as stop:
        validate.cohorts(settings)
    message = str(stop.value)
    assert "cohort.csv" in message and "mg" in message and "\n" not in message.strip()


@pytest.mark.parametrize("low_group_size, single", [(None, True), (0, False)], ids=["one group", "two groups"])
def test_a_cohort_with_one_or_two_mg_groups_builds_and_each_contrast_says_why(low_group_size, single, tmp_path):
    shape = cohorts.Shape(105, n=300, single_group=single, low_group_size=low_group_size)
    stop, shown = _run(shape, ("02_baseline", "03_hazards", "08_beyond"), tmp_path)
    assert not stop
    why = "not estimable: only one Mg group (1.8–2.2 mg/dL)"
    models_ = _table(tmp_path, "cause_specific").set_index("term")
    risks = _table(tmp_path, "standardized_risks")
    if single:
        assert (models_["reason"] == why).all() and (models_["hr"] == "").all()
        assert (risks["reason"] == why).all() and (risks["estimate"] == "").all()
        assert why in shown["03_hazards"] and why in shown["02_baseline"]  # Gray's test; the baseline table's tests
    else:  # the high group against the middle one is estimated; the empty group says why
        assert (models_.loc["mg_low", "reason"] == "not estimable: no patient in the low-Mg group").all()
        assert (models_.loc["mg_high", "hr"] != "").all() and (models_.loc["mg_high", "reason"] == "").all()
        low = risks[risks["group"] == "<1.8"]
        assert (low["reason"] == "not estimable: no patient in the <1.8 mg/dL group").all()
        assert (risks.loc[risks["group"] == ">2.2", "estimate"] != "").all()
    # What does not compare groups is published: the middle group's incidence; an empty group has no rate.
    rates = _table(tmp_path, "incidence").set_index("Serum Mg (mg/dL)")["Rate per 1,000 person-years (95% CI)"]
    assert rates["1.8–2.2"] != "" and rates["<1.8"] == ""


def test_labs_in_another_unit_without_lab_units_stop_before_any_chapter_with_one_message(tmp_path):
    shape = cohorts.Shape(106, n=300, lab_units=("ipth",))
    params_file = cohorts.write(shape, tmp_path)
    assert _checks(params_file) == ""  # declared: it builds
    params_file.write_text(params_file.read_text().replace("lab_units: {ipth: pmol/L}", "lab_units: {}"))
    stop = _checks(params_file)
    assert stop.startswith(f"{tmp_path / 'cohort.csv'}: column 'ipth' has a median") and "\n" not in stop
    assert "lab_units: {ipth: pmol/L}" in stop


def test_follow_up_0_with_an_event_is_kept_and_without_one_is_excluded_as_planted(tmp_path):
    shape = cohorts.Shape(107, n=300, zero_followup=4, zero_followup_event=3)
    the_cohort = validate.load_cohort(params_mod.load(cohorts.write(shape, tmp_path))["cohort_csv"])
    flow = cohort.primary_flow(the_cohort, [LOW, MID], HIGH).set_index("key")["n"]
    assert flow["no_followup"] == 4 and flow["analysed"] == 300 - 4  # the generator's resample has none of its own
    assert cohort.events_at_enrolment(the_cohort, HIGH) == 3
