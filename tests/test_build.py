"""The build: declared runs, what invalidates a run's cache, and the import graph behind the keys."""

from helpers import paths
from helpers.pipeline import cache, runs


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
