"""The build: declared runs, what invalidates a run's cache, the import graph behind the keys, and the
kernels it starts."""

import logging

import nbformat

from helpers import paths
from helpers.pipeline import cache, execute, runs


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


def test_without_an_address_the_buttons_are_left_out(tmp_path):
    settings = _staged_config(tmp_path, "")
    assert "repository" not in settings and "launch_buttons" not in settings
    assert settings["html"]["use_repository_button"] is False


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
