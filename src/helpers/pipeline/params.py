"""The parameters of a run: one declared schema, one YAML file, one loader.

Every parameter is declared once in :data:`SCHEMA` (name, default, what values it takes, help). A
parameters file sets some of them; :func:`load` reads it over the defaults, applies a run's overrides (the
build's derived runs, such as an exercise) and checks every value, raising one :class:`InputError` that
names the file and the parameter. Notebooks receive only ``params_file`` and ``overrides`` from papermill
and call :func:`load`; ``mg-book --help`` and the book's data page list the parameters from the schema.

Adding a parameter means adding one :class:`Parameter` below: nothing else repeats its name or default.
"""

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from helpers import paths
from helpers.analysis import subgroup_definitions
from helpers.errors import InputError

MG_UNITS = ("mg/dL", "mmol/L", "mEq/L")
DATA_KINDS = ("auto", "synthetic", "real")
SUBGROUP_KEYS = tuple(subgroup_definitions.DEFAULT_CUTOFFS)


# --- checks: each returns an error message (what the value must be), or "" when the value is good -------

def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _whole(minimum: int) -> Callable:
    return lambda v: "" if isinstance(v, int) and not isinstance(v, bool) and v >= minimum else \
        f"a whole number, {minimum} or more"


def _choice(*allowed) -> Callable:
    return lambda v: "" if v in allowed else "one of " + ", ".join(map(str, allowed))


def _optional_path(v) -> str:
    return "" if v is None or (isinstance(v, str) and v) else "a file path, or null"


def _pair(v) -> bool:
    return isinstance(v, list) and len(v) == 2 and all(map(_number, v)) and v[0] < v[1]


def _cutpoints(v) -> str:
    return "" if _pair(v) else "two increasing numbers in mg/dL, like [1.8, 2.2]"


def _pairs(v) -> str:
    return "" if isinstance(v, list) and all(map(_pair, v)) else "a list of increasing pairs, like [[1.7, 2.2]]"


def _grid(v) -> str:
    ok = isinstance(v, dict) and set(v) == {"lower", "upper"} and all(
        isinstance(v[k], list) and v[k] and all(map(_number, v[k])) for k in v)
    return "" if ok else "a mapping with lists 'lower' and 'upper' of cut-points in mg/dL"


def _lab_units(v) -> str:
    from helpers.analysis.derive import LAB_UNITS

    ok = isinstance(v, dict) and all(k in LAB_UNITS and u == LAB_UNITS[k][0] for k, u in v.items())
    return "" if ok else "a mapping of laboratory columns to their other unit: " + ", ".join(
        f"{k}: {u}" for k, (u, _) in LAB_UNITS.items())


def _cutoffs(v) -> str:
    ok = isinstance(v, dict) and not set(v) - set(SUBGROUP_KEYS) and all(map(_number, v.values()))
    return "" if ok else f"a mapping of some of {', '.join(SUBGROUP_KEYS)} to numbers"


def _knots(v) -> str:
    if isinstance(v, int) and not isinstance(v, bool) and 3 <= v <= 7:
        return ""
    if isinstance(v, list) and 3 <= len(v) <= 7 and all(map(_number, v)) and all(a < b for a, b in zip(v, v[1:])):
        return ""
    return "a number of knots from 3 to 7, or a list of 3 to 7 increasing positions in mg/dL"


def _positive_number(v) -> str:
    return "" if _number(v) and v > 0 else "a positive number"


def _mg(v) -> str:
    return "" if _number(v) else "a number in mg/dL"


def _optional_mg(v) -> str:
    return "" if v is None or _number(v) else "a number in mg/dL, or null"


def _times(v) -> str:
    ok = isinstance(v, list) and v and all(_number(t) and t > 0 for t in v)
    return "" if ok else "a list of positive times in years, like [3, 5]"


def _optional_text(v) -> str:
    return "" if v is None or (isinstance(v, str) and v) else "text, or null"


def _flag(v) -> str:
    return "" if isinstance(v, bool) else "true or false"


