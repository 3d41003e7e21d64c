"""Reading and validating the cohort file against the data dictionary.

Bad input ends in one :class:`~helpers.errors.InputError` whose message names the file, the column and up
to five offending rows (as line numbers of the CSV file, with the patient_id); input files are only read.
"""

import argparse
import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.analysis import dictionary
from helpers import paths
from helpers.pipeline import params as params_mod
from helpers.analysis import derive
from helpers.analysis.derive import MG_UNIT_FACTORS
from helpers.errors import InputError

if TYPE_CHECKING:  # pandera is imported where a file is checked: a build's notebooks read the cohort the
    import pandera.pandas as pa  # build validated already, and importing pandera costs each kernel ~0.3 s

NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "NULL"]
NUMERIC_TYPES = ("number", "integer", "binary")
MAX_ROWS_SHOWN = 5


def read_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV file as text (every cell a string or missing), refusing what is not a readable CSV."""
    path = paths.resolve(path)
    where = paths.shown(path)
    if not path.is_file():
        raise InputError(f"{where}: file not found.")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{where}: not UTF-8 text (first bad byte on line {line}); save the file as UTF-8.") from None
    if not text or text.isspace():  # as text.strip() == "", without copying the text
        raise InputError(f"{where}: the file is empty.")
    header = (text.partition("\n")[0].splitlines() or [""])[0]  # the first line, without splitting the whole text
    if "," not in header:
        for name, sep in (("semicolons", ";"), ("tabs", "\t"), ("pipes", "|")):
            if sep in header:
                raise InputError(f"{where}: the header is separated by {name}; the file must be comma-separated.")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=NA_VALUES, encoding="utf-8-sig")
    except pd.errors.ParserError as exc:
        raise InputError(f"{where}: not a well-formed CSV file ({str(exc).strip()}).") from None
    if df.empty:
        raise InputError(f"{where}: the file has a header but no rows.")
    df.columns = [c.strip() for c in df.columns]
    return df


def _rows(df: pd.DataFrame, index) -> str:
    """Describe rows by their line in the CSV file (the header is line 1) and their patient_id."""
    index = list(dict.fromkeys(i for i in index if i is not None))
    shown = []
    for i in index[:MAX_ROWS_SHOWN]:
        pid = df.at[i, "patient_id"] if "patient_id" in df.columns else None
        shown.append(f"line {int(i) + 2}" + (f" (patient_id {pid})" if isinstance(pid, str) else ""))
    more = f" and {len(index) - MAX_ROWS_SHOWN} more" if len(index) > MAX_ROWS_SHOWN else ""
    return ", ".join(shown) + more


def _describe(check: str, spec: pd.Series, values) -> str:
    values = list(dict.fromkeys(map(str, values)))[:MAX_ROWS_SHOWN]
    seen = ", ".join(repr(v) for v in values)
    if check.startswith("coerce_dtype") or check.startswith("dtype"):
        kind = "whole numbers" if spec["type"] == "integer" else "numbers"
        return f"values that are not {kind} ({seen})"
    if check.startswith("in_range"):
        unit = f" {spec['unit']}" if spec["unit"] else ""
        return f"values outside the allowed range {spec['min']:g} to {spec['max']:g}{unit} ({seen})"
    if check.startswith("isin"):
        return f"values other than {', '.join(spec['allowed'])} ({seen})"
    if check == "field_uniqueness":
        return f"duplicate values ({seen})"
    if check == "not_nullable":
        return "empty values where a value is required"
    return f"values failing the check {check} ({seen})"


def _schema(dd: pd.DataFrame, columns, stage: str) -> "pa.DataFrameSchema":
    """Stage 'types': every cell converts to its type. Stage 'values': ranges, categories, emptiness."""
    import pandera.pandas as pa

    out = {}
    for name, spec in dd.iterrows():
        if name not in columns:
            continue
        numeric = spec["type"] in NUMERIC_TYPES
        dtype = float if numeric else str
        if stage == "types":
            out[name] = pa.Column(dtype, coerce=True, nullable=True)
            continue
        checks = []
        if spec["allowed"]:
            allowed = [float(a) for a in spec["allowed"]] if numeric else spec["allowed"]
            checks.append(pa.Check.isin(allowed))
        elif pd.notna(spec["min"]):
            checks.append(pa.Check.in_range(spec["min"], spec["max"]))
        if spec["type"] == "integer" and not spec["allowed"]:
            checks.append(pa.Check(lambda s: s == s.round(), element_wise=False, name="whole numbers"))
        # The type is the types stage's: declared again here, pandera would check every text cell once more.
        out[name] = pa.Column(None, checks, nullable=bool(spec["nullable"]), unique=spec["type"] == "id")
    return pa.DataFrameSchema(out)


def _raise_first(errors: "pa.errors.SchemaErrors", text: pd.DataFrame, dd: pd.DataFrame, where: str):
    """Turn pandera's failure cases into one message about the first failing column, in dictionary order.

    Offending values are quoted as written in the file (``text``), not as converted.
    """
    cases = errors.failure_cases
    cases = cases[cases["column"].notna()]
    order = {name: i for i, name in enumerate(dd.index)}
    cols = sorted(cases["column"].unique(), key=lambda c: order.get(c, len(order)))
    col = cols[0]
    mine = cases[cases["column"] == col]
    check = mine["check"].iloc[0]
    index = [i for i in mine.loc[mine["check"] == check, "index"] if i is not None and pd.notna(i)]
    values = [text.at[i, col] for i in index]
    others = f" Other columns with problems: {', '.join(cols[1:])}." if len(cols) > 1 else ""
    raise InputError(f"{where}: column '{col}' has {_describe(check, dd.loc[col], values)} at {_rows(text, index)}.{others}")


# Laboratory values whose unit differs between countries (their other unit and its factor: derive.LAB_UNITS):
# the band, in the dictionary's unit, in which the median of a CKD cohort lies. A median outside it says the
# column is in another unit, which the dictionary's per-value ranges would let pass. The bands cannot catch
# every case (an iPTH median of 25 pmol/L is 236 pg/mL): parameter lab_units is how a cohort declares its units.
UNIT_BANDS = {
    "phosphate": (2.0, 9.0), "calcium": (6.0, 13.0), "albumin": (2.0, 5.5), "hemoglobin": (6.0, 18.0),
    "total_chol": (80.0, 400.0), "triglycerides": (40.0, 800.0), "creatinine": (0.5, 15.0),
    "proteinuria": (30.0, 20000.0), "hscrp": (0.1, 60.0), "ipth": (15.0, 1500.0), "vitd25": (3.0, 38.0),
}


def _check_units(typed: pd.DataFrame, where: str, lab_units: dict) -> None:
    """Stop with one message when a laboratory column's median says it is in another unit than the one
    declared (the dictionary's, or parameter lab_units'): its values would pass the per-value ranges."""
    dd = dictionary.inputs()
    for column, (low, high) in UNIT_BANDS.items():
        if column not in typed.columns:
            continue
        values = typed[column].dropna()
        if len(values) < 10:
            continue
        median, unit = float(values.median()), dd.at[column, "unit"]
        other, _ = derive.LAB_UNITS[column]
        if not low <= median <= high:
            declared = lab_units.get(column, unit)
            hint = (f"if the column is in {other}, set the parameter lab_units: {{{column}: {other}}}"
                    if declared == unit else f"check that the column is in {declared}, as lab_units says")
            given = f" (converted from {declared})" if declared != unit else ""
            raise InputError(f"{where}: column '{column}' has a median of {median:g} {unit}{given} over its "
                             f"{len(values):,} values, outside {low:g}–{high:g} {unit}, where a CKD cohort's lies; {hint}.")


def _convert_labs(typed: pd.DataFrame, lab_units: dict) -> None:
    """Laboratory columns given in their other unit (parameter lab_units), into the dictionary's unit."""
    for column, unit in lab_units.items():
        if column in typed.columns and unit == derive.LAB_UNITS[column][0]:
            typed[column] = typed[column] * derive.LAB_UNITS[column][1]


