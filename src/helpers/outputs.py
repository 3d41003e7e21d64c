"""What a chapter shows besides statistics: the data banner and tables written out as CSV."""

from pathlib import Path

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


def save_table(table: pd.DataFrame, name: str, params: dict) -> Path:
    """Write a table the book shows as ``<tables_dir>/<name>.csv`` (UTF-8, no index) and return the path."""
    folder = paths.resolve(params["tables_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def show(table: pd.DataFrame, caption: str = ""):
    """A table as it should be displayed in the book: no index column, an optional caption."""
    styler = table.style.hide(axis="index").format(precision=1, thousands=",", na_rep="")
    return styler.set_caption(caption) if caption else styler
