"""Build the book: validate the input, execute every declared run with papermill, run jupyter-book.

Nothing is written over a source. The runs (:mod:`helpers.pipeline.runs`) are executed into a staging
folder (``_build/.next``) together with the book's other pages; jupyter-book builds the HTML there with
warnings as errors. Only when every step has succeeded are the new HTML, tables and executed notebooks
swapped into ``_build``, so a failed build leaves the last good book in place.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

import yaml

from helpers import paths
from helpers.errors import BuildError, InputError
from helpers.pipeline import params as params_mod
from helpers.pipeline import stamp


class _Lazy:
    """A module imported when first used: ``mg-book`` answers "nothing changed" (:mod:`stamp`) without
    loading pandas, pandera and jupytext, which take longer to import than the whole check."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


pd = _Lazy("pandas")
cache_mod = _Lazy("helpers.pipeline.cache")
runs_mod = _Lazy("helpers.pipeline.runs")
validate = _Lazy("helpers.pipeline.validate")
disclosure = _Lazy("helpers.report.disclosure")
_execute = _Lazy("helpers.pipeline.execute")
_kernels = _Lazy("helpers.pipeline.kernels")

__all__ = ["BuildError", "build", "main"]


@dataclass
class _Job:
    """A declared run, placed: where its executed notebook and tables go, and its cache key."""

    run: runs_mod.Run
    target: Path
    tables: Path
    inputs: dict  # the run's inputs and their digests (cache.manifest)

    @property
    def key(self) -> str:
        return cache_mod.key_of(self.inputs)


def repository_url(option: str | None = None) -> str:
    """The public repository address: the build option, else ``repository.url`` in ``_config.yml``,
    else git's 'origin' when it is a public https address; '' when there is none."""
    if option:
        return option.removesuffix(".git")
    configured = (yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8")).get("repository") or {}).get("url") or ""
    if configured:
        return configured.removesuffix(".git")
    try:
        url = subprocess.run(["git", "remote", "get-url", "origin"], cwd=paths.ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
    return url.removesuffix(".git") if url.startswith("https://") else ""


LAUNCH_ROUTE = (
    "This build knows its public repository ({url}): each chapter's header has a launch button (the rocket) that "
    "opens the chapter on Binder, in a session built from `environment.yml` at the root of the repository, which "
    "repeats the pinned packages. Launch one chapter yourself before class: Binder builds its image on the first "
    "launch after a change to the repository, which takes several minutes; later launches start fast.")
LOCAL_ROUTE = (
    "This build has no public repository address, so its chapters carry no launch button: students run the book "
    "on their own machines, as above. To offer Binder as well, set `repository.url` in `_config.yml`, or build "
    "with `mg-book --repository https://github.com/OWNER/REPO` (a public clone's `origin` is used otherwise); each "
    "chapter's header then has a launch button that opens it on Binder, in a session built from `environment.yml`.")


def _configure(config: Path, url: str, student: bool = False, real: bool = False) -> None:
    """Set the staged _config.yml's repository (buttons and Binder launch) or leave them out when there is
    none; for the student edition, leave the exercises' solutions out (sphinx-exercise's hide_solutions).

    With ``real`` data no executed notebook or page source is offered for download (disclosure control:
    only the tables and figures the pages show, each disclosed, leave the machine).
    """
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["sphinx"].setdefault("config", {})["hide_solutions"] = bool(student)
    if real:
        settings["html"]["use_download_button"] = False
        sphinx = settings.setdefault("sphinx", {})
        sphinx["recursive_update"] = True  # merge into the theme options jupyter-book builds, not replace them
        sphinx.setdefault("config", {})["html_copy_source"] = False
        sphinx["config"]["html_theme_options"] = {"use_download_button": False}
        settings.pop("launch_buttons", None)
    launch = bool(url) and "launch_buttons" in settings
    if url:
        settings["repository"]["url"] = url
        settings["html"]["use_repository_button"] = True
    else:
        settings.pop("launch_buttons", None)
        settings.pop("repository", None)
        settings["html"]["use_repository_button"] = False
    # The teachers page says what this build shows: launch buttons, or the local route and how to get them.
    settings.setdefault("parse", {}).setdefault("myst_substitutions", {})["launch_route"] = (
        LAUNCH_ROUTE.format(url=url) if launch else LOCAL_ROUTE)
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
    root = stage / "single" / "_build" / "singlehtml"
    built = root / f"{runs_mod.toc_documents()[0]}.html"  # index.html only redirects
    if single.returncode != 0 or not built.is_file():
        raise BuildError(f"the single-page build for the PDF failed.\n{(single.stdout + single.stderr)[-2000:]}")
    # The page links its styles and images from the folder's root (_static/, _images/), as if it stood there:
    # printed where it is written (book/), it came out unstyled. A copy at the root prints with the theme and
    # the print rules of _static/custom.css (title page, page numbers, no navigation or buttons).
    page = root / "print.html"
    shutil.copy(built, page)
    with tempfile.TemporaryDirectory() as profile:
        # Wait until the page is laid out and its images drawn before printing, or the PDF comes out blank.
        printed = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
                                  "--run-all-compositor-stages-before-draw", "--virtual-time-budget=20000",
                                  f"--print-to-pdf={stage / 'book.pdf'}", page.as_uri()], capture_output=True, text=True,
                                 timeout=300)
    if not (stage / "book.pdf").is_file():
        raise BuildError(f"Chromium did not print the PDF.\n{printed.stderr[-2000:]}")


