"""Run a chapter's code in this process, cell by cell, as its kernel would: the same calls the notebook
makes, on the parameters file given, each cell's value and every display rendered as the page would render
it (HTML of tables; figures drawn), tables written under ``MG_TABLES_DIR``. For tests that try many
cohorts: a full build per cohort would cost minutes, this costs seconds. As in a build's kernel, a page's
repeated work (imputations, refits) runs in this process (``distributed.IN_PROCESS_ENV``), not in worker
processes started for each page."""

from __future__ import annotations

import ast
import functools
import os
from pathlib import Path

import jupytext

from helpers import paths
from helpers.pipeline import distributed


def _render(value, shown: list) -> None:
    """What the page would show of ``value``: HTML, a PNG, or text, appended to ``shown``."""
    if value is None:
        return
    if hasattr(value, "savefig"):
        value.draw_without_rendering()  # every artist drawn (what can fail), no pixels or file written
        shown.append("<figure>")
    elif hasattr(value, "_repr_html_"):
        shown.append(value._repr_html_() or "")
    elif hasattr(value, "_repr_markdown_"):
        shown.append(value._repr_markdown_() or "")
    else:
        shown.append(repr(value))


@functools.lru_cache(maxsize=None)
def _code_cells(source: Path, stamp: tuple) -> tuple[str, ...]:
    """The code cells of a page but its parameters cell, read once per test process (``stamp``: the file's
    size and time, so an edited page is read again)."""
    notebook = jupytext.read(source)
    return tuple(c.source for c in notebook.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", []))


def run(doc: str, params_file, tables) -> str:
    """Execute ``notebooks/<doc>.md`` (or ``book/<doc>.md``) in-process; return everything it displayed."""
    import matplotlib.pyplot as plt

    source = paths.ROOT / ("notebooks" if doc[:2].isdigit() else "book") / f"{doc}.md"
    info = source.stat()
    cells = _code_cells(source, (info.st_size, info.st_mtime_ns))
    shown: list[str] = []
    namespace = {"params_file": str(params_file), "overrides": {}, "__name__": "__main__",
                 "display": lambda *values, **_: [_render(v, shown) for v in values]}
    os.environ[paths.TABLES_ENV] = str(tables)
    import IPython.display
    import myst_nb

    original = IPython.display.display, myst_nb.glue, os.environ.get(distributed.IN_PROCESS_ENV)
    IPython.display.display = namespace["display"]
    myst_nb.glue = lambda name, value, display=True: _render(value, shown)
    os.environ[distributed.IN_PROCESS_ENV] = "1"
    try:
        for number, cell in enumerate(cells, start=1):
            tree = ast.parse(cell)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, f"{doc}, cell {number}", "exec"), namespace)
            if last is not None:
                _render(eval(compile(ast.Expression(last.value), f"{doc}, cell {number}", "eval"), namespace), shown)
            plt.close("all")
    finally:
        IPython.display.display, myst_nb.glue, in_process = original
        if in_process is None:
            os.environ.pop(distributed.IN_PROCESS_ENV, None)
        else:
            os.environ[distributed.IN_PROCESS_ENV] = in_process
    return "\n".join(shown)
