"""The build: what invalidates a notebook's cache, and that builds are incremental and deterministic."""

from helpers import build, paths


def _closure(doc):
    return build._helpers_closure(build._helper_imports((paths.ROOT / f"{doc}.md").read_text(encoding="utf-8")))


def test_imports_are_followed_through_the_helpers():
    assert "baseline" in _closure("notebooks/02_baseline") and "tables" in _closure("notebooks/02_baseline")
    assert "finegray" in _closure("notebooks/04_sensitivity")  # survival imports it
    assert "baseline" not in _closure("notebooks/07_vsmc") and "subgroups" not in _closure("notebooks/01_cohort")


def test_only_the_colophon_keys_on_the_commit():
    assert "colophon" in _closure("book/colophon")
    for doc in build.toc_documents():
        if doc != "book/colophon" and build.is_notebook(paths.ROOT / f"{doc}.md"):
            assert "colophon" not in _closure(doc), doc


def _job(params=None):
    source = paths.ROOT / "notebooks" / "01_cohort.md"
    return build._Job("x", source, paths.ROOT / "x.ipynb", paths.ROOT / "t", params or {"mg_cutpoints": [1.8, 2.2]}, "x")


def test_the_key_changes_with_parameters_and_data_but_not_the_tables_folder():
    data = {"cohort": "a"}
    base = build._job_key(_job(), data)
    assert build._job_key(_job({"mg_cutpoints": [1.8, 2.3]}), data) != base
    assert build._job_key(_job(), {"cohort": "b"}) != base
    assert build._job_key(_job({"mg_cutpoints": [1.8, 2.2], "tables_dir": "elsewhere"}), data) == base


