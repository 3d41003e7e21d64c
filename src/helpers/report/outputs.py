"""What a chapter shows besides statistics: the data banner and tables written out as CSV."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown

from helpers import paths

SYNTHETIC_NOTE = (
    "The numbers on this page come from the **synthetic cohort** that this repository generates "
    "(`helpers.synthetic.cohort`), calibrated to aggregates the thesis published. They illustrate the methods; "
    "they are **not the thesis's findings** and say nothing about whether those findings are true."
)


def banner(params: dict) -> Markdown:
    """A note that opens each chapter: which data the page was computed from, and whether they are synthetic."""
    source = f"Data: `{paths.shown(params['cohort_csv'])}`."
    if params["cohort_kind"] == "synthetic":
        text = f"```{{admonition}} Synthetic data\n:class: warning\n{SYNTHETIC_NOTE} {source}\n```"
    else:
        text = f"```{{admonition}} Data\n:class: note\n{source} Only aggregates of these data are shown.\n```"
    return Markdown(text)


def vsmc_banner(params: dict) -> Markdown:
    """The note that opens the cell-culture chapter: which replicate file, and that synthetic ones are
    illustrative, not the thesis's measurements."""
    path = params["vsmc_csv"]
    if not path:
        return Markdown("No cell-culture data were given (parameter `vsmc_csv` is empty): this chapter has nothing to show.")
    source = f"Data: `{paths.shown(path)}`."
    if params["vsmc_kind"] != "synthetic":
        return Markdown(source)
    return Markdown(
        "```{admonition} Synthetic data: illustrative replicates\n:class: warning\n"
        "The thesis prints no raw values for its cell-culture experiments, only figures with means, error "
        "bars and significance marks. The replicates on this page are synthetic and illustrative "
        "(`helpers.synthetic_vsmc`): drawn so that the thesis's pattern and marks come out of the same "
        f"tests. They are not the thesis's measurements. {source}\n```"
    )


# Columns that hold counts of patients: plain counts, "n (%)" cells, and group columns "(n = ...)".
COUNT_COLUMNS = re.compile(
    r"(?i)^(n|n[_ ].*|.*events.*|participants|patients.*|progressed.*|this run|this cohort|reproduced|missing|"
    r"difference|targets|met|.*\(n = .*)$"
)
COUNT_CELL = re.compile(r"^\s*(\d[\d,]*)(\s*(/|of)\s*[\d,]+)?(\s*\(.*\))?\s*$")


def suppress_small_counts(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Counts of patients from 1 to ``threshold`` replaced by '≤threshold' (with their percentage).

    Applies to columns whose name says they hold counts (``COUNT_COLUMNS``): whole numbers, and text
    cells such as '3 (8.1)', '3/35 (8.6)' or '3 of 24'. Zero is not suppressed: it discloses no one.
    """
    if threshold <= 0:
        return table
    out = table.copy()
    hidden = f"≤{threshold}"
    for column in out.columns:
        if not COUNT_COLUMNS.match(str(column)):
            continue

        def cell(value):
            if isinstance(value, (int, np.integer)) or (isinstance(value, float) and float(value).is_integer()):
                return hidden if 1 <= value <= threshold else value
            if isinstance(value, str) and (m := COUNT_CELL.match(value)):
                n = int(m.group(1).replace(",", ""))
                return hidden if 1 <= n <= threshold else value
            return value

        out[column] = out[column].map(cell).astype(object) if out[column].map(cell).ne(out[column]).any() else out[column]
    return out


def publishable(table: pd.DataFrame, params: dict, patients: bool = True) -> pd.DataFrame:
    """The table as it may be published: with real data, small counts of patients suppressed."""
    if patients and params.get("cohort_kind") == "real":
        return suppress_small_counts(table, params["small_count_threshold"])
    return table


def hidden_threshold(params: dict) -> int:
    """The count at and below which figures hide a number: the threshold with real data, else 0."""
    return params["small_count_threshold"] if params.get("cohort_kind") == "real" else 0


def publishable_counts(frame: pd.DataFrame, params: dict) -> pd.DataFrame:
    """A frame whose every cell is a count of patients (such as numbers at risk), small ones hidden."""
    threshold = hidden_threshold(params)
    if threshold <= 0:
        return frame
    return frame.map(lambda v: f"≤{threshold}" if 1 <= v <= threshold else v)


def coarsen_curves(curves: pd.DataFrame, key: str, params: dict, step: float = 0.1) -> pd.DataFrame:
    """Step curves (``key``, time, values...) as they may be published.

    With real data the rows at each patient's event time would disclose individual times; the curves are
    then read on a grid of ``step`` years instead. Synthetic data are returned as they are.
    """
    if params.get("cohort_kind") != "real":
        return curves
    from helpers.stats.survival import at_times

    grid = np.round(np.arange(0.0, curves["time"].max() + step, step), 6)
    values = [c for c in curves.columns if c not in (key, "time")]
    frames = []
    for name, part in curves.groupby(key, sort=False):
        frame = pd.DataFrame({key: name, "time": grid})
        for column in values:
            frame[column] = at_times(part, grid, column, start=float(part[column].iloc[0]))
        frames.append(frame[frame["time"] <= part["time"].max()])
    return pd.concat(frames, ignore_index=True)


def save_table(table: pd.DataFrame, name: str, params: dict, patients: bool = True) -> Path:
    """Write a table the book shows as ``<tables_dir>/<name>.csv`` (UTF-8, no index) and return the path.

    With real data, counts of patients from 1 to ``small_count_threshold`` are suppressed first
    (``patients=False`` for tables that count something else, such as cell-culture replicates).
    """
    folder = paths.tables_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    publishable(table, params, patients).to_csv(path, index=False, lineterminator="\n")
    return path


def _compact(value) -> str:
    """A float with at most three decimals and no trailing zeros: 0.041, 8.4, 1,646."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show(table: pd.DataFrame, caption: str = "", params: dict | None = None, patients: bool = True):
    """A table as it should be displayed in the book: no index column, compact numbers, a caption.

    Given the run's ``params``, real data have their small counts of patients suppressed, as in
    :func:`save_table`.
    """
    if params is not None:
        table = publishable(table, params, patients)
    floats = [c for c in table.columns if pd.api.types.is_float_dtype(table[c])]
    styler = table.style.hide(axis="index").format(thousands=",", na_rep="")
    if floats:
        styler = styler.format(_compact, subset=floats, na_rep="")
    return styler.set_caption(caption) if caption else styler


def format_p(p: float) -> str:
    """P to three decimals, or '<0.001'; empty when missing."""
    if p is None or np.isnan(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_ratio(estimate: float, lower: float, upper: float) -> str:
    """A ratio with its 95% CI to two decimals, as the thesis prints it: '2.53 (1.12–5.69)'."""
    if any(v is None or np.isnan(v) for v in (estimate, lower, upper)):
        return ""
    return f"{estimate:.2f} ({lower:.2f}–{upper:.2f})"


def format_rates(incidence: pd.DataFrame) -> list[str]:
    """Rates with their 95% CI to one decimal: '20.8 (17.6–24.4)', from ``survival.incidence_rate``."""
    return [f"{r:.1f} ({lo:.1f}–{hi:.1f})" for r, lo, hi in zip(incidence["rate"], incidence["lower"], incidence["upper"])]
