"""Every published table and figure, declared once: what in it counts patients, and what rests on few of them.

A chapter publishes a table by its name (``outputs.publish(frame, "incidence", params)`` writes the CSV,
``outputs.show(frame, caption, params, name="incidence")`` the page); both read the declaration here, so
the CSV and the page can never disagree on what is redacted, and no notebook decides anything by the kind
of data. With synthetic data the declarations change nothing; with real data
(:mod:`helpers.report.disclosure`):

- ``counts``: columns of patient counts, redacted from 1 to the threshold, else rounded. A name with ``*``
  is a pattern (``"*(n = *"``: every column whose header gives a group's size);
- ``rates``: (column, count column) pairs: a rate, share or summary redacted where its count is;
  ``tests``: columns of a test across the groups (a P for trend), redacted where a group's cell of that
  variable is small (see ``disclosure.disclose_table``);
- ``thesis``: columns comparing this run's counts exactly with the thesis's, left out (``"all"``: the whole
  table is such a comparison);
- ``extremes``: one patient's value (a group's minimum or maximum, or a share that gives a count back),
  left out; ``centiles``: (column, p) pairs, shown only where min(p, 1 − p) · n ≥ the threshold, ``n``
  read from the column ``centile_n`` (p ``"rcs knots"``: a column of spline knots, p their outer quantile);
- ``estimates``: model outputs (estimate, SE, limits, P) of a row, and ``cells``: the counts of the groups
  or strata that row's contrast involves. A row whose cell holds 1 to threshold patients or events (or,
  with ``non_events``, as many patients without the event, for a logistic model) is withheld, with the
  reason in ``reason`` (and ``flag`` set False); with ``together``, every row sharing that column's value
  is withheld with it, since the others and a published total would give it back; with ``nested``
  (the model column, the group column), the groups of one model at different cut-points are nested, and a
  row whose cells differ from a withheld row's by 1 to threshold (a small band between two cut-points) is
  withheld too, since its estimate is nearly the withheld one. The other estimates
  are rounded (``decimals``) so that a standard error cannot be inverted into an exact count. Columns in
  ``drop`` serve the decision only and are not published; with ``drop_withheld`` a withheld row is left
  out rather than emptied (the lines of a figure). ``rounded``: (column, decimals) pairs of statistics that
  rest on no small cell (a test on the whole cohort, a curve from rounded counts), rounded with real data.

``patients=False`` marks a table that counts no patient (validation runs, the parameters). Figures are
declared in ``FIGURES`` the same way; ``points`` says whether a figure may draw one point per patient.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

# The columns of a tidy model frame (``analysis.models.fit_models``) and what each row rests on.
MODEL_ESTIMATES = ("coef", "se", "hr", "or", "lower", "upper", "p")
MODEL_CELLS = ("n_group", "events_group", "n_reference", "events_reference")
MODEL_COUNTS = ("n", "events", "n_dropped", *MODEL_CELLS)


@dataclass(frozen=True)
class Table:
    """The declaration of one published table (see the module's docstring)."""

    counts: tuple = ()
    rates: tuple = ()
    thesis: tuple | str = ()
    patients: bool = True
    source: str = "cohort"
    extremes: tuple = ()
    centiles: tuple = ()
    centile_n: str = "n"
    estimates: tuple = ()
    cells: tuple = ()
    non_events: tuple = ()
    together: str | None = None
    nested: tuple = ()
    rounded: tuple = ()
    tests: tuple = ()
    reason: str = "reason"
    flag: str | None = None
    decimals: int = 2
    drop: tuple = ()
    drop_withheld: bool = False

    def count_columns(self, columns) -> list:
        """The declared count columns among ``columns`` (patterns expanded), in the table's order."""
        return [c for c in columns if any(c == p or ("*" in p and fnmatch.fnmatchcase(str(c), p)) for p in self.counts)]


@dataclass(frozen=True)
class Figure:
    """The declaration of one published figure: its count labels, and whether it may draw single patients."""

    counts: tuple = ()
    points: bool = False


MODEL = Table(counts=MODEL_COUNTS, estimates=MODEL_ESTIMATES, cells=MODEL_CELLS)
LOGISTIC = Table(counts=MODEL_COUNTS, estimates=MODEL_ESTIMATES, cells=MODEL_CELLS,
                 non_events=(("n_group", "events_group"), ("n_reference", "events_reference")))
NO_PATIENTS = Table(patients=False)
FLOW = Table(counts=("This run",), thesis=("Difference",))
GROUP_EVENTS = Table(counts=("Participants", "Events (%)", "Progressed (%)"))
# The standardized risks of a group (and its contrast with the reference) rest on both causes' events.
GROUP_CELLS = ("n_group", "events_group", "competing_group", "n_reference", "events_reference", "competing_reference")
STANDARDIZED = Table(counts=GROUP_CELLS, estimates=("estimate", "se", "lower", "upper", "lower_log", "upper_log"),
                     cells=GROUP_CELLS, decimals=3)
LOGISTIC_CURVE = Table(estimates=("log_or", "se", "or", "lower", "upper"), cells=("n_beyond", "events_beyond"),
                       non_events=(("n_beyond", "events_beyond"),), drop=("n_beyond", "events_beyond"),
                       drop_withheld=True, decimals=3)
# Tables whose every number comes from a model (formatted ratios, curves): the model frame they are made
# from was published first (``outputs.publish``), so its withheld rows reach them as words.
DERIVED = Table()

TABLES: dict[str, Table] = {
    # the cohort
    "flow_primary": FLOW, "flow_cac": FLOW, "flow_pwv": FLOW,
    # the baseline table
    # The P for trend compares the groups: it rests on each group's cells of its variable.
    "baseline": Table(counts=("*(n = *", "Missing"), tests=("P for trend",)),
    "baseline_vs_published": Table(thesis="all"),
    "baseline_teaching_example": NO_PATIENTS,
    # hazards
    "incidence": Table(counts=("Participants", "Events", "Person-years")),
    "cause_specific": MODEL,
    "table_2_2_2": DERIVED,
    "group_events": GROUP_EVENTS,
    "cause_specific_kidney": MODEL,
    "table_kidney": DERIVED,
    "kidney_events": Table(counts=("Participants", "Kidney events (%)")),
    # The ratios at the groups' medians rest on those groups; a curve's point on the patients beyond it.
    "dose_response": Table(counts=("n", "events"),
                           estimates=tuple(f"{e}_{g}" for g in ("low_median", "high_median") for e in ("ratio", "lower", "upper")),
                           cells=("n_low", "events_low", "n_high", "events_high"),
                           drop=("n_low", "events_low", "n_high", "events_high"),
                           centiles=(("knots", "rcs knots"),),
                           rounded=tuple((f"{s}_{t}", 3 if s == "p" else 2) for t in ("overall", "nonlinear") for s in ("chisq", "p"))),
    "dose_response_curves": Table(estimates=("log_hr", "se", "hr", "lower", "upper"), cells=("n_beyond", "events_beyond"),
                                  drop=("n_beyond", "events_beyond"), drop_withheld=True, decimals=3),
    "complete_cases": Table(counts=("Patients used", "Left out", "Why")),
    "ties_efron_breslow": Table(estimates=("Efron", "Breslow", "Efron − Breslow, log HR"), cells=MODEL_CELLS, drop=MODEL_CELLS),
    "map_formula": Table(estimates=("Model 3 HR, Mg low (95% CI)",), cells=MODEL_CELLS, drop=MODEL_CELLS),
    # Quartiles of a group's follow-up: shown only where a quarter of its patients reach the threshold.
    "median_follow_up": Table(counts=("Participants",), rates=(("Median follow-up, years [Q1–Q3]", "Participants"),),
                              centiles=(("Median follow-up, years [Q1–Q3]", 0.25),), centile_n="Participants"),
    "cumulative_incidence": Table(rounded=(("cif", 4), ("var", 6), ("lower", 4), ("upper", 4))),
    # Gray's test compares every group's curve: it rests on each group's cells (the smallest of each kind).
    "gray_test": Table(estimates=("statistic", "p"), cells=MODEL_CELLS, drop=MODEL_CELLS),
    # The Schoenfeld test of a group's term rests on its cells; the global test on every group's.
    "proportional_hazards": Table(estimates=("rho", "chisq", "p"), cells=MODEL_CELLS, drop=MODEL_CELLS, decimals=3),
    # sensitivity
    "fine_gray": MODEL,
    "table_2_2_3": DERIVED,
    # A group's model-implied curve rests on its own events (of both causes) and on the reference group's.
    "fine_gray_implied_incidence": Table(estimates=("cif",), cells=GROUP_CELLS, drop=GROUP_CELLS, drop_withheld=True),
    "mg_continuous": Table(counts=("Patients", "Events"), estimates=("Ratio per 0.1 mg/dL (95% CI)", "P"),
                           cells=("Patients", "Events"), reason="Note"),
    "cutpoint_sensitivity": Table(counts=("participants", "events", "reference_participants", "reference_events"),
                                  estimates=("HR or sHR (95% CI)", "P"),
                                  cells=("participants", "events", "reference_participants", "reference_events"),
                                  nested=("model", "group"), reason="note"),
    "cutpoint_sensitivity_display": Table(counts=("Participants", "Events", "Reference participants", "Reference events")),
    "km_versus_aalen_johansen": DERIVED,
    # Each time term rests on its group's cells (both causes) and the reference's; the joint test on both groups'.
    "proportional_subdistribution_hazards": Table(estimates=("coef", "se", "lower", "upper", "p", "statistic"),
                                                  cells=GROUP_CELLS, drop=GROUP_CELLS, decimals=3),
    "proportional_subdistribution_hazards_display": DERIVED,
    "sweep": Table(counts=("participants", "events", "reference_participants", "reference_events"),
                   estimates=("hr", "lower", "upper", "p"),
                   cells=("participants", "events", "reference_participants", "reference_events"),
                   nested=("model", "group"), reason="note"),
    # progression
    "progression_cac": LOGISTIC, "progression_pwv": LOGISTIC,
    "progression_ratios": DERIVED,
    # Logistic rows rest on each group's patients with and without progression; ANCOVA rows on its patients.
    "progression_pwv_baseline": Table(counts=("n", *MODEL_CELLS), estimates=("estimate", "lower", "upper", "p"),
                                      cells=MODEL_CELLS, non_events=LOGISTIC.non_events),
    "progression_pwv_baseline_display": Table(counts=("Patients",)),
    "progression_counts": GROUP_EVENTS,
    # The odds ratio at a spline's low end (an exercise's words) rests on the patients at or below it,
    # with and without progression; its knots are centiles.
    "progression_spline_end": Table(estimates=("or", "lower", "upper"), cells=("n_beyond", "events_beyond"),
                                    non_events=(("n_beyond", "events_beyond"),), centiles=(("knots", "rcs knots"),),
                                    drop=("n_beyond", "events_beyond")),
    # A logistic spline's point rests on the patients at or beyond it, with and without progression.
    "progression_cac_spline": LOGISTIC_CURVE, "progression_pwv_spline": LOGISTIC_CURVE,
    # subgroups
    "subgroups": Table(counts=("n_low", "events_low", "n_mid", "events_mid", "n_high", "events_high"),
                       estimates=("hr", "lower", "upper", "p", "p_interaction", "p_interaction_low"),
                       cells=("n_low", "events_low", "n_mid", "events_mid"), together="subgroup",
                       flag="estimable"),
    "subgroups_display": Table(counts=("Patients*", "Events*")),
    # beyond the thesis
    "standardized_risks": STANDARDIZED,
    "standardized_risks_display": DERIVED,
    "standardized_risks_tied_times": Table(counts=GROUP_CELLS, estimates=("se_ate", "se_counted", "ratio"),
                                           cells=GROUP_CELLS, decimals=4),
    "standardized_curves": Table(counts=GROUP_CELLS, estimates=("cif", "lower", "upper"), cells=GROUP_CELLS, decimals=3,
                                 drop=GROUP_CELLS),
    "standardized_risks_bootstrap": Table(estimates=("estimate", "boot_lower", "boot_upper"), cells=GROUP_CELLS,
                                          drop=GROUP_CELLS, decimals=3),
    "overlap": Table(counts=("n",), extremes=("min", "max", "share"),
                     centiles=(("q05", 0.05), ("median", 0.5), ("q95", 0.95))),
    "overlap_display": DERIVED,
    "marker_missing": Table(counts=("n_recorded", "n_missing")),
    "marker_missing_display": Table(counts=("Patients with a value", "Missing")),
    "marker_models": Table(counts=("n", "events", "n_imputed", *MODEL_CELLS), estimates=("hr", "lower", "upper", "p", "df", "fmi"),
                           cells=MODEL_CELLS),
    "marker_models_display": DERIVED,
    # Means of imputed values rest on the patients imputed: a marker imputed for few is left out whole.
    "imputation_trace": Table(estimates=("mean",), cells=("n_imputed",), drop=("n_imputed",), drop_withheld=True),
    # The end of a group's follow-up is one patient's time: with real data the column is left out.
    "incidence_end_of_followup": Table(extremes=("End of follow-up (years)",)),
    "e_values": Table(counts=MODEL_CELLS, estimates=("ratio", "lower", "upper", "rr", "rr_lower", "rr_upper", "e_point", "e_ci"),
                      cells=MODEL_CELLS),
    "e_values_display": DERIVED,
    # cell culture, and pages that count no patient
    "vsmc_tests": Table(patients=False, source="vsmc"), "vsmc_display": Table(patients=False, source="vsmc"),
    "disclosure_rules": NO_PATIENTS, "data_dictionary": NO_PATIENTS, "parameters": NO_PATIENTS,
    "derived_variables": NO_PATIENTS, "synthetic_design": NO_PATIENTS,
    "calibration": Table(thesis="all"),
    "colophon_parameters": NO_PATIENTS, "colophon_inputs": NO_PATIENTS, "colophon_packages": NO_PATIENTS,
    "validation_agreement": NO_PATIENTS, "validation_recovery": NO_PATIENTS, "validation_audit": NO_PATIENTS,
    "findings_at_a_glance": DERIVED,
}

FIGURES: dict[str, Figure] = {
    "schoenfeld": Figure(points=False),
}


def table(name: str) -> Table:
    """The declaration of the table ``name``; an undeclared name is an error that says where to declare it."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"table {name!r} is not declared: add it to TABLES in helpers/report/declarations.py") from None


def figure(name: str) -> Figure:
    """The declaration of the figure ``name``."""
    try:
        return FIGURES[name]
    except KeyError:
        raise KeyError(f"figure {name!r} is not declared: add it to FIGURES in helpers/report/declarations.py") from None