@dataclass(frozen=True)
class Parameter:
    """One parameter: its name, default, a check of its values, and the help a reader sees."""

    name: str
    default: Any
    check: Callable[[Any], str] = field(repr=False)
    help: str
    group: str


SCHEMA: tuple[Parameter, ...] = (
    # Input data
    Parameter("cohort_csv", "data/cohort.csv", lambda v: "" if isinstance(v, str) and v else "a file path",
              "The cohort: one row per enrolled patient, with the columns of data/dictionary.csv.", "Input data"),
    Parameter("vsmc_csv", "data/vsmc.csv", _optional_path,
              "Cell-culture replicates (thesis chapter 3); null when there are none.", "Input data"),
    Parameter("data_kind", "auto", _choice(*DATA_KINDS),
              "auto: the shipped synthetic files run as synthetic, any other file as real data (aggregates only, "
              "disclosure rules applied). synthetic or real force the mode.", "Input data"),
    # Disclosure control
    Parameter("small_count_threshold", 7, _whole(0),
              "Real data: counts from 1 to this are redacted in everything the book publishes.", "Disclosure control"),
    Parameter("rounding_base", 5, _whole(1),
              "Real data: every other published count is rounded to a multiple of this.", "Disclosure control"),
    Parameter("lab_units", {}, _lab_units,
              "Laboratory columns given in another unit than the data dictionary's, each with that unit (for "
              "example {ipth: pmol/L, vitd25: nmol/L, hscrp: mg/dL}): converted on reading.", "Input data"),
    # Serum magnesium
    Parameter("mg_unit", "mg/dL", _choice(*MG_UNITS), "Unit of the `mg` column.", "Serum magnesium"),
    Parameter("mg_cutpoints", [1.8, 2.2], _cutpoints,
              "Cut-points in mg/dL: groups below the first, between, and above the second.", "Serum magnesium"),
    Parameter("mg_exclude_at_or_above", 2.6, lambda v: "" if v is None or _number(v) else "a number in mg/dL, or null",
              "Patients with Mg at or above this (mg/dL) are excluded from the analyses; null keeps everyone.",
              "Serum magnesium"),
    # Sensitivity analyses
    Parameter("sensitivity_cutpoints", [[1.7, 2.2], [1.9, 2.2], [1.8, 2.3]], _pairs,
              "Other pairs of cut-points (mg/dL) with which Model 4 is repeated.", "Sensitivity analyses"),
    Parameter("sweep_grid", {"lower": [1.6, 1.7, 1.8, 1.9, 2.0], "upper": [2.1, 2.2, 2.3, 2.4, 2.5]}, _grid,
              "Cut-point grid of the sweep page's heatmap: every lower × upper pair (mg/dL) with lower < upper.",
              "Sensitivity analyses"),
    # Subgroups
    Parameter("subgroup_cutoffs", dict(subgroup_definitions.DEFAULT_CUTOFFS), _cutoffs,
              "Subgroup cut-offs: age (years), SBP and DBP (mmHg), BMI (kg/m²), eGFR (mL/min/1.73 m²), "
              "proteinuria (mg/day).", "Subgroups"),
    Parameter("subgroup_adjustment", subgroup_definitions.FULL_MODEL, _choice(*subgroup_definitions.ADJUSTMENTS),
              "model4: the full Model 4 in every stratum, less covariates constant in it (the thesis's choice); "
              "reduced: also leave out age, BMI and eGFR inside their own strata.", "Subgroups"),
    # Progression
    Parameter("spline_knots", 4, _knots,
              "Restricted cubic spline of Mg: a number of knots at Harrell's quantiles, or explicit positions (mg/dL).",
              "Progression"),
    Parameter("spline_reference_mg", 2.0, _mg, "Reference Mg (mg/dL) of the spline odds ratios.", "Progression"),
    # Dose–response
    Parameter("dose_response_knots", 4, _knots,
              "Restricted cubic spline of Mg in the Cox and Fine–Gray models of chapter 3: a number of knots, placed "
              "as R's rms::rcs places them, or explicit positions (mg/dL).", "Dose–response"),
    Parameter("dose_response_reference_mg", None, _optional_mg,
              "Reference Mg (mg/dL) of the dose–response hazard ratios; null takes the middle of the reference range "
              "(the mean of the two cut-points).", "Dose–response"),
    # Competing kidney outcome and standardization
    Parameter("kidney_adjustment", "model4_proteinuria", _choice("model4_proteinuria", "model4"),
              "Adjustment set of the competing kidney outcome's cause-specific model (chapter 3's kidney table and "
              "the standardized risks): model4_proteinuria, Model 4 + log2(proteinuria + 1); model4, the composite's "
              "own set.", "Competing kidney outcome"),
    Parameter("standardization_adjustment", "model4", _choice("model4", "total_effect"),
              "Covariates the standardized risks adjust for: model4; or total_effect, Model 4 without phosphate and "
              "corrected calcium, which low Mg may act through.", "Beyond the thesis"),
    # Beyond the thesis
    Parameter("risk_times", [3, 5], _times, "Years at which standardized absolute risks are estimated.",
              "Beyond the thesis"),
    Parameter("imputations", 20, _whole(1), "Imputed data sets of the multiple-imputation analysis.",
              "Beyond the thesis"),
    Parameter("bootstrap_replicates", 0, _whole(0), "Bootstrap replicates of the standardized risks; 0 is off.",
              "Beyond the thesis"),
    Parameter("seed", 20260101, _whole(0), "Seed of every random draw of a run (imputations, bootstrap, simulation).",
              "Beyond the thesis"),
    # Baseline table
    Parameter("baseline_summary", "auto", _choice("auto", "median", "mean"),
              "Continuous variables: auto (as the thesis prints each row; Shapiro–Wilk for a row it does not print), median [IQR] or mean ± SD.", "Baseline table"),
    # Validation appendix and computing
    Parameter("simulation_replicates", 20, _whole(1),
              "Replicates of the parameter-recovery simulation (about 0.15 s each).", "Computing"),
    Parameter("dask_scheduler", None, _optional_text,
              "Address of a Dask scheduler (tcp://host:port) for simulations, imputations and bootstrap; "
              "'local' starts a local cluster; null runs in local processes.", "Computing"),
    Parameter("dask_allow_patient_data", False, _flag,
              "Real data: allow patient rows to be sent to a remote Dask cluster.", "Computing"),
    Parameter("output_dir", None, _optional_path,
              "A chapter run with plain papermill writes its tables and disclosure log here (default: tables/ in "
              "papermill's working directory); mg-book writes into its own build folder instead.", "Computing"),
)

