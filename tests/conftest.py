"""Shared fixtures: small cohorts written to temporary files, and the default parameters."""

import fcntl
import hashlib
import json
import os
import resource
import shutil
import time
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

# The tests compute with one BLAS thread, as the build's kernels and its local worker processes do
# (helpers.pipeline.execute, helpers.pipeline.distributed): `make test` runs one worker per core beside the
# builds' kernels, and OpenBLAS threads on small matrices only wait for each other, spending CPU for
# nothing. Set before numpy is first imported; a value set in the environment is kept.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.pipeline import build, params, runs  # noqa: E402
from helpers import paths  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _tables_outside_the_repository(tmp_path_factory):
    """Helpers called in-process write their tables and disclosure log where ``MG_TABLES_DIR`` says, else
    under ``tables/`` in the working directory (the repository, for pytest): give the session a folder of its
    own. A test that sets the variable itself (monkeypatch, a build) still wins."""
    if not os.environ.get(paths.TABLES_ENV):
        os.environ[paths.TABLES_ENV] = str(tmp_path_factory.mktemp("session-tables"))
    yield


@pytest.fixture
def default_params():
    return params.load()


@pytest.fixture
def cohort_text():
    """The default cohort as text, exactly as read from disk (every cell a string)."""
    return pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)


@pytest.fixture
def write_csv(tmp_path):
    """Write a DataFrame (or raw text/bytes) to a CSV file in a temporary folder and return its path."""

    def write(content, name="cohort.csv"):
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


@pytest.fixture
def copy_of_default_cohort(tmp_path):
    path = tmp_path / "cohort.csv"
    shutil.copy(paths.DATA / "cohort.csv", path)
    return path


def _sources():
    files = [paths.ROOT / f"{doc}.md" for doc in runs.toc_documents()]
    return {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in [*files, paths.DATA / "cohort.csv"]}


@contextmanager
def _shared_book_lock(tmp_path_factory):
    """The shared book's folder, held exclusively for the ``with`` block. Under pytest-xdist every worker
    of the run sees the same folder (the workers' common temporary root), and an OS file lock decides
    which one builds: the others wait, then read."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    with open(root / "shared-book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield root / "shared-book"
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The book built once per test run (once for all workers): its folder, the build's completed process,
    and the digests of the sources before it ran."""
    with _shared_book_lock(tmp_path_factory) as out:
        record = out.with_suffix(".json")
        if not record.is_file():
            before = {str(f): digest for f, digest in _sources().items()}
            result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(out)],
                                    capture_output=True, text=True, cwd=paths.ROOT)
            record.write_text(json.dumps({"args": result.args, "returncode": result.returncode,
                                          "stdout": result.stdout, "stderr": result.stderr, "before": before}))
        saved = json.loads(record.read_text())
    result = subprocess.CompletedProcess(saved["args"], saved["returncode"], saved["stdout"], saved["stderr"])
    assert result.returncode == 0, result.stderr
    return out, result, {Path(f): digest for f, digest in saved["before"].items()}


@pytest.fixture
def rebuilds_the_shared_book(tmp_path_factory):
    """For a test that builds into the shared book's folder again: it holds the folder alone meanwhile."""
    with _shared_book_lock(tmp_path_factory):
        yield


@pytest.fixture
def copy_of_the_shared_book(built, tmp_path_factory, tmp_path):
    """A copy of the shared book's folder (its HTML, cache and records: a build into it executes nothing),
    for a test that builds for long: the shared folder is held only while it is copied, so the other
    worker's tests of it do not wait."""
    with _shared_book_lock(tmp_path_factory) as out:
        shutil.copytree(out, tmp_path / "book", symlinks=True)
    return tmp_path / "book"


# Under pytest-xdist (`make test` runs one worker per core, pyproject.toml), tests are dealt out to the
# workers a module at a time, so that a module-scoped fixture is made once. The two expensive builds go
# first, side by side: the shared book (tests/test_book.py) and the real-data build (tests/test_real_data.py);
# then the browser tests, which read the shared book (the worker done with the real-data build waits for it
# while its kernels keep both cores busy); then the other modules.
FIRST = ("tests/test_book.py", "tests/test_real_data.py", "tests/test_browser.py")
# Modules whose tests share no module-scoped fixture and take seconds each are dealt a test at a time, and
# last: both workers share them (the real-shaped cohorts, 75-90 CPU seconds in all, would otherwise keep
# one worker busy long after the other has run out of work), and small units at the end let the two
# workers finish within seconds of each other.
BY_TEST = ("tests/test_cohorts.py",)


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _unit(nodeid: str) -> str:
    """The unit of work a worker is dealt: the test's module, or the test itself for a module of BY_TEST."""
    module = _module(nodeid)
    return nodeid if module in BY_TEST else module


