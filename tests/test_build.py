"""The build: declared runs, what invalidates a run's cache, the import graph behind the keys, and the
kernels it starts."""

import ast
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from helpers import paths
from helpers.pipeline import cache, execute, kernels, runs


def _closure(doc):
    return set(runs.helper_modules(paths.ROOT / f"{doc}.md"))


def test_imports_are_followed_through_the_helpers():
    baseline = _closure("notebooks/02_baseline")
    assert "helpers.analysis.baseline" in baseline and "helpers.stats.trend" in baseline  # through baseline
    assert "helpers.stats.finegray" in _closure("notebooks/04_sensitivity")  # through helpers.survival
    assert "helpers.analysis.baseline" not in _closure("notebooks/07_vsmc")
    assert "helpers.analysis.subgroups" not in _closure("notebooks/01_cohort")


def test_only_the_colophon_keys_on_the_commit():
    assert "helpers.pipeline.colophon" in _closure("book/colophon")
    planned, _ = runs.plan()
    for run in planned:
        if run.doc != "book/colophon":
            assert "helpers.pipeline.colophon" not in _closure(run.doc), run.doc


def test_the_plan_is_the_declared_runs():
    planned, pages = runs.plan()
    docs = [r.doc for r in planned]
    assert docs[:2] == ["book/intro", "book/data"] and "notebooks/03_hazards" in docs and "book/strobe" in pages
    assert [r.doc for r in runs.plan(("hazards",))[0]] == ["notebooks/03_hazards"]
    validation = next(r for r in planned if r.doc == "book/validation")
    assert "tests/golden" in validation.inputs


def test_the_key_changes_with_parameters_data_overrides_and_inputs(tmp_path, monkeypatch):
    run = runs.Run("notebooks/01_cohort")
    data = {"cohort": "a"}
    base = cache.run_key(run, {"mg_cutpoints": [1.8, 2.2]}, data)
    assert cache.run_key(run, {"mg_cutpoints": [1.8, 2.2]}, data) == base
    assert cache.run_key(run, {"mg_cutpoints": [1.8, 2.3]}, data) != base
    assert cache.run_key(run, {"mg_cutpoints": [1.8, 2.2]}, {"cohort": "b"}) != base
    assert cache.run_key(runs.Run("notebooks/01_cohort", {"mg_cutpoints": [1.7, 2.2]}), {"mg_cutpoints": [1.8, 2.2]},
                         data) != base
    golden = tmp_path / "golden"
    golden.mkdir()
    (golden / "a.csv").write_text("1")
    with_input = runs.Run("notebooks/01_cohort", inputs=(str(golden),))
    first = cache.run_key(with_input, {}, data)
    (golden / "a.csv").write_text("2")
    assert cache.run_key(with_input, {}, data) != first


def _staged_config(tmp_path, url):
    import shutil

    import yaml

    from helpers.pipeline import build

    staged = tmp_path / "_config.yml"
    shutil.copy(paths.CONFIG, staged)
    build._configure(staged, url)
    return yaml.safe_load(staged.read_text(encoding="utf-8"))