def _numbers_at_once(df: pd.DataFrame, dd: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with its numeric columns converted together, as the types stage converts each (numpy's
    float of every cell): on a million patients, column by column costs a copy of the frame per column.

    When a cell does not convert, the copy stays text: the types stage then finds and reports it."""
    numeric = [c for c in df.columns if c in dd.index and dd.at[c, "type"] in NUMERIC_TYPES]
    if df.columns.has_duplicates:
        return df.copy()
    try:
        numbers = pd.DataFrame(df[numeric].to_numpy(dtype=object).astype(float), index=df.index, columns=numeric)
    except (ValueError, TypeError):
        return df.copy()
    return pd.concat([numbers, df.drop(columns=numeric)], axis=1)[list(df.columns)]


def validate_cohort(df: pd.DataFrame, mg_unit: str = "mg/dL", where: str = "cohort", lab_units=None) -> pd.DataFrame:
    """Check a cohort read as text against the dictionary; return it with numeric columns as floats.

    Serum Mg is converted from ``mg_unit`` to mg/dL, and each laboratory column of ``lab_units`` (column:
    unit, parameter lab_units) from that unit to the dictionary's, before the ranges are checked, so the
    ranges are always the physiological ones. The returned frame holds the dictionary's units.
    """
    import pandera.pandas as pa

    lab_units = dict(lab_units or {})
    dd = dictionary.inputs()
    missing = [c for c in dd.index[dd["required"]] if c not in df.columns]
    if "egfr" in missing and "creatinine" in df.columns:
        missing.remove("egfr")  # computed below from creatinine, age and sex (CKD-EPI 2009)
    if missing:
        raise InputError(f"{where}: required column(s) {', '.join(map(repr, missing))} missing.")
    text = df
    try:
        typed = _schema(dd, df.columns, "types").validate(_numbers_at_once(df, dd), lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        _raise_first(exc, text, dd, where)
    typed["mg"] = typed["mg"] * MG_UNIT_FACTORS[mg_unit]
    _convert_labs(typed, lab_units)
    try:
        _schema(dd, df.columns, "values").validate(typed, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as exc:
        _raise_first(exc, text, dd, where)
    _check_units(typed, where, lab_units)
    if "egfr" not in typed.columns:
        typed["egfr"] = derive.ckd_epi_2009(typed["creatinine"], typed["age"], typed["sex"])
    # Across columns: an event needs a follow-up time (0, an event on the day of enrolment, is one: R keeps
    # such a record); a follow-up time needs a status.
    fu, status = typed["followup_years"], typed["status"]
    bad = typed.index[(status.isin([1, 2]) & fu.isna())]
    if len(bad):
        raise InputError(
            f"{where}: column 'followup_years' is empty for patients with an event (status 1 or 2) at "
            f"{_rows(text, bad)}."
        )
    bad = typed.index[(fu > 0) & status.isna()]
    if len(bad):
        raise InputError(f"{where}: column 'status' is empty for patients with follow-up at {_rows(text, bad)}.")
    return typed


def load_vsmc(path: str | Path) -> pd.DataFrame:
    """Read and validate a cell-culture replicate file (tidy: one row per replicate measurement)."""
    import pandera.pandas as pa

    where = paths.shown(path)
    df = read_csv(path)
    dd = dictionary.inputs("vsmc")
    missing = [c for c in dd.index[dd["required"]] if c not in df.columns]
    if missing:
        raise InputError(f"{where}: required column(s) {', '.join(map(repr, missing))} missing.")
    try:
        typed = _schema(dd, df.columns, "types").validate(df.copy(), lazy=True)
    except pa.errors.SchemaErrors as exc:
        _raise_first(exc, df, dd, where)
    try:
        _schema(dd, df.columns, "values").validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        _raise_first(exc, df, dd, where)
    key = ["experiment", "day", "treatment", "replicate", "quantity"]
    dup = typed.index[typed.duplicated(key, keep=False)]
    if len(dup):
        raise InputError(f"{where}: the same experiment, day, treatment, replicate and quantity appear twice at {_rows(df, dup)}.")
    return typed


def cohorts(params: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validated cohort named by the parameters (Mg in mg/dL) and its primary analysis cohort."""
    from helpers.analysis import cohort as cohort_mod

    cohort = load_cohort(params["cohort_csv"], params["mg_unit"], params.get("lab_units"))
    return cohort, cohort_mod.analysis_cohort(cohort, params["mg_cutpoints"], params["mg_exclude_at_or_above"])


# A build validates the cohort once and names, in this variable, a folder of its own where the validated frame
# is kept for the build's notebooks (each would otherwise read and check the same file again: about a minute
# per page on a million patients). The folder is a temporary one, removed when the build ends.
VALIDATED_ENV = "MG_VALIDATED_COHORTS"


def load_cohort(path: str | Path, mg_unit: str = "mg/dL", lab_units=None) -> pd.DataFrame:
    """Read and validate the cohort file (``lab_units``: see :func:`validate_cohort`). Extra columns are
    kept; column order does not matter.

    Inside a build (``MG_VALIDATED_COHORTS`` set), a file whose bytes the build has validated already is
    taken from the build's folder instead of being checked again."""
    kept = _kept(path, mg_unit, lab_units)
    if kept is not None and kept.is_file():
        return pd.read_pickle(kept)
    typed = validate_cohort(read_csv(path), mg_unit, where=paths.shown(path), lab_units=lab_units)
    if kept is not None:
        partial = kept.with_name(f"{kept.name}.{os.getpid()}")
        typed.to_pickle(partial)
        os.replace(partial, kept)
    return typed


def _kept(path, mg_unit: str, lab_units=None) -> Path | None:
    folder, path = os.environ.get(VALIDATED_ENV), paths.resolve(path)
    if not folder or not Path(folder).is_dir() or not path.is_file():
        return None
    content = hashlib.sha256(path.read_bytes()).hexdigest()
    units = hashlib.sha256(repr((mg_unit, sorted((lab_units or {}).items()))).encode()).hexdigest()[:12]
    return Path(folder) / f"{content}-{units}.pkl"


def _standardization(params: dict, analysed: pd.DataFrame) -> None:
    from helpers.analysis import beyond

    own, kidney, _ = beyond.adjustment_sets(params, analysed)
    beyond.check_standardization(analysed, params["risk_times"], params["mg_cutpoints"], own,
                                 source=paths.shown(params["cohort_csv"]), competing=kidney)


def _scheduler(params: dict, analysed: pd.DataFrame) -> None:
    from helpers.pipeline import distributed

    distributed.check_scheduler(params["dask_scheduler"], params["dask_allow_patient_data"], params["cohort_kind"])


# The checks behind runs.PREFLIGHT, by parameter: each raises the InputError the page itself would raise.
PREFLIGHT = {"risk_times": _standardization, "dask_scheduler": _scheduler}


def preflight(params: dict, names, cohort: pd.DataFrame) -> None:
    """Check the parameters ``names`` (keys of :data:`PREFLIGHT`) against the analysis cohort of ``cohort``
    (as :func:`load_cohort` returns it) and the network."""
    if names:
        from helpers.analysis import cohort as cohort_mod

        analysed = cohort_mod.analysis_cohort(cohort, params["mg_cutpoints"], params["mg_exclude_at_or_above"])
        for name in dict.fromkeys(names):
            PREFLIGHT[name](params, analysed)


def main(argv=None) -> int:
    """Command line: validate the input data named by a parameters file."""
    parser = argparse.ArgumentParser(prog="mg-validate", description=__doc__.splitlines()[0])
    parser.add_argument("--params", default=str(paths.DEFAULT_PARAMS), help="parameters file (YAML)")
    args = parser.parse_args(argv)
    try:
        params = params_mod.load(args.params)
        df = load_cohort(params["cohort_csv"], params["mg_unit"], params["lab_units"])
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{paths.shown(params['cohort_csv'])}: {len(df):,} rows, {df.shape[1]} columns, valid.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
