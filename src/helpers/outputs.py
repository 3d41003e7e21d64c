"""What a chapter shows besides statistics: the data banner and tables written out as CSV."""

from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown

from helpers import paths

SYNTHETIC_NOTE = (
    "The numbers on this page come from the **synthetic cohort** that this repository generates "
    "(`helpers.synthetic`), calibrated to aggregates the thesis published. They illustrate the methods; "
    "they are **not the thesis's findings** and say nothing about whether those findings are true."
)


def banner(params: dict) -> Markdown:
    """A note that opens each chapter: which data the page was computed from, and whether they are synthetic."""
    source = f"Data: `{paths.shown(params['cohort_csv'])}`."
    if params["data_kind"] == "synthetic":
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
    if params["data_kind"] != "synthetic":
        return Markdown(source)
    return Markdown(
        "```{admonition} Synthetic data: illustrative replicates\n:class: warning\n"
        "The thesis prints no raw values for its cell-culture experiments, only figures with means, error "
        "bars and significance marks. The replicates on this page are synthetic and illustrative "
        "(`helpers.synthetic_vsmc`): drawn so that the thesis's pattern and marks come out of the same "
        f"tests. They are not the thesis's measurements. {source}\n```"
    )


def save_table(table: pd.DataFrame, name: str, params: dict) -> Path:
    """Write a table the book shows as ``<tables_dir>/<name>.csv`` (UTF-8, no index) and return the path."""
    folder = paths.resolve(params["tables_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def _compact(value) -> str:
    """A float with at most three decimals and no trailing zeros: 0.041, 8.4, 1,646."""
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show(table: pd.DataFrame, caption: str = ""):
    """A table as it should be displayed in the book: no index column, compact numbers, a caption."""
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