def test_a_repository_address_gives_the_repository_and_launch_buttons(tmp_path):
    settings = _staged_config(tmp_path, "https://github.com/example/mg-compendium")
    assert settings["repository"]["url"] == "https://github.com/example/mg-compendium"
    assert settings["repository"]["branch"] == "main"
    assert settings["html"]["use_repository_button"] is True
    assert settings["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    route = settings["parse"]["myst_substitutions"]["launch_route"]  # what the teachers page says
    assert "launch button (the rocket)" in route and "https://github.com/example/mg-compendium" in route


def test_without_an_address_the_buttons_are_left_out(tmp_path):
    settings = _staged_config(tmp_path, "")
    assert "repository" not in settings and "launch_buttons" not in settings
    assert settings["html"]["use_repository_button"] is False
    route = settings["parse"]["myst_substitutions"]["launch_route"]
    assert "no launch button" in route and "repository.url" in route and "--repository" in route


def test_the_address_comes_from_the_option_then_the_config(tmp_path, monkeypatch):
    from helpers.pipeline import build

    assert build.repository_url("https://github.com/example/a.git") == "https://github.com/example/a"
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://github.com/example/b\n", encoding="utf-8")
    monkeypatch.setattr(paths, "CONFIG", config)
    assert build.repository_url() == "https://github.com/example/b"


def test_the_shipped_data_are_staged_for_download_from_the_data_page():
    assert {"data/cohort.csv", "data/vsmc.csv"} <= set(runs.EXTRA_SOURCES)
    page = (paths.ROOT / "book" / "data.md").read_text(encoding="utf-8")
    assert "<../data/cohort.csv>" in page and "<../data/vsmc.csv>" in page


def test_a_kernel_keeps_tornados_shutdown_race_off_stderr_and_hashes_strings_the_same_every_time(tmp_path, monkeypatch):
    # ipykernel points the kernel's tornado logger at the real stderr; a zmq callback on a socket closed at
    # shutdown then printed a traceback beside the build's one message. Each kernel silences it first.
    # And a fixed string hash: the order of a set of strings is the same in every run (the cache relies on it).
    source = tmp_path / "probe.md"
    source.write_text('---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n  display_name: Python 3\n'
                      '  language: python\n  name: python3\n---\n\n```{code-cell} ipython3\n:tags: [parameters]\n'
                      'params_file = ""\noverrides = {}\n```\n\n```{code-cell} ipython3\nimport logging\n'
                      'print(logging.getLogger("tornado").getEffectiveLevel())\n```\n\n'
                      '```{code-cell} ipython3\nimport os\nprint(os.environ.get("PYTHONHASHSEED"))\n```\n', encoding="utf-8")
    for name in ("PYTHONHASHSEED", paths.TABLES_ENV, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "")  # restored after the test: execute() sets them in the process it runs in
        monkeypatch.delenv(name)
    execute.execute(source, tmp_path / "probe.ipynb", "params/default.yml", {}, tmp_path / "tables")
    cells = nbformat.read(tmp_path / "probe.ipynb", as_version=4).cells
    printed = [o["text"] for c in cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("name") == "stdout"]
    assert printed == [f"{logging.CRITICAL}\n", "0\n"]


def test_a_kernel_is_shut_down_by_request_never_interrupted(tmp_path, monkeypatch, capfd):
    """jupyter_client's shutdown_kernel sends SIGINT first; landing while the kernel answered papermill's last
    request, it printed "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel." on the build's stderr (2 of
    14 runs of a build). The run is over: the kernel is asked to shut down, once, and never interrupted."""
    from jupyter_client.manager import KernelManager

    calls = []
    # The async methods are looked up on the instance by shutdown_kernel; the sync request_shutdown wraps its own.
    for name, said in (("_async_interrupt_kernel", "interrupt"), ("_async_request_shutdown", "shutdown request")):
        original = getattr(KernelManager, name)

        async def spy(self, *args, _said=said, _original=original, **kwargs):
            calls.append(_said)
            return await _original(self, *args, **kwargs)
        monkeypatch.setattr(KernelManager, name, spy)
    request = KernelManager.request_shutdown
    monkeypatch.setattr(KernelManager, "request_shutdown",
                        lambda self, *a, **k: (calls.append("shutdown request"), request(self, *a, **k))[1])
    source = tmp_path / "probe.md"
    source.write_text('---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n'
                      '  display_name: Python 3\n  language: python\n  name: python3\n---\n\n```{code-cell} ipython3\n'
                      ':tags: [parameters]\nparams_file = ""\noverrides = {}\n```\n\n```{code-cell} ipython3\nprint(1)\n```\n',
                      encoding="utf-8")
    monkeypatch.setenv(paths.TABLES_ENV, str(tmp_path / "tables"))
    execute.execute(source, tmp_path / "probe.ipynb", "params/default.yml", {}, tmp_path / "tables")
    assert calls == ["shutdown request"], calls
    assert "KeyboardInterrupt" not in capfd.readouterr().err


# --- What a change executes again: the build's plan (cache.outdated) against a cache holding every run ------

def _cached_book(tmp_path):
    """A cache in which every run of the book is current for the default parameters (a stand-in notebook)."""
    from helpers.pipeline import params as params_mod

    settings = params_mod.load()
    data = cache.data_digests(settings)
    planned = runs.plan()[0]
    notebook, tables = tmp_path / "nb.ipynb", tmp_path / "tables"
    notebook.write_text("{}")
    for run in planned:
        inputs = cache.manifest(run, settings, data)
        cache.store(tmp_path / "cache", run, cache.key_of(inputs), notebook, tables, inputs)
    return tmp_path / "cache", planned, settings


def _outdated(where, planned, settings):
    return cache.outdated(where, planned, settings, cache.data_digests(settings))


def _exercise_calls(tree):
    """The names each ``params_mod.exercise(...)`` call reads: its literal first argument, or the literals
    of the loop that binds it."""
    def calls(node):
        return [c for c in ast.walk(node) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "exercise"]

    bound = {}
    for loop in (n for n in ast.walk(tree) if isinstance(n, ast.For) and isinstance(n.target, ast.Name)):
        for call in calls(loop):
            if isinstance(call.args[0], ast.Name) and call.args[0].id == loop.target.id:
                bound[id(call)] = loop.iter.elts if isinstance(loop.iter, (ast.Tuple, ast.List)) else [loop.iter]
    for call in calls(tree):
        yield from bound.get(id(call), [call.args[0]])


def test_every_exercise_a_page_reads_is_named_by_a_literal_and_keyed():
    # The cache finds a page's exercise files from the string constants of its code; every call of
    # params.exercise must therefore name its file by a literal (or loop over literals).
    readers = {}
    for run in runs.plan()[0]:
        found = {p.stem for p in runs.exercise_files(run.source)}
        for arg in _exercise_calls(runs._code(run.source)):
            assert isinstance(arg, ast.Constant) and arg.value in found, (run.doc, ast.dump(arg))
            readers.setdefault(arg.value, set()).add(run.doc)
    assert set(readers) == {p.stem for p in paths.EXERCISES.glob("*.yml")}  # no exercise file is orphaned
    assert readers["hazards-1"] == {"notebooks/03_hazards"} and readers["sweep-1"] == {"book/sweep"}


def test_changing_an_exercise_file_executes_again_exactly_the_pages_that_read_it(tmp_path, monkeypatch):
    exercises = tmp_path / "exercises"
    shutil.copytree(paths.EXERCISES, exercises)
    monkeypatch.setattr(paths, "EXERCISES", exercises)
    where, planned, settings = _cached_book(tmp_path)
    assert _outdated(where, planned, settings) == {}
    edited = exercises / "hazards-1.yml"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nseed: 7\n", encoding="utf-8")
    assert _outdated(where, planned, settings) == {"notebooks/03_hazards": [f"exercise {paths.shown(edited)}"]}
    (exercises / "cohort-2.yml").unlink()  # a file gone counts too
    assert set(_outdated(where, planned, settings)) == {"notebooks/03_hazards", "notebooks/01_cohort"}


def test_changing_a_helper_executes_again_exactly_the_pages_that_import_it(tmp_path, monkeypatch):
    # helpers.analysis.subgroups is the subgroup analysis: its chapter imports it, and the validation
    # appendix through helpers.report.agreement (its row for the interaction test); no other page does.
    where, planned, settings = _cached_book(tmp_path)
    target = paths.ROOT / "src/helpers/analysis/subgroups.py"
    original = cache.file_digest
    monkeypatch.setattr(cache, "file_digest", lambda p: "edited" if paths.resolve(p) == target else original(p))
    assert _outdated(where, planned, settings) == {doc: ["helper helpers.analysis.subgroups"]
                                                   for doc in ("notebooks/06_subgroups", "book/validation")}


def test_a_new_pin_or_another_installed_version_executes_every_page_again(tmp_path, monkeypatch):
    where, planned, settings = _cached_book(tmp_path)
    everything = {run.doc for run in planned}
    real = cache.installed_version
    monkeypatch.setattr(cache, "installed_version", lambda name: "0.99" if name == "statsmodels" else real(name))
    assert _outdated(where, planned, settings) == {doc: ["package statsmodels"] for doc in everything}
    monkeypatch.setattr(cache, "installed_version", real)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(paths.PYPROJECT.read_text(encoding="utf-8").replace('"scipy==1.17.1"', '"scipy==1.17.2"'),
                         encoding="utf-8")
    monkeypatch.setattr(paths, "PYPROJECT", pyproject)
    assert _outdated(where, planned, settings) == {doc: ["package scipy"] for doc in everything}


def test_the_log_names_what_changed(tmp_path):
    where, planned, settings = _cached_book(tmp_path)
    run = next(r for r in planned if r.doc == "notebooks/02_baseline")
    inputs = cache.manifest(run, {**settings, "mg_cutpoints": [1.7, 2.2]}, cache.data_digests(settings))
    assert cache.changes(where, run, inputs) == ["parameter mg_cutpoints"]
    assert cache.changes(tmp_path / "empty", run, inputs) == ["not in the cache"]
    assert cache.described([f"input {i}" for i in range(6)]) == "input 0, input 1, input 2, input 3 and 2 more"


def test_the_quick_no_change_check_sees_every_source_and_the_named_data(tmp_path, monkeypatch):
    """mg-book stops early only when the fingerprint of the sources equals the one the book was built from:
    any edit of a source, of the parameters or of the data they name gives another fingerprint; bytecode
    does not; and a book that is gone, or a PDF asked for and missing, is never 'current'."""
    from helpers.pipeline import stamp

    root = tmp_path / "repo"
    for name in ("notebooks/01_cohort.md", "src/helpers/x.py", "data/cohort.csv", "params/default.yml", "_toc.yml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    other = tmp_path / "elsewhere.csv"
    other.write_text("a,b\n1,2\n")
    (root / "params/mine.yml").write_text(f"cohort_csv: {other}\n")
    monkeypatch.setattr(paths, "ROOT", root)
    options = {"out": "x", "only": [], "pdf": False}
    first = stamp.fingerprint("params/mine.yml", options)
    assert first == stamp.fingerprint("params/mine.yml", options)
    (root / "src/helpers/__pycache__").mkdir()
    (root / "src/helpers/__pycache__/x.pyc").write_text("bytecode")
    assert stamp.fingerprint("params/mine.yml", options) == first
    changed = []
    for edit in (lambda: (root / "notebooks/01_cohort.md").write_text("edited"), lambda: other.write_text("a,b\n1,3\n"),
                 lambda: (root / "src/helpers/y.py").write_text("new"), lambda: (root / "params/mine.yml").write_text(
                     f"cohort_csv: {other}\nseed: 2\n")):
        edit()
        changed.append(stamp.fingerprint("params/mine.yml", options))
    assert len({first, *changed}) == 5
    assert stamp.fingerprint("params/mine.yml", {**options, "only": ["hazards"]}) != changed[-1]
    out = tmp_path / "book"
    stamp.record(out, changed[-1])
    assert not stamp.current(out, changed[-1])  # no book in place
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("book")
    assert stamp.current(out, changed[-1]) and not stamp.current(out, first) and not stamp.current(out, None)
    assert not stamp.current(out, changed[-1], pdf=True)
    (root / "params/mine.yml").write_text("cohort_csv: missing.csv\n")
    assert stamp.fingerprint("params/mine.yml", options) is None  # the full check then reports the missing file


def _record_start(source, target, params_file, overrides, tables):
    """A stand-in for execute.execute, run in the build's worker process: it notes which page started."""
    with open(os.environ["MG_TEST_STARTED"], "a") as log:
        log.write(f"{paths.shown(source)}\n")
    return 0.0


def test_the_longest_pages_start_first_and_the_rest_in_reading_order(tmp_path, monkeypatch):
    """With one worker the pages execute in the order the build submits them: the declared longest first, so
    that no core idles at the end while one long page finishes alone."""
    from helpers.pipeline import build

    started = tmp_path / "started.txt"
    monkeypatch.setenv("MG_TEST_STARTED", str(started))
    monkeypatch.setattr(execute, "execute", _record_start)
    monkeypatch.setattr(cache, "store", lambda *args: None)
    planned, _ = runs.plan()
    jobs = [build._Job(r, tmp_path / f"{i}.ipynb", tmp_path / f"t{i}", {}) for i, r in enumerate(planned)]
    logged = []
    build._execute_all(jobs, tmp_path / "cache", {"params_file": "p.yml"}, False, 1, logged.append)
    order = [line.removesuffix(".md") for line in started.read_text().splitlines()]
    assert set(runs.LONGEST_FIRST) <= {r.doc for r in planned}  # every declared page exists
    assert order[:len(runs.LONGEST_FIRST)] == list(runs.LONGEST_FIRST)
    rest = [r.doc for r in planned if r.doc not in runs.LONGEST_FIRST]
    assert order[len(runs.LONGEST_FIRST):] == rest and len(order) == len(planned)


# --- A kernel that dies: the build stops at once, with one message --------------------------------------

PROBE_HEADER = ('---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n'
                '  display_name: Python 3\n  language: python\n  name: python3\n---\n\n```{code-cell} ipython3\n'
                ':tags: [parameters]\nparams_file = ""\noverrides = {}\n```\n\n')

# Runs the build (mg-book's main) on two stand-in pages instead of the book's: runs.plan is replaced in the
# build's process (its workers get the pages' paths from it).
BUILD_PROBES = """
import sys
import time
from pathlib import Path
from helpers.pipeline import build, runs

class Probe(runs.Run):
    @property
    def source(self):
        return Path(sys.argv[1]) / f"{self.doc}.md"

probes = [Probe("killed"), Probe("sleeper"), Probe("queued")]
runs.plan = lambda only=(): (probes, [])
sys.exit(build.main(["--out", sys.argv[2], "--jobs", "2", "--no-cache"]))
"""


def test_a_killed_kernel_stops_the_build_at_once_with_one_message(tmp_path):
    """The out-of-memory killer took a kernel at 10^6 patients and the build waited forever (nbclient looked
    for the dead kernel on an event loop that papermill's blocking client held). Now the page is named with
    its signal and cell, the other running page's kernel is killed rather than waited for, a page already
    handed to a worker does not run, and the last good book stays. Three pages on two workers: the third is
    queued before the first fails. The subprocess's timeout guards against the hang; it is no timing."""
    pages = tmp_path / "pages"
    pages.mkdir()
    pid_files = {name: tmp_path / f"{name}.pid" for name in ("sleeper", "queued")}
    # The kernel dies once the other page's kernel runs its cell (the system kills one kernel among several).
    (pages / "killed.md").write_text(PROBE_HEADER + "```{code-cell} ipython3\nimport os, signal, time\nstarted = "
                                     f"time.time()\nwhile not os.path.exists({str(pid_files['sleeper'])!r}) and "
                                     "time.time() < started + 120:\n    time.sleep(0.1)\nos.kill(os.getpid(), "
                                     "signal.SIGKILL)\n```\n", encoding="utf-8")
    for name, pid_file in pid_files.items():  # each notes its pid, then what its parent process runs
        (pages / f"{name}.md").write_text(PROBE_HEADER + f"```{{code-cell}} ipython3\nimport os, time\nopen("
                                          f"{str(pid_file) + '.parent'!r}, 'wb').write(open(f'/proc/{{os.getppid()}}/"
                                          f"cmdline', 'rb').read())\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))"
                                          "\ntime.sleep(600)\n```\n", encoding="utf-8")
    out, temp = tmp_path / "out", tmp_path / "temp"
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("the last good book")
    temp.mkdir()
    # The build starts its own zygote (not the test run's, whose address is left out).
    env = {**{k: v for k, v in os.environ.items() if k != kernels.ADDRESS_ENV}, "TMPDIR": str(temp)}
    build = subprocess.Popen([sys.executable, "-c", BUILD_PROBES, str(pages), str(out)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=paths.ROOT, env=env, start_new_session=True)
    try:
        _, stderr = build.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(build.pid, signal.SIGKILL)  # the build and its workers; the kernels have sessions of their own
        for pid_file in pid_files.values():
            if pid_file.is_file():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
        build.communicate()
        raise AssertionError("the build hung on a killed kernel") from None
    assert build.returncode == 2, stderr
    peak = re.search(r"its peak memory ([\d.]+ GB)\)", stderr)
    assert peak and stderr.splitlines() == [
        f"error: {pages / 'killed.md'}: its kernel was killed by the system (SIGKILL; out of memory? its peak memory "
        f"{peak.group(1)}) while it ran cell 2 ('import os, signal, time'); the last good book is untouched."], stderr
    assert (out / "html" / "index.html").read_text() == "the last good book"
    assert not pid_files["queued"].exists(), "the queued page ran"
    if kernels.forkable():  # three pages: the kernels were forked from the build's warm process, gone now
        assert b"helpers.pipeline.kernels" in Path(f"{pid_files['sleeper']}.parent").read_bytes()
        assert not list(temp.glob("mg-zygote-*"))
    try:
        os.kill(int(pid_files["sleeper"].read_text()), 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the other page's kernel still runs")
    assert not list(temp.glob("mg-kernel-*")), "a kernel's sockets were left behind"


def test_a_stop_while_the_kernel_starts_kills_that_kernel_before_its_sockets_go(tmp_path, monkeypatch):
    """nbclient starts the kernel in jupyter_client's own thread while the worker's main thread waits; the
    build's SIGTERM raised there at once, found no kernel yet, removed the sockets folder, and the other
    thread then launched a kernel that could not bind (a traceback on the build's stderr, one suite run in
    a few). The stop now lands mid-launch, on purpose: the kernel that was starting must be gone when
    execute() returns, and its sockets folder with it."""
    for name in ("PYTHONHASHSEED", paths.TABLES_ENV, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "")  # restored after the test: execute() sets them in the process it runs in
    monkeypatch.setattr(execute, "_STOP", [])
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(execute.tempfile, "tempdir", None)  # so that mkdtemp reads TMPDIR again
    launched, launch = [], kernels.Provisioner.launch_kernel

    async def stopped_midway(self, cmd, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # the build stops this worker now
        time.sleep(0.5)  # (in jupyter_client's thread) time for the main thread to act on it
        info = await launch(self, cmd, **kwargs)
        launched.append(self.pid)
        return info

    monkeypatch.setattr(kernels.Provisioner, "launch_kernel", stopped_midway)
    source = tmp_path / "probe.md"
    source.write_text(PROBE_HEADER + "```{code-cell} ipython3\nprint(1)\n```\n", encoding="utf-8")
    previous = signal.getsignal(signal.SIGTERM)
    execute.stop_on_sigterm()
    try:
        try:
            execute.execute(source, tmp_path / "probe.ipynb", "params/default.yml", {}, tmp_path / "tables")
        except execute.Stopped:
            pass
        else:
            raise AssertionError("the stop was lost")
        waited = time.monotonic() + 30
        while not launched and time.monotonic() < waited:  # (the old code returned before the launch ended)
            time.sleep(0.05)
        assert len(launched) == 1
        with pytest.raises(ProcessLookupError):
            os.kill(launched[0], 0)
        assert not list(tmp_path.glob("mg-kernel-*"))
    finally:
        signal.signal(signal.SIGTERM, previous)
        for pid in launched:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_kernel_that_dies_while_it_starts_is_one_message(tmp_path, monkeypatch, capfd):
    """nbclient says so with a RuntimeError, and the closed sockets of the dead kernel made the shutdown
    request fail with a zmq error: a traceback. Killed in its start-up lines here, as the system would."""
    for name in ("PYTHONHASHSEED", paths.TABLES_ENV, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "")  # restored after the test: execute() sets them in the process it runs in
    monkeypatch.setattr(execute, "QUIET_TORNADO", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    source = tmp_path / "probe.md"
    source.write_text(PROBE_HEADER + "```{code-cell} ipython3\nprint(1)\n```\n", encoding="utf-8")
    try:
        execute.execute(source, tmp_path / "probe.ipynb", "params/default.yml", {}, tmp_path / "tables")
    except execute.BuildError as err:
        message = str(err)
    else:
        raise AssertionError("a kernel killed while it started went unnoticed")
    assert message.startswith(f"{source}: its kernel was killed by the system (SIGKILL; out of memory?")
    assert message.endswith("before its first cell (Kernel died before replying to kernel_info); the last good book "
                            "is untouched.")
    assert "Traceback" not in capfd.readouterr().err