def _swap(new: Path, final: Path) -> None:
    old = final.with_name(final.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        final.rename(old)
    new.rename(final)
    if old.exists():
        shutil.rmtree(old)


def _stage_sources(src: Path, pages: list[str], url: str, student: bool = False, real: bool = False) -> None:
    """Copy the plain pages and the book's other sources into the staging folder."""
    for name in runs_mod.EXTRA_SOURCES:
        source = paths.ROOT / name
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, src / name)
    for doc in pages:
        (src / doc).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths.ROOT / f"{doc}.md", src / f"{doc}.md")
    _configure(src / "_config.yml", url, student, real)


def _book_key(jobs: list[_Job], pages: list[str], url: str) -> str:
    return cache_mod.digest([j.key for j in jobs], url,
                            {p: cache_mod.file_digest(paths.ROOT / f"{p}.md") for p in pages},
                            {n: cache_mod.file_digest(paths.ROOT / n) for n in runs_mod.EXTRA_SOURCES})


def _execute_all(jobs: list[_Job], cache: Path, params: dict, use_cache: bool, workers: int, log) -> None:
    """Restore each run from the cache or execute it; runs do not depend on each other, so they run side by
    side, each in its own process with its own kernel."""
    pending = []
    for number, job in enumerate(jobs, start=1):
        changed = cache_mod.changes(cache, job.run, job.inputs) if use_cache else ["--no-cache"]
        if not changed:
            cache_mod.restore(cache, job.run, job.target, job.tables)
            log(f"[{number}/{len(jobs)}] {job.run.name}: unchanged, from the cache")
        else:
            log(f"[{number}/{len(jobs)}] {job.run.name}: to execute; changed: {cache_mod.described(changed)}")
            job.tables.mkdir(parents=True, exist_ok=True)
            pending.append(job)
    if not pending:
        return
    pending.sort(key=lambda job: runs_mod.start_order(job.run))  # longest first; the log keeps reading order
    started = time.perf_counter()
    # Three kernels or more are forked from one warm process that imported their libraries once (about 1.5
    # CPU seconds saved per kernel, 2 spent once: helpers.pipeline.kernels).
    warm = _kernels.zygote(_execute.kernel_environment()) if len(pending) >= 3 else contextlib.nullcontext()
    with warm, ProcessPoolExecutor(max_workers=min(workers, len(pending)), initializer=_execute.stop_on_sigterm) as pool:
        futures = {pool.submit(_execute.execute, j.run.source, j.target, params["params_file"], j.run.overrides, j.tables): j
                   for j in pending}
        try:
            for future in as_completed(futures):
                job = futures[future]
                seconds = _result(future, futures)
                cache_mod.store(cache, job.run, job.key, job.target, job.tables, job.inputs)
                log(f"[{jobs.index(job) + 1}/{len(jobs)}] executed {job.run.name} in {seconds:.1f} s")
        except BaseException:
            _stop_all(pool)
            raise
    log(f"ran {len(pending)} notebook(s) in {time.perf_counter() - started:.1f} s, {min(workers, len(pending))} at a time")


