"""A seeded generator of real-shaped test cohorts: the shipped synthetic cohort resampled and then made
as messy as a real one, one variation at a time or several together.

Each variation is independent of the others (a field of :class:`Shape`): the size (150 to 20,000
patients), the unit of serum Mg, the order of the columns, extra columns and missing optional ones, a
share of missing covariates, a Mg group of 1 to 7 patients, a group without a composite event, a group or a
subgroup stratum without a competing event, a stratum without any event, tied times, follow-up 0 (with or
without an event at 0), and a single Mg group. ``make(shape)`` returns the cohort as the text a CSV file
holds (every cell a string), so a test writes exactly what a user would.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from helpers import paths
from helpers.analysis import derive

OPTIONAL = ["cac_baseline", "cac_year4", "revasc_by_year4", "pwv_baseline", "pwv_year4", "vitd_agonist",
            "phosphate_binder", "lipid_lowering", "diuretic"]
COVARIATES = ["bmi", "sbp", "dbp", "egfr", "total_chol", "albumin", "phosphate", "calcium", "diabetes", "smoking"]
LOW, MID, HIGH = 1.8, 2.2, 2.6  # the default cut-points and exclusion, mg/dL


@dataclass(frozen=True)
class Shape:
    """One real-shaped cohort: every field a variation (the defaults are the plain resampled cohort)."""

    seed: int
    n: int = 600
    mg_unit: str = "mg/dL"
    shuffle_columns: bool = False
    extra_columns: int = 0
    drop_optional: tuple = ()
    missing_share: float = 0.0  # of patients, each without one covariate of COVARIATES
    low_group_size: int | None = None  # patients below 1.8 mg/dL (0: two Mg groups)
    no_composite_in: str | None = None  # 'low' or 'high': that group without a composite event
    no_competing_in: str | None = None  # 'low' or 'high': that group without a competing (kidney) event
    women_low_no_competing: bool = False  # a subgroup stratum (women, low Mg) without a competing event
    women_low_no_events: bool = False  # a subgroup stratum (women, low Mg) without any event
    ties: bool = False  # follow-up rounded to 0.1 year: many tied times
    zero_followup: int = 0  # patients with follow-up 0 and no event
    zero_followup_event: int = 0  # patients with follow-up 0 and a composite event at 0
    single_group: bool = False  # every patient in the middle Mg group
    lab_units: tuple = ()  # laboratory columns in their other unit (derive.LAB_UNITS), declared by lab_units
    note: str = field(default="", compare=False)

    def with_(self, **changes) -> "Shape":
        return replace(self, **changes)


def _base(rng: np.random.Generator, n: int) -> pd.DataFrame:
    shipped = pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)
    mg = pd.to_numeric(shipped["mg"], errors="coerce")
    # Patients the analyses use (Mg measured, below the exclusion, followed up) and a few others.
    usable = shipped[mg.notna() & (mg < HIGH) & (pd.to_numeric(shipped["followup_years"], errors="coerce") > 0)]
    rows = usable.iloc[rng.integers(0, len(usable), n)].reset_index(drop=True)
    rows["patient_id"] = [f"P{i:06d}" for i in range(n)]
    return rows


def _numbers(df: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(df[column], errors="coerce")


def _set_group(df: pd.DataFrame, rows, low: float, high: float, rng) -> None:
    df.loc[rows, "mg"] = [f"{v:.1f}" for v in rng.uniform(low, high, len(rows))]


def _groups(df: pd.DataFrame, shape: Shape, rng) -> None:
    mg = _numbers(df, "mg")
    if shape.single_group:
        _set_group(df, df.index, LOW, MID, rng)
        return
    if shape.low_group_size is not None:
        low = df.index[mg < LOW]
        keep = low[:shape.low_group_size]
        _set_group(df, low.difference(keep), LOW, MID, rng)
        if len(keep) < shape.low_group_size:
            _set_group(df, df.index[mg >= LOW][:shape.low_group_size - len(keep)], 1.4, 1.75, rng)


def _events(df: pd.DataFrame, shape: Shape) -> None:
    mg = _numbers(df, "mg")
    group = {"low": mg < LOW, "high": mg > MID}
    if shape.no_composite_in:
        df.loc[group[shape.no_composite_in] & (df["status"] == "1"), "status"] = "0"
    if shape.no_competing_in:
        df.loc[group[shape.no_competing_in] & (df["status"] == "2"), "status"] = "0"
    women_low = (df["sex"] == "F") & group["low"]
    if shape.women_low_no_competing:
        df.loc[women_low & (df["status"] == "2"), "status"] = "0"
    if shape.women_low_no_events:
        df.loc[women_low, "status"] = "0"


def _followup(df: pd.DataFrame, shape: Shape) -> None:
    years = _numbers(df, "followup_years")
    if shape.ties:
        df["followup_years"] = [f"{max(v, 0.1):.1f}" for v in np.round(years, 1)]
    censored = df.index[df["status"] == "0"]
    df.loc[censored[:shape.zero_followup], "followup_years"] = "0"
    events = df.index[df["status"] == "1"]
    df.loc[events[:shape.zero_followup_event], "followup_years"] = "0"


def _missing(df: pd.DataFrame, shape: Shape, rng) -> None:
    if shape.missing_share <= 0:
        return
    # That share of patients lacks one covariate each (which one at random): the models' complete cases
    # are the others, as in a real cohort where most records are complete.
    hide = np.flatnonzero(rng.random(len(df)) < shape.missing_share)
    for row, column in zip(hide, rng.choice(COVARIATES, len(hide))):
        df.iat[row, df.columns.get_loc(column)] = ""


def _layout(df: pd.DataFrame, shape: Shape, rng) -> pd.DataFrame:
    if shape.mg_unit != "mg/dL":
        factor = derive.MG_UNIT_FACTORS[shape.mg_unit]
        df["mg"] = [f"{v / factor:.3f}" if np.isfinite(v) else "" for v in _numbers(df, "mg")]
    for column in shape.lab_units:
        factor = derive.LAB_UNITS[column][1]
        df[column] = [f"{v / factor:.6g}" if np.isfinite(v) else "" for v in _numbers(df, column)]
    df = df.drop(columns=[c for c in shape.drop_optional if c in df.columns])
    for i in range(shape.extra_columns):
        df[f"site_note_{i}"] = rng.choice(["a", "b", "c, with a comma"], len(df))
    if shape.shuffle_columns:
        df = df[list(rng.permutation(df.columns))]
    return df


def make(shape: Shape) -> pd.DataFrame:
    """The cohort of ``shape`` as the strings of a CSV file (deterministic for its seed)."""
    rng = np.random.default_rng(shape.seed)
    df = _base(rng, shape.n)
    _groups(df, shape, rng)
    _events(df, shape)
    _followup(df, shape)
    _missing(df, shape, rng)
    return _layout(df, shape, rng)


def write(shape: Shape, folder) -> "paths.Path":
    """Write the cohort of ``shape`` to ``folder/cohort.csv`` and a real-mode parameters file beside it;
    return the parameters file."""
    data = folder / "cohort.csv"
    make(shape).to_csv(data, index=False)
    params = folder / "params.yml"
    params.write_text(f"cohort_csv: {data}\nvsmc_csv: null\ndata_kind: real\nmg_unit: {shape.mg_unit}\n"
                      "imputations: 2\nsweep_grid: {lower: [1.7, 1.8], upper: [2.2, 2.3]}\n"
                      f"lab_units: {{{', '.join(f'{c}: {derive.LAB_UNITS[c][0]}' for c in shape.lab_units)}}}\n",
                      encoding="utf-8")
    return params


# Every variation at least once; several together in some; seeds fixed. The chapters are the pages whose
# code the test runs in-process for the case: those the variation can break, and no others, since each page
# costs a second or two. Validation turns the Mg unit, the column order and extra columns into the same
# frame, so a case varying only those runs the pages that show the data as read (01, 02) and at most one
# model page; a subgroup stratum without events can only break the subgroup page; a variation that
# test_cohorts' own tests run through a page (one or two Mg groups: 02, 03, 08; a group without composite
# or competing events; a low group of 5) is run here through the other pages. The 20,000 patients are the
# top of the size range (thousands in the flow counts, a resample 100 times the smallest): the cohort page;
# the models run at 2,000 and 5,000.
CORE = ("03_hazards", "06_subgroups")
ALL = ("01_cohort", "02_baseline", "03_hazards", "04_sensitivity", "06_subgroups", "08_beyond")
CASES: list[tuple[Shape, tuple]] = [
    (Shape(1, n=150), ALL),
    (Shape(2, n=400, mg_unit="mmol/L", shuffle_columns=True, extra_columns=2,
           drop_optional=("pwv_baseline", "pwv_year4"), note="the issue's first report"),
     ("01_cohort", "02_baseline", "03_hazards", "05_progression")),
    (Shape(3, n=300, mg_unit="mEq/L"), ("02_baseline", "03_hazards")),
    (Shape(4, n=300, shuffle_columns=True), ("01_cohort", "02_baseline")),
    (Shape(5, n=200, extra_columns=3), ("01_cohort", "02_baseline")),
    (Shape(6, n=300, drop_optional=tuple(OPTIONAL)), ("02_baseline", "03_hazards", "05_progression")),
    (Shape(7, n=300, drop_optional=("cac_baseline", "cac_year4", "revasc_by_year4")), ("02_baseline", "05_progression")),
    (Shape(8, n=400, missing_share=0.1), ("03_hazards",)),
    (Shape(9, n=400, missing_share=0.4), ("02_baseline", *CORE, "08_beyond")),
    (Shape(10, n=300, low_group_size=1), ("02_baseline", *CORE)),
    (Shape(11, n=300, low_group_size=3), ("03_hazards", "04_sensitivity", "08_beyond")),
    (Shape(12, n=300, low_group_size=5), ("02_baseline", "04_sensitivity")),
    (Shape(13, n=300, low_group_size=7), ("02_baseline", *CORE, "05_progression")),
    (Shape(14, n=400, no_composite_in="low"), ("04_sensitivity", "08_beyond")),
    (Shape(15, n=400, no_composite_in="high"), ("03_hazards", "04_sensitivity")),
    (Shape(16, n=600, no_competing_in="low"), ("03_hazards", "04_sensitivity")),
    (Shape(17, n=400, no_competing_in="high"), ("03_hazards", "04_sensitivity")),
    (Shape(18, n=600, women_low_no_competing=True), ("06_subgroups",)),
    (Shape(19, n=400, women_low_no_events=True), ("06_subgroups",)),
    (Shape(20, n=300, ties=True), ("03_hazards", "04_sensitivity")),
    (Shape(21, n=300, zero_followup=5), ("01_cohort", "03_hazards", "04_sensitivity")),
    (Shape(22, n=300, zero_followup_event=3), ("01_cohort", "03_hazards")),
    (Shape(23, n=300, zero_followup=4, zero_followup_event=2, ties=True), ("01_cohort", "03_hazards")),
    (Shape(24, n=300, single_group=True), ("01_cohort", "04_sensitivity", "06_subgroups")),
    (Shape(25, n=2000, mg_unit="mmol/L", missing_share=0.05), ("01_cohort", "03_hazards")),
    (Shape(26, n=20000, shuffle_columns=True), ("01_cohort",)),
    (Shape(27, n=300, low_group_size=4, no_competing_in="low", ties=True), ("03_hazards", "08_beyond")),
    (Shape(28, n=250, low_group_size=6, no_composite_in="low", missing_share=0.2), ("02_baseline", *CORE)),
    (Shape(29, n=800, mg_unit="mmol/L", shuffle_columns=True, extra_columns=1, women_low_no_events=True,
           zero_followup=2), ("01_cohort", *CORE)),
    (Shape(30, n=150, missing_share=0.3, low_group_size=2, ties=True), ("02_baseline", *CORE, "04_sensitivity")),
    (Shape(31, n=5000, mg_unit="mEq/L", drop_optional=tuple(OPTIONAL)), ("02_baseline", "03_hazards")),
    (Shape(32, n=500, no_composite_in="high", no_competing_in="low", women_low_no_competing=True), ("04_sensitivity", *CORE)),
    (Shape(33, n=300, low_group_size=0, note="two Mg groups: none below 1.8"),
     ("01_cohort", "04_sensitivity", "05_progression", "06_subgroups", "sweep")),
    (Shape(34, n=200, single_group=True, mg_unit="mmol/L", missing_share=0.1), ("05_progression", "sweep", "data")),
    (Shape(35, n=400, mg_unit="mmol/L", lab_units=("ipth", "vitd25", "hscrp", "phosphate", "proteinuria"),
           note="SI units throughout"), ("02_baseline", "08_beyond")),
]