# The fast tier (`make test-fast`, `-m "not book and not slow"`) leaves out, besides the book builds, the
# tests that take seconds each: every re-run of an R script (named test_golden_values_are_what_r_makes, as
# CONTRIBUTING asks) and these, with why.
SLOW = (
    "tests/test_design_labels.py",  # draws a second synthetic cohort and cell-culture file with another seed
    "tests/test_distributed.py::test_local_dask_cluster_gives_the_local_result",  # starts a Dask cluster
    "tests/test_distributed.py::test_local_processes_give_the_local_result",  # starts worker processes
    "tests/test_distributed.py::test_simulation_gives_the_same_replicates",  # both of them
    "tests/test_distributed.py::test_bootstrap_of_standardized_risks_is_the_same_on_every_runner",
    "tests/test_beyond.py::test_a_risk_time_beyond_follow_up_stops_the_build",  # mg-book in-process (reads the cohort)
    "tests/test_beyond.py::test_a_remote_cluster_is_refused_for_real_data",  # mg-book in-process
    "tests/test_beyond.py::test_marker_analyses_say_how_many_each_uses",  # multiple imputation, 20 fits
    "tests/test_beyond.py::test_markers_missing_in_the_data_are_imputed_as_recorded",
    "tests/test_imputation.py::test_same_seed_same_result_and_another_seed_another",
    "tests/test_imputation.py::test_recovers_the_full_data_estimate_roughly",
    "tests/test_synthetic.py::test_vsmc_replicates_are_deterministic",  # regenerates the cell-culture file
    "tests/test_environment.py::test_every_pin_is_imported_or_named_by_the_build",  # imports every pinned package
    "tests/test_validate.py::test_a_bad_row_near_the_end_of_a_large_file",  # validates 50,000-row files, 7 times
    "tests/test_build.py::test_a_killed_kernel_stops_the_build_at_once",  # starts a build's workers and kernels
    "tests/test_kernels.py",  # starts a zygote and kernels, forked and as new processes
)


def _slow(nodeid: str) -> bool:
    return "::test_golden_values_are_what_r_makes" in nodeid or any(nodeid.startswith(s) for s in SLOW)


def pytest_collection_modifyitems(items):
    for item in items:
        if _slow(item.nodeid):
            item.add_marker(pytest.mark.slow)
        if _module(item.nodeid) in BY_TEST:
            shared = [name for name, defs in item._fixtureinfo.name2fixturedefs.items()
                      if defs[-1].scope in ("module", "package", "class")]
            if shared:
                raise pytest.UsageError(f"{item.nodeid} uses the module-scoped fixture(s) {', '.join(shared)}, but its "
                                        "module is dealt to the workers a test at a time (BY_TEST in tests/conftest.py): "
                                        "each worker would make them again; take the module out of BY_TEST")

    def rank(item):
        module = _module(item.nodeid)
        return FIRST.index(module) if module in FIRST else len(FIRST) + 1 if module in BY_TEST else len(FIRST)

    items.sort(key=rank)  # stable: within a rank, the collection order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ByUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _unit(nodeid)

    config.option.loadscopereorder = False  # keep the order above
    return ByUnit(config, log)


# One zygote for the whole run (helpers.pipeline.kernels): the builds and the notebooks that tests execute fork
# their kernels from it rather than each build starting its own, about 2 CPU seconds apiece. Started before
# pytest-xdist starts its workers, which inherit its address; not for the fast tier, which starts few kernels.
# A test of the zygote itself, or of a build's own, removes the address from its environment. Its kernels'
# CPU time counts in the run's total (bench/tests.py) but in no test's.
_SESSION_ZYGOTE = []


def pytest_configure(config):
    from helpers.pipeline import execute, kernels

    if hasattr(config, "workerinput") or "not book" in (config.option.markexpr or ""):
        return
    zygote = kernels.zygote(execute.kernel_environment())
    zygote.__enter__()
    _SESSION_ZYGOTE.append(zygote)


def pytest_unconfigure(config):
    while _SESSION_ZYGOTE:
        _SESSION_ZYGOTE.pop().__exit__(None, None, None)


# bench/tests.py asks (MG_BENCH_CPU, a file) for each test's CPU seconds beside its wall time: on a shared
# machine wall time says more about the neighbours than about the test. CPU counts this process and every
# process it waited for (a build, its kernels, R, the browser), in user and system time.
BENCH_CPU = os.environ.get("MG_BENCH_CPU")


def _cpu_seconds() -> float:
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not BENCH_CPU:
        yield
        return
    cpu, wall = _cpu_seconds(), time.perf_counter()
    yield
    record = {"test": item.nodeid, "cpu": _cpu_seconds() - cpu, "wall": time.perf_counter() - wall,
              "worker": os.environ.get("PYTEST_XDIST_WORKER", "main")}
    with open(BENCH_CPU, "a", encoding="utf-8") as log:  # one short line per write: the workers' lines never mix
        log.write(json.dumps(record) + "\n")