def _result(future, futures: dict) -> float:
    """A run's seconds; its failure is raised with its message. A worker process that died (the system's
    out-of-memory killer may pick it rather than its kernel) fails every unfinished run at once."""
    try:
        return future.result()
    except BrokenProcessPool:
        unfinished = [j.run.name for f, j in futures.items() if not f.done() or isinstance(f.exception(), BrokenProcessPool)]
        raise BuildError(f"a process executing the notebooks was killed (out of memory?) before these pages finished: "
                         f"{', '.join(unfinished)}; the last good book is untouched.") from None


def _stop_all(pool: ProcessPoolExecutor) -> None:
    """After the first failure no other run starts, and those running stop now (each worker, on SIGTERM, kills
    its kernel and removes its files: :func:`execute.stop_on_sigterm`) rather than being waited for."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # shutdown() forgets them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()


def _gather_tables(jobs: list[_Job], staged: Path) -> None:
    """Gather every run's tables into one folder; the runs' disclosure logs become one log, in reading order."""
    staged.mkdir(exist_ok=True)
    logs = []
    for job in jobs:
        if not job.tables.exists():
            continue
        for item in sorted(job.tables.iterdir()):
            if item.name == disclosure.LOG_NAME:
                logs.append(pd.read_csv(item, dtype=str, keep_default_na=False).assign(Page=job.run.doc))
                continue
            if (staged / item.name).exists():
                raise BuildError(f"two notebooks write tables/{item.name}; the second is {job.run.name}.")
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, staged / item.name)
    if logs:
        log = pd.concat(logs, ignore_index=True)
        log[["Page", *disclosure.LOG_COLUMNS]].to_csv(staged / disclosure.LOG_NAME, index=False, lineterminator="\n")


def _jupyter_book(src: Path, stage: Path, pdf: bool, log) -> None:
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


def _print_only(src: Path, stage: Path, out: Path, log) -> None:
    """Print the PDF of a book whose HTML is current, without building the HTML again."""
    t0 = time.perf_counter()
    _print_pdf(src, stage, Path(sys.executable).with_name("jupyter-book"))
    os.replace(stage / "book.pdf", out / "book.pdf")
    log(f"the HTML is current; printed the PDF in {time.perf_counter() - t0:.1f} s")


def _publish(stage: Path, src: Path, out: Path, jobs: list[_Job], pdf: bool, real: bool = False) -> None:
    """Swap the new HTML, tables and executed notebooks into ``out``: only now is the last good book replaced.

    With real data the executed notebooks are not published (nor offered for download): ``out/notebooks``
    is removed, and only the disclosed tables and pages are.
    """
    _swap(stage / "out" / "_build" / "html", out / "html")
    shutil.copytree(src / "tables", stage / "tables")
    _swap(stage / "tables", out / "tables")
    if real:
        shutil.rmtree(out / "notebooks", ignore_errors=True)
    else:
        executed = stage / "notebooks"
        executed.mkdir()
        for job in jobs:
            shutil.copy2(job.target, executed / job.target.name)
        _swap(executed, out / "notebooks")
    if pdf:
        os.replace(stage / "book.pdf", out / "book.pdf")


def _check_inputs(params: dict, planned: list, cache: Path, use_cache: bool) -> tuple[dict, dict]:
    """Validate the input files, then make the checks of their parameters that the pages to be executed
    (not those current in the cache) would make; return the data digests and each planned run's inputs."""
    cohort = validate.load_cohort(params["cohort_csv"], params["mg_unit"], params["lab_units"])
    if params["vsmc_csv"]:
        validate.load_vsmc(params["vsmc_csv"])
    data = cache_mod.data_digests(params)
    manifests = {run.doc: cache_mod.manifest(run, params, data) for run in planned}
    to_execute = [r for r in planned if not use_cache or cache_mod.changes(cache, r, manifests[r.doc])]
    validate.preflight(params, [name for run in to_execute for name in runs_mod.PREFLIGHT.get(run.doc, ())], cohort)
    return data, manifests


