"""The parameters file: one YAML mapping, read here, passed whole by papermill to every notebook."""

from pathlib import Path

import yaml

from helpers import paths
from helpers.errors import InputError

MG_UNITS = ("mg/dL", "mmol/L", "mEq/L")
DATA_KINDS = ("synthetic", "real")


def defaults() -> dict:
    """The defaults, from ``params/default.yml``."""
    with open(paths.DEFAULT_PARAMS, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load(path: str | Path | None = None) -> dict:
    """Read a parameters file over the defaults and check it.

    A key the defaults do not have is an error that names it, so a typo never passes silently.
    """
    params = defaults()
    if path is None or paths.resolve(path) == paths.DEFAULT_PARAMS:
        return check(params, paths.DEFAULT_PARAMS)
    path = paths.resolve(path)
    if not path.is_file():
        raise InputError(f"{paths.shown(path)}: parameters file not found.")
    try:
        with open(path, encoding="utf-8") as fh:
            given = yaml.safe_load(fh) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{paths.shown(path)}: not a readable YAML file ({exc.__class__.__name__}).") from None
    if not isinstance(given, dict):
        raise InputError(f"{paths.shown(path)}: expected a mapping of parameter names to values.")
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise InputError(
            f"{paths.shown(path)}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"known parameters are {', '.join(params)}."
        )
    params.update(given)
    return check(params, path)


def gather(namespace: dict) -> dict:
    """The parameters of this run, picked by name from a notebook's namespace (``globals()``).

    A notebook's ``parameters`` cell binds each parameter to a variable; papermill overrides them; this
    collects them back into one mapping to hand to helpers.
    """
    return {key: namespace[key] for key in defaults()}


def check(params: dict, path: Path) -> dict:
    """Check the values that later steps rely on; raise :class:`InputError` naming the parameter."""
    where = paths.shown(path)
    if params["mg_unit"] not in MG_UNITS:
        raise InputError(f"{where}: mg_unit is {params['mg_unit']!r}; it must be one of {', '.join(MG_UNITS)}.")
    if params["data_kind"] not in DATA_KINDS:
        raise InputError(f"{where}: data_kind is {params['data_kind']!r}; it must be synthetic or real.")
    cuts = params["mg_cutpoints"]
    if (
        not isinstance(cuts, list)
        or len(cuts) != 2
        or not all(isinstance(c, (int, float)) for c in cuts)
        or not cuts[0] < cuts[1]
    ):
        raise InputError(f"{where}: mg_cutpoints must be two increasing numbers in mg/dL, like [1.8, 2.2].")
    pairs = params["sensitivity_cutpoints"] or []
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(c, (int, float)) for c in pair) and pair[0] < pair[1]
        for pair in pairs
    ):
        raise InputError(f"{where}: sensitivity_cutpoints must be a list of increasing pairs, like [[1.7, 2.2]].")
    if not (isinstance(params["small_count_threshold"], int) and params["small_count_threshold"] >= 0):
        raise InputError(f"{where}: small_count_threshold must be a whole number, 0 or more.")
    cutoffs = params["subgroup_cutoffs"]
    known = {"age", "sbp", "dbp", "bmi", "egfr", "proteinuria"}
    if not isinstance(cutoffs, dict) or set(cutoffs) - known or not all(isinstance(v, (int, float)) for v in cutoffs.values()):
        raise InputError(f"{where}: subgroup_cutoffs must map some of {', '.join(sorted(known))} to numbers.")
    if params["spline_knots"] not in (3, 4, 5, 6, 7):
        raise InputError(f"{where}: spline_knots is {params['spline_knots']!r}; it must be 3 to 7.")
    if not isinstance(params["spline_reference_mg"], (int, float)):
        raise InputError(f"{where}: spline_reference_mg must be a number in mg/dL.")
    if not (isinstance(params["simulation_replicates"], int) and params["simulation_replicates"] >= 1):
        raise InputError(f"{where}: simulation_replicates must be a whole number, 1 or more.")
    if params["baseline_summary"] not in ("auto", "median", "mean"):
        raise InputError(f"{where}: baseline_summary is {params['baseline_summary']!r}; it must be auto, median or mean.")
    upper = params["mg_exclude_at_or_above"]
    if upper is not None and not (isinstance(upper, (int, float)) and upper > cuts[1]):
        raise InputError(f"{where}: mg_exclude_at_or_above must be a number above the upper cut-point, or null.")
    return params
