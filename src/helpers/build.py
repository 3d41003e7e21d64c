"""Build the book: validate the input, execute every notebook with papermill, run jupyter-book.

Nothing is written over a source. Notebooks are converted from their jupytext text files in memory and
executed into a staging folder (``_build/.next``) together with the book's other pages; jupyter-book
builds the HTML there with warnings as errors. Only when every step has succeeded are the new HTML, tables
and executed notebooks swapped into ``_build``, so a failed build leaves the last good book in place.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml

from helpers import colophon, paths
from helpers import params as params_mod
from helpers import validate
from helpers.errors import InputError

# The chapter run again, by papermill, for each pair of cut-points of the parameter below; the page
# book/sweep gathers the runs' tables.
SWEEP_NOTEBOOK, SWEEP_PARAMETER, SWEEP_PAGE = "notebooks/03_hazards", "sensitivity_cutpoints", "book/sweep"

# Book sources copied into the staging folder besides the pages the table of contents lists.
EXTRA_SOURCES = ("_config.yml", "_toc.yml", "references.bib", "_static", "_ext", "data/template_cohort.csv")


class BuildError(Exception):
    """A step of the build failed; the message says which and where to look."""


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
    # IPC sockets rather than TCP: the kernel is local, and nothing then listens on a network port. Each
    # kernel's sockets live in a private temporary folder (never in the source tree, never shared).
    sockets = tempfile.mkdtemp(prefix="mg-kernel-")
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
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
        shutil.rmtree(sockets, ignore_errors=True)
    # papermill's injected cell repeats the parameters with build-internal paths; the colophon shows the
    # run's parameters instead, so the injected cell is kept out of the HTML.
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, target)


def _set_repository(config: Path) -> None:
    """Fill repository.url of the staged _config.yml from git's 'origin', or drop the launch buttons."""
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=paths.ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        url = ""
    url = url.removesuffix(".git")
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    if url.startswith("https://"):
        settings["repository"]["url"] = url
    else:
        settings.pop("launch_buttons", None)
        settings.pop("repository", None)
    config.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True), encoding="utf-8")


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run")