def build(params_file=None, out: Path | None = None, log=print, use_cache: bool = True, jobs: int | None = None,
          pdf: bool = False, only: tuple[str, ...] = (), repository: str | None = None, student: bool = False,
          quick: str | None = None) -> Path:
    """Build the whole book; return the path of its ``index.html``. Raise InputError or BuildError.

    A run is executed again only when one of its inputs has changed (its source, the parameters, the input
    and exercise files it reads, the helpers modules it imports, the pinned packages installed: the log
    names them, :func:`cache.manifest`); otherwise its executed copy and tables come from ``_build/cache``. ``only``
    executes the chapters whose names contain one of the words; each other chapter is taken from the cache
    when it is current, else keeps its place as a short page saying so, so every link resolves. ``student`` builds the student edition: solutions left out.
    With ``pdf``, the book is also printed to ``book.pdf`` (a single-page HTML build printed by Chromium).
    ``quick``: the sources' fingerprint this build starts from (:func:`stamp.fingerprint`), kept beside the
    book when it finishes so that the next ``mg-book`` with nothing changed stops at once.
    """
    started = time.perf_counter()
    params = params_mod.load(params_file)
    for name, kind in (("cohort_csv", params["cohort_kind"]), ("vsmc_csv", params["vsmc_kind"])):
        if kind:
            log(f"{name} = {params[name]}: runs as {kind} data")
    try:
        planned, pages = runs_mod.plan(only)
        left_out = [r for r in runs_mod.plan()[0] if r not in planned]
    except FileNotFoundError as exc:
        raise BuildError(str(exc)) from None
    out = Path(out) if out else paths.BUILD
    with _validated_once():
        index = _build(params, planned, pages, left_out, out, started, log, use_cache, jobs, pdf, only, repository,
                       student)
    stamp.record(out, quick)
    return index


