"""Build the book: validate the input, execute every notebook with papermill, run jupyter-book.

Nothing is written over a source. Notebooks are converted from their jupytext text files in memory and
executed into a staging folder (``_build/.next``) together with the book's other pages; jupyter-book
builds the HTML there with warnings as errors. Only when every step has succeeded are the new HTML, tables
and executed notebooks swapped into ``_build``, so a failed build leaves the last good book in place.
"""

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import yaml

from helpers import paths
from helpers import params as params_mod
from helpers import validate
from helpers.errors import InputError

# The chapter run again, by papermill, for each pair of cut-points of the parameter below; the page
# book/sweep gathers the runs' tables.
SWEEP_NOTEBOOK, SWEEP_PARAMETER = "notebooks/03_hazards", "sensitivity_cutpoints"

# Book sources copied into the staging folder besides the pages the table of contents lists.
EXTRA_SOURCES = ("_config.yml", "_toc.yml", "_static", "data/template_cohort.csv")


class BuildError(Exception):
    """A step of the build failed; the message says which and where to look."""


def sweep_label(cuts) -> str:
    """The folder name of one sweep run: '1.7-2.2'."""
    return f"{cuts[0]:g}-{cuts[1]:g}"


def toc_documents() -> list[str]:
    """Every document of ``_toc.yml`` in reading order, as paths without suffix relative to the root."""
    with open(paths.TOC, encoding="utf-8") as fh:
        toc = yaml.safe_load(fh)
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


def is_notebook(source: Path) -> bool:
    """A text file is a notebook to execute when its jupytext header names a kernel."""
    text = source.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    header = text.split("---", 2)[1]
    return "kernelspec:" in header


def _execute(source: Path, target: Path, parameters: dict) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from jupyter_client.manager import KernelManager

    notebook = jupytext.read(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # IPC sockets rather than TCP: the kernel is local, and nothing then listens on a network port.
    kernel = KernelManager(kernel_name="python3", transport="ipc")
    try:
        papermill.execute_notebook(
            notebook, str(target), parameters=parameters, cwd=str(paths.ROOT), progress_bar=False,
            kernel_name="python3", language="python", km=kernel,
        )
    except PapermillExecutionError as exc:
        cell = _failed_cell(target)
        raise BuildError(
            f"{paths.shown(source)} failed in cell {cell}: {exc.ename}: {exc.evalue.strip()} "
            f"The partly executed copy is {paths.shown(target)}; the last good book is untouched."
        ) from None
    finally:
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=False)
    # papermill's injected cell repeats the parameters with build-internal paths; the colophon shows the
    # run's parameters instead, so the injected cell is kept out of the HTML.
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, target)


def _failed_cell(target: Path) -> str:
    """The number (1-based, counting code cells) and first line of the cell where execution stopped."""
    try:
        nb = nbformat.read(target, as_version=4)
    except (OSError, ValueError):
        return "?"
    code = [c for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    for number, cell in enumerate(code, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return f"{number} ({first!r})"
    return "?"


def _swap(new: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    new.rename(final)
    if old.exists():
        shutil.rmtree(old)


def build(params_file=None, out: Path | None = None, log=print) -> Path:
    """Build the whole book; return the path of its ``index.html``. Raise InputError or BuildError."""
    params_file = paths.resolve(params_file or paths.DEFAULT_PARAMS)
    params = params_mod.load(params_file)
    validate.load_cohort(params["cohort_csv"], params["mg_unit"])
    if params["vsmc_csv"]:
        validate.load_vsmc(params["vsmc_csv"])
    out = Path(out) if out else paths.BUILD
    stage = out / ".next"
    if stage.exists():
        shutil.rmtree(stage)
    src = stage / "src"
    src.mkdir(parents=True)
    for name in EXTRA_SOURCES:
        source = paths.ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name)
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name)
    run_params = {
        **params,
        "tables_dir": paths.shown(src / "tables"),
        "params_file": paths.shown(params_file),
    }
    docs = toc_documents()
    started = time.perf_counter()
    for cuts in params[SWEEP_PARAMETER] or []:
        label = sweep_label(cuts)
        t0 = time.perf_counter()
        sweep_params = {**run_params, "mg_cutpoints": cuts, "tables_dir": paths.shown(src / "tables" / "sweep" / label)}
        _execute(paths.ROOT / f"{SWEEP_NOTEBOOK}.md", stage / "sweep" / f"{Path(SWEEP_NOTEBOOK).name}_{label}.ipynb", sweep_params)
        log(f"[sweep] executed {SWEEP_NOTEBOOK} with cut-points {label} in {time.perf_counter() - t0:.1f} s")
    for number, doc in enumerate(docs, start=1):
        source = paths.ROOT / f"{doc}.md"
        if not source.is_file():
            raise BuildError(f"_toc.yml lists {doc}, but {paths.shown(source)} does not exist.")
        if is_notebook(source):
            t0 = time.perf_counter()
            _execute(source, src / f"{doc}.ipynb", run_params)
            log(f"[{number}/{len(docs)}] executed {doc} in {time.perf_counter() - t0:.1f} s")
        else:
            (src / doc).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / f"{doc}.md")
    t0 = time.perf_counter()
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(src), "--path-output", str(stage / "out"), "-n", "-W", "--keep-going", "--quiet"],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        lines = [ln for ln in (result.stdout + result.stderr).splitlines() if "WARNING" in ln or "ERROR" in ln]
        detail = "\n".join(lines[:20]) or (result.stdout + result.stderr)[-3000:]
        raise BuildError(f"jupyter-book failed; the last good book is untouched.\n{detail}")
    log(f"built the HTML in {time.perf_counter() - t0:.1f} s")
    tables = paths.resolve(params["tables_dir"]) if out == paths.BUILD else out / "tables"
    tables.parent.mkdir(parents=True, exist_ok=True)
    staged_tables = src / "tables"
    staged_tables.mkdir(exist_ok=True)
    _swap(stage / "out" / "_build" / "html", out / "html")
    shutil.copytree(staged_tables, stage / "tables")
    _swap(stage / "tables", tables)
    executed = stage / "notebooks"
    executed.mkdir()
    for nb in src.rglob("*.ipynb"):
        shutil.copy2(nb, executed / nb.name)
    if (stage / "sweep").exists():
        shutil.copytree(stage / "sweep", executed / "sweep")
    _swap(executed, out / "notebooks")
    shutil.rmtree(stage)
    log(f"done in {time.perf_counter() - started:.1f} s")
    return out / "html" / "index.html"


def main(argv=None) -> int:
    """Command line: ``mg-book [--params FILE]``."""
    parser = argparse.ArgumentParser(
        prog="mg-book",
        description="Execute every chapter on the data and settings of a parameters file and build the HTML book.",
    )
    parser.add_argument("--params", default=str(paths.DEFAULT_PARAMS), help="parameters file (YAML); default %(default)s")
    parser.add_argument("--out", default=None, help="output folder; default _build in the repository")
    args = parser.parse_args(argv)
    try:
        index = build(args.params, Path(args.out).resolve() if args.out else None)
    except (InputError, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"The book: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