BY_NAME = {p.name: p for p in SCHEMA}


def defaults() -> dict:
    """Every parameter at its declared default (fresh copies: callers may change them)."""
    return copy.deepcopy(_defaults())


@functools.lru_cache(maxsize=1)
def _defaults() -> dict:
    # As YAML would give them back (mappings' keys sorted), made once: a page loads parameters several times.
    return {p.name: yaml.safe_load(yaml.safe_dump(p.default)) for p in SCHEMA}


def _read(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"{paths.shown(path)}: parameters file not found.")
    try:
        with open(path, encoding="utf-8") as fh:
            given = yaml.safe_load(fh) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{paths.shown(path)}: not a readable YAML file ({exc.__class__.__name__}).") from None
    if not isinstance(given, dict):
        raise InputError(f"{paths.shown(path)}: expected a mapping of parameter names to values.")
    return given


def _unknown(given: dict, where: str) -> None:
    unknown = sorted(set(given) - set(BY_NAME))
    if unknown:
        raise InputError(f"{where}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                         f"known parameters are {', '.join(BY_NAME)}.")


def load(path: str | Path | None = None, overrides: dict | None = None, namespace: dict | None = None) -> dict:
    """The run's parameters: the file over the defaults, then what papermill passed, then ``overrides``,
    every value checked.

    ``namespace`` is a chapter's ``globals()``: the parameters papermill injected there by name (``-p NAME
    VALUE``, ``-y``, ``-f FILE.yml``) are read from it (:func:`from_papermill`). The result also carries
    ``params_file``, the file as shown to readers (the colophon prints it). A key the schema does not
    declare is an error that names it, so a typo never passes silently.
    """
    path = paths.resolve(path or paths.DEFAULT_PARAMS)
    params = defaults()
    given = _read(path)
    _unknown(given, paths.shown(path))
    params.update(given)
    params.update(from_papermill(namespace or {}))
    if overrides:
        _unknown(overrides, f"{paths.shown(path)} (overrides)")
        params.update(overrides)
    check(params, path)
    _tables_outside_the_build(params["output_dir"])
    return {**params, "params_file": paths.shown(path), **input_kinds(params)}


# --- papermill: every parameter by its own name ----------------------------------------------------------

# The value of every schema parameter in a chapter's generated parameters cell (``parameters_cell``): a
# string no parameter can take, meaning "as the parameters file says".
PLACEHOLDER = "<from params_file>"
# Names a chapter's namespace holds before it loads its parameters that are not parameters.
_NOT_PARAMETERS = {"params_file", "overrides", "In", "Out", "exit", "quit", "get_ipython", "open", "display"}
_PAPERMILL_PATHS = ("cohort_csv", "vsmc_csv", "output_dir")


def parameters_cell() -> str:
    """The parameters cell of a chapter's ``.ipynb`` for papermill, generated from the schema: every
    parameter by name at the placeholder (so papermill knows each name and warns about none), beside
    ``params_file`` and ``overrides``. The defaults stay in the schema alone."""
    lines = ["# Parameters: any of them by name with papermill (-p NAME VALUE, -y YAML, -f FILE.yml); one left at",
             f"# {PLACEHOLDER!r} takes its value from params_file (and the schema's default). Generated by `make notebooks`",
             "# from helpers.pipeline.params.SCHEMA.",
             'params_file = "params/default.yml"', "overrides = {}"]
    return "\n".join(lines + [f"{p.name} = {PLACEHOLDER!r}" for p in SCHEMA])


def _typed(name: str, value):
    """papermill passes ``-p`` values it cannot read as numbers as text: a list or mapping is YAML."""
    if isinstance(value, str) and not isinstance(BY_NAME[name].default, str) and BY_NAME[name].default is not None:
        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


def from_papermill(namespace: dict) -> dict:
    """The parameters papermill injected into a chapter's namespace: every schema name whose value is not the
    placeholder; a relative path is read from papermill's working directory. Any other injected value
    (a number, text, list or mapping under an unknown name) stops the chapter with one message naming it."""
    given, unknown = {}, []
    for name, value in namespace.items():
        if name in BY_NAME:
            if not (isinstance(value, str) and value == PLACEHOLDER):
                given[name] = _typed(name, value)
        elif not name.startswith("_") and name not in _NOT_PARAMETERS and \
                isinstance(value, (str, int, float, bool, list, dict, type(None))):
            unknown.append(name)
    if unknown:
        raise InputError(f"papermill: unknown parameter(s) {', '.join(map(repr, sorted(unknown)))}; "
                         f"known parameters are {', '.join(BY_NAME)}.")
    for name in _PAPERMILL_PATHS:
        if isinstance(given.get(name), str) and not Path(given[name]).expanduser().is_absolute():
            given[name] = str(Path.cwd() / given[name])
    return given


def _tables_outside_the_build(output_dir) -> None:
    """A chapter run outside mg-book writes its tables to ``output_dir`` (or ``tables/`` under the working
    directory, :func:`helpers.paths.tables_dir`); mg-book sets its own folder, which wins."""
    import os

    if output_dir and not os.environ.get(paths.TABLES_ENV):
        os.environ[paths.TABLES_ENV] = str(Path(output_dir).expanduser().resolve())


def exercise(name: str) -> tuple[dict, dict]:
    """An exercise's settings and the parameters the student's command runs with: ``(settings, params)``.

    The settings are those of ``params/exercises/NAME.yml`` (a few parameters), the file a student passes to
    ``mg-book --params``: the parameters are that file over the defaults, exactly what the student's command
    loads, data included (the shipped cohort unless the file names another). A solution computed with them
    predicts what that command shows, whatever data and settings the book itself was built with; a page
    takes the exercise's data from these parameters too, never its own.
    """
    where = paths.EXERCISES / f"{name}.yml"
    settings = _read(where)
    _unknown(settings, paths.shown(where))
    return settings, load(where)


def shipped_synthetic(path) -> bool:
    """Whether ``path`` is byte for byte one of the shipped synthetic files (``data/SHA256SUMS``)."""
    import hashlib

    path = paths.resolve(path)
    if not path.is_file():
        return False
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest in paths.shipped_synthetic_digests()


def input_kinds(params: dict) -> dict:
    """The mode each input runs in: ``cohort_kind`` and ``vsmc_kind``, each 'synthetic' or 'real'.

    With ``data_kind: auto`` a file is synthetic only when it is a shipped synthetic file, recognised by
    its SHA-256; any other file is real. ``synthetic`` or ``real`` set explicitly apply to both inputs.
    ``cohort_shipped`` says whether the cohort is the shipped synthetic twin (only then does the book
    show what the generator fixed).
    """
    kind = params["data_kind"]

    def resolve(path):
        if not path:
            return None
        if kind != "auto":
            return kind
        return "synthetic" if shipped_synthetic(path) else "real"

    return {"cohort_kind": resolve(params["cohort_csv"]), "vsmc_kind": resolve(params["vsmc_csv"]),
            "cohort_shipped": shipped_synthetic(params["cohort_csv"])}


def check(params: dict, path: Path | str = paths.DEFAULT_PARAMS) -> dict:
    """Check every declared value; raise :class:`InputError` naming the file, the parameter and what it must be."""
    where = paths.shown(path)
    for p in SCHEMA:
        problem = p.check(params[p.name])
        if problem:
            raise InputError(f"{where}: {p.name} is {params[p.name]!r}; it must be {problem}.")
    upper = params["mg_exclude_at_or_above"]
    if upper is not None and not upper > params["mg_cutpoints"][1]:
        raise InputError(f"{where}: mg_exclude_at_or_above must be above the upper cut-point, or null.")
    return params


def _shown(value) -> str:
    """A value as YAML on one line: 2.6, [1.8, 2.2], {age: 60, ...}, null."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("...").strip()


def describe() -> str:
    """The schema as text for ``mg-book --help``: one line per parameter with its default."""
    lines, group = [], None
    for p in SCHEMA:
        if p.group != group:
            group = p.group
            lines.append(f"{group}:")
        lines.append(f"  {p.name} (default {_shown(p.default)}): {p.help}")
    return "\n".join(lines)


def table():
    """The schema as a table (name, default, help) for the book's data page."""
    import pandas as pd

    return pd.DataFrame([
        {"Group": p.group, "Parameter": p.name,
         "Default": _shown(p.default),
         "What it sets": p.help}
        for p in SCHEMA
    ])


def template() -> str:
    """``params/default.yml``: every parameter, commented out at its default, with its help.

    The file sets nothing (the schema holds the defaults); copy it and uncomment what you change.
    ``python -m helpers.pipeline.params > params/default.yml`` rewrites it; a test keeps it in step.
    """
    lines = ["# Parameters of the book. Every parameter is listed at its default, commented out: the defaults live in",
             "# one place, the schema in src/helpers/pipeline/params.py. Copy this file, uncomment and change what",
             "# you need, and run `make book PARAMS=your-file.yml`. Relative paths are read from the repository root.",
             "{}"]
    group = None
    for p in SCHEMA:
        if p.group != group:
            group = p.group
            lines += ["", f"# --- {group}"]
        lines.append(f"# {p.help}")
        lines.append(f"# {p.name}: {_shown(p.default)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(template(), end="")