def _print_pdf(src: Path, stage: Path, jb: Path) -> None:
    """Build the book as one HTML page and print it to ``stage/book.pdf`` with Debian's Chromium.

    (jupyter-book's own ``pdfhtml`` builder downloads a browser, which cannot be done here.)
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise BuildError("make pdf needs Chromium (apt-get install chromium); the HTML book was not replaced.")
    single = subprocess.run([str(jb), "build", str(src), "--builder", "singlehtml", "--path-output", str(stage / "single"),
                             "--quiet"], capture_output=True, text=True)
    page = stage / "single" / "_build" / "singlehtml" / f"{toc_documents()[0]}.html"  # index.html only redirects
    if single.returncode != 0 or not page.is_file():
        raise BuildError(f"the single-page build for the PDF failed.\n{(single.stdout + single.stderr)[-2000:]}")
    with tempfile.TemporaryDirectory() as profile:
        # Wait until the page is laid out and its images drawn before printing, or the PDF comes out blank.
        printed = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                                  "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
                                  f"--print-to-pdf={stage / 'book.pdf'}", page.as_uri()], capture_output=True, text=True,
                                 timeout=300)
    if not (stage / "book.pdf").is_file():
        raise BuildError(f"Chromium did not print the PDF.\n{printed.stderr[-2000:]}")


def _timed_execute(source: Path, target: Path, parameters: dict) -> float:
    """Execute one notebook (in a worker process) and return the seconds it took."""
    t0 = time.perf_counter()
    _execute(source, target, parameters)
    return time.perf_counter() - t0


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


@dataclass
class _Job:
    """One notebook execution: where from, where to, with which parameters, under which cache key."""

    name: str
    source: Path
    target: Path
    tables: Path
    params: dict
    cache_id: str
    key: str = ""
    after: tuple = ()


def _helper_imports(text: str) -> set[str]:
    """Names of the helpers modules a source imports (``from helpers import a, b``; ``from helpers.c import``)."""
    found = set(re.findall(r"^\s*from helpers\.(\w+) import", text, flags=re.M))
    found |= set(re.findall(r"^\s*import helpers\.(\w+)", text, flags=re.M))
    for match in re.finditer(r"^\s*from helpers import (\([^)]*\)|[^\n]*)", text, flags=re.M):
        names = match.group(1).split("#")[0].strip("() \n")
        found |= {n.strip().split(" as ")[0] for n in names.replace("\n", ",").split(",") if n.strip()}
    return {m for m in found if (paths.ROOT / "src" / "helpers" / f"{m}.py").is_file()}


def _helpers_closure(modules: set[str]) -> list[str]:
    """The modules and every helpers module they import, transitively, sorted."""
    seen, todo = set(), list(modules)
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += list(_helper_imports((paths.ROOT / "src" / "helpers" / f"{m}.py").read_text(encoding="utf-8")))
    return sorted(seen)


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def _job_key(job: _Job, data: dict) -> str:
    """Content hash of everything the executed notebook depends on."""
    text = job.source.read_text(encoding="utf-8")
    modules = _helpers_closure(_helper_imports(text))
    helpers = {m: _file_digest(paths.ROOT / "src" / "helpers" / f"{m}.py") for m in modules}
    params = {k: v for k, v in job.params.items() if k != "tables_dir"}
    extra = colophon.commit() if "colophon" in modules else ""
    return _digest(text, params, data, helpers, extra)


def _cached(cache: Path, job: _Job) -> bool:
    entry = cache / job.cache_id
    return (entry / "key").is_file() and (entry / "key").read_text() == job.key and (entry / "notebook.ipynb").is_file()


def _restore(cache: Path, job: _Job) -> None:
    entry = cache / job.cache_id
    job.target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(entry / "notebook.ipynb", job.target)
    if (entry / "tables").exists():
        shutil.copytree(entry / "tables", job.tables, dirs_exist_ok=True)


def _store(cache: Path, job: _Job) -> None:
    entry = cache / job.cache_id
    fresh = cache / f".{job.cache_id}.new"
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir(parents=True)
    shutil.copy2(job.target, fresh / "notebook.ipynb")
    if job.tables.exists():
        shutil.copytree(job.tables, fresh / "tables")
    (fresh / "key").write_text(job.key)
    if entry.exists():
        shutil.rmtree(entry)
    fresh.rename(entry)


def build(params_file=None, out: Path | None = None, log=print, use_cache: bool = True, jobs: int | None = None,
          pdf: bool = False) -> Path:
    """Build the whole book; return the path of its ``index.html``. Raise InputError or BuildError.

    A notebook is executed again only when its source, the parameters, the input files or the helpers
    modules it imports have changed; otherwise its executed copy and tables come from ``_build/cache``.
    Notebooks that do not depend on each other run in parallel, ``jobs`` at a time (default: the cores).
    With ``pdf``, the book is also printed to ``book.pdf`` (a single-page HTML build printed by Chromium).
    """
    started = time.perf_counter()
    params_file = paths.resolve(params_file or paths.DEFAULT_PARAMS)
    params = params_mod.load(params_file)
    validate.load_cohort(params["cohort_csv"], params["mg_unit"])
    if params["vsmc_csv"]:
        validate.load_vsmc(params["vsmc_csv"])
    out = Path(out) if out else paths.BUILD
    cache = out / "cache"
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
    _set_repository(src / "_config.yml")
    data = {
        "cohort": _file_digest(paths.resolve(params["cohort_csv"])),
        "vsmc": _file_digest(paths.resolve(params["vsmc_csv"])) if params["vsmc_csv"] else None,
        "reference": {p.name: _file_digest(p) for p in [paths.DICTIONARY, *sorted(paths.PUBLISHED.glob("*.csv"))]},
    }
    run_params = {**params, "params_file": paths.shown(params_file)}
    work = stage / "work"

    def job_for(doc, name=None, tables=None, overrides=None, after=()):
        cache_id = re.sub(r"[^\w.-]+", "_", name or doc)
        tables = tables or work / cache_id / "tables"
        job_params = {**run_params, **(overrides or {}), "tables_dir": paths.shown(tables)}
        return _Job(name or doc, paths.ROOT / f"{doc}.md", stage / "executed" / f"{cache_id}.ipynb", tables,
                    job_params, cache_id, after=after)

    docs = toc_documents()
    page_jobs, sweep_jobs, pages = [], [], []
    for doc in docs:
        source = paths.ROOT / f"{doc}.md"
        if not source.is_file():
            raise BuildError(f"_toc.yml lists {doc}, but {paths.shown(source)} does not exist.")
        if not is_notebook(source):
            pages.append(doc)
            (src / doc).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / f"{doc}.md")
            continue
        job = job_for(doc)
        job.target = src / f"{doc}.ipynb"
        page_jobs.append(job)
    sweep_page = next((j for j in page_jobs if j.name == SWEEP_PAGE), None)
    for cuts in params[SWEEP_PARAMETER] or []:
        label = paths.sweep_label(cuts)
        tables = (sweep_page.tables if sweep_page else work / "sweep" / "tables") / "sweep" / label
        sweep_jobs.append(job_for(SWEEP_NOTEBOOK, f"{SWEEP_NOTEBOOK} with cut-points {label}", tables, {"mg_cutpoints": cuts}))
    for job in sweep_jobs + page_jobs:
        job.key = _job_key(job, data)
    if sweep_page:
        sweep_page.after = tuple(j.name for j in sweep_jobs)
        sweep_page.key = _digest(sweep_page.key, [j.key for j in sweep_jobs])

    book_key = _digest([j.key for j in sweep_jobs + page_jobs],
                       {p: _file_digest(paths.ROOT / f"{p}.md") for p in pages},
                       {n: _file_digest(paths.ROOT / n) for n in EXTRA_SOURCES if (paths.ROOT / n).is_file()},
                       sorted(_file_digest(f) for d in ("_static", "_ext") for f in (paths.ROOT / d).rglob("*.*") if f.is_file()))
    index = out / "html" / "index.html"
    stored = cache / "book.key"
    pdf_current = not pdf or (out / "book.pdf").is_file()
    if use_cache and index.is_file() and stored.is_file() and stored.read_text() == book_key and pdf_current:
        shutil.rmtree(stage)
        log(f"nothing changed since the last build ({time.perf_counter() - started:.1f} s)")
        return index

    everything = sweep_jobs + page_jobs
    numbers = {j.name: i for i, j in enumerate(everything, start=1)}

    workers = jobs or os.cpu_count() or 1
    for batch in ([j for j in everything if not j.after], [j for j in everything if j.after]):
        pending = []
        for job in batch:
            label = f"[{numbers[job.name]}/{len(everything)}]"
            if use_cache and _cached(cache, job):
                _restore(cache, job)
                log(f"{label} {job.name}: unchanged, from the cache")
            else:
                job.tables.mkdir(parents=True, exist_ok=True)
                pending.append(job)
        if not pending:
            continue
        # Each notebook runs in its own process, with its own kernel: notebooks of a batch do not depend
        # on each other, so they run side by side, one per core.
        with ProcessPoolExecutor(max_workers=min(workers, len(pending))) as pool:
            futures = {pool.submit(_timed_execute, j.source, j.target, j.params): j for j in pending}
            for future in as_completed(futures):
                job = futures[future]
                seconds = future.result()  # the first failure is raised, with its message
                _store(cache, job)
                log(f"[{numbers[job.name]}/{len(everything)}] executed {job.name} in {seconds:.1f} s")

    staged_tables = src / "tables"
    staged_tables.mkdir(exist_ok=True)
    for job in page_jobs:
        if not job.tables.exists():
            continue
        for item in sorted(job.tables.iterdir()):
            if (staged_tables / item.name).exists():
                raise BuildError(f"two notebooks write tables/{item.name}; the second is {job.name}.")
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, staged_tables / item.name)
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
    if pdf:
        t0 = time.perf_counter()
        _print_pdf(src, stage, jb)
        log(f"printed the PDF in {time.perf_counter() - t0:.1f} s")
    tables = paths.resolve(params["tables_dir"]) if out == paths.BUILD else out / "tables"
    tables.parent.mkdir(parents=True, exist_ok=True)
    _swap(stage / "out" / "_build" / "html", out / "html")
    shutil.copytree(staged_tables, stage / "tables")
    _swap(stage / "tables", tables)
    executed = stage / "notebooks"
    executed.mkdir()
    for job in page_jobs:
        shutil.copy2(job.target, executed / job.target.name)
    if sweep_jobs:
        (executed / "sweep").mkdir()
        for job in sweep_jobs:
            shutil.copy2(job.target, executed / "sweep" / f"{Path(SWEEP_NOTEBOOK).name}_{job.name.split()[-1]}.ipynb")
    _swap(executed, out / "notebooks")
    if pdf:
        os.replace(stage / "book.pdf", out / "book.pdf")
    shutil.rmtree(stage)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "book.key").write_text(book_key)
    log(f"done in {time.perf_counter() - started:.1f} s")
    return index


def main(argv=None) -> int:
    """Command line: ``mg-book [--params FILE]``."""
    parser = argparse.ArgumentParser(
        prog="mg-book",
        description="Execute every chapter on the data and settings of a parameters file and build the HTML book.",
    )
    parser.add_argument("--params", default=str(paths.DEFAULT_PARAMS), help="parameters file (YAML); default %(default)s")
    parser.add_argument("--out", default=None, help="output folder; default _build in the repository")
    parser.add_argument("--no-cache", action="store_true", help="execute every notebook even if nothing changed")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks executed at once; default: the cores")
    parser.add_argument("--pdf", action="store_true", help="also print the whole book to book.pdf (needs Chromium)")
    args = parser.parse_args(argv)
    try:
        index = build(args.params, Path(args.out).resolve() if args.out else None,
                      use_cache=not args.no_cache, jobs=args.jobs, pdf=args.pdf)
    except (InputError, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"The book: {index}")
    if args.pdf:
        print(f"The PDF: {index.parent.parent / 'book.pdf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