@contextlib.contextmanager
def _validated_once():
    """The cohort is read and checked once per build: the notebooks take the validated frame from a temporary
    folder (:data:`validate.VALIDATED_ENV`), removed when the build ends. It is not under the output folder,
    which a build stopped by its checks must leave as it was (or never create)."""
    folder = Path(tempfile.mkdtemp(prefix="mg-validated-"))
    before = os.environ.get(validate.VALIDATED_ENV)
    os.environ[validate.VALIDATED_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(validate.VALIDATED_ENV, None)
        else:
            os.environ[validate.VALIDATED_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)


def _build(params, planned, pages, left_out, out, started, log, use_cache, jobs, pdf, only, repository, student):
    cache, stage = out / "cache", out / ".next"
    data, manifests = _check_inputs(params, planned, cache, use_cache)
    if stage.exists():
        shutil.rmtree(stage)
    src = stage / "src"
    src.mkdir(parents=True)
    url = repository_url(repository)
    reused, left_out = _reusable(left_out, cache, params, data) if use_cache else ([], left_out)
    placed = [_Job(run, src / f"{run.doc}.ipynb", stage / "work" / cache_mod.cache_id(run) / "tables",
                   manifests.get(run.doc) or cache_mod.manifest(run, params, data)) for run in [*planned, *reused]]
    book_key = _book_key(placed, pages, url) + (f"only {sorted(r.doc for r in left_out)}" if only else "") + (
        "student" if student else "") + params["cohort_kind"] + str(params["vsmc_kind"])
    index = out / "html" / "index.html"
    stored = cache / "book.key"
    html_current = use_cache and index.is_file() and stored.is_file() and stored.read_text() == book_key
    if html_current and (not pdf or (out / "book.pdf").is_file()):
        shutil.rmtree(stage)
        log(f"nothing changed since the last build ({time.perf_counter() - started:.1f} s)")
        return index
    real = "real" in (params["cohort_kind"], params["vsmc_kind"])
    if real:
        log("real data: disclosure control applies; executed notebooks are not offered for download")
    _stage_sources(src, pages, url, student, real)
    for run in left_out:
        _placeholder(run, src, only)
    _execute_all(placed, cache, params, use_cache, jobs or os.cpu_count() or 1, log)
    _gather_tables(placed, src / "tables")
    if html_current:  # only the PDF is missing: the HTML book in place is this build's
        _print_only(src, stage, out, log)
    else:
        _jupyter_book(src, stage, pdf, log)
        _publish(stage, src, out, placed, pdf, real)
    shutil.rmtree(stage)
    cache.mkdir(parents=True, exist_ok=True)
    stored.write_text(book_key)
    log(f"done in {time.perf_counter() - started:.1f} s")
    return index


def _reusable(left_out: list, cache: Path, params: dict, data: dict) -> tuple[list, list]:
    """Of the runs ``--only`` leaves out, those whose cached result is current for this run's parameters and
    data (shown as they are), and the rest (a short page each): a page never shows another run's numbers."""
    current = [r for r in left_out if cache_mod.is_current(cache, r, cache_mod.run_key(r, params, data))]
    return current, [r for r in left_out if r not in current]


def _placeholder(run: runs_mod.Run, src: Path, only: tuple[str, ...]) -> None:
    """With ``--only``, a page in place of a run left out: its title, its labels and a note, so that every
    link of the book still resolves (a chapter left out of the table of contents would break them)."""
    text = run.source.read_text(encoding="utf-8")
    title = next((ln for ln in text.splitlines() if ln.startswith("# ")), f"# {run.doc}")
    labels = re.findall(r"^:label:\s*(\S+)", text, flags=re.M) + re.findall(r"^\(([\w-]+)\)=$", text, flags=re.M)
    words = " ".join(only)
    lines = [title, "", "```{note}", f"This page was not executed in this build (`mg-book --only {words}`). "
             "Build without `--only` to see it.", "```", ""]
    lines += [f"({label})=\n*{label}: not executed in this build.*\n" for label in labels]
    (src / f"{run.doc}.md").parent.mkdir(parents=True, exist_ok=True)
    (src / f"{run.doc}.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv=None) -> int:
    """Command line: ``mg-book [--params FILE] [--only WORD ...]``."""
    parser = argparse.ArgumentParser(
        prog="mg-book",
        description="Execute every chapter on the data and settings of a parameters file and build the HTML book.",
        epilog="Parameters a parameters file may set:\n" + params_mod.describe(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--params", default=str(paths.DEFAULT_PARAMS), help="parameters file (YAML); default %(default)s")
    parser.add_argument("--out", default=None, help="output folder; default _build in the repository")
    parser.add_argument("--no-cache", action="store_true", help="execute every notebook even if nothing changed")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks executed at once; default: the cores")
    parser.add_argument("--pdf", action="store_true", help="also print the whole book to book.pdf (needs Chromium)")
    parser.add_argument("--only", nargs="+", default=(), metavar="WORD",
                        help="execute only the pages whose names contain one of these words (e.g. hazards); "
                             "the others come from the cache when current, else show their title and a note")
    parser.add_argument("--repository", default=None, metavar="URL",
                        help="public repository address for the repository and launch buttons "
                             "(default: repository.url in _config.yml, else git's origin when public)")
    parser.add_argument("--student", action="store_true",
                        help="the student edition: the exercises' solutions are left out")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve() if args.out else paths.BUILD
    started = time.perf_counter()
    quick = stamp.fingerprint(args.params, {"out": str(out), "only": sorted(args.only), "pdf": args.pdf,
                                            "repository": args.repository, "student": args.student})
    if not args.no_cache and stamp.current(out, quick, args.pdf):
        print(f"nothing changed since the last build ({time.perf_counter() - started:.1f} s; sources as built)")
        print(f"The book: {out / 'html' / 'index.html'}")
        return 0
    try:
        index = build(args.params, out, use_cache=not args.no_cache, jobs=args.jobs, pdf=args.pdf, only=tuple(args.only),
                      repository=args.repository, student=args.student, quick=quick)
    except (InputError, BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"The book: {index}")
    if args.pdf:
        print(f"The PDF: {index.parent.parent / 'book.pdf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
