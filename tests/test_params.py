"""One parameter seam: the schema declares every parameter, notebooks receive only the file and overrides,
params/default.yml is the schema's template, and bad parameters are named."""

import ast

import jupytext
import pytest

from helpers.pipeline import params, runs
from helpers import paths
from helpers.errors import InputError


def _notebooks():
    return [paths.ROOT / f"{doc}.md" for doc in runs.toc_documents() if runs.is_notebook(paths.ROOT / f"{doc}.md")]


def _parameters_cell(path):
    nb = jupytext.read(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name} must have exactly one cell tagged 'parameters'"
    values = {}
    for node in ast.parse(cells[0].source).body:
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: paths.shown(p))
def test_notebooks_receive_only_the_file_and_overrides(path):
    assert _parameters_cell(path) == {"params_file": "params/default.yml", "overrides": {}}
    text = path.read_text(encoding="utf-8")
    # A chapter also reads what plain papermill passed by name (its namespace); the other pages run in the book only.
    call = "params_mod.load(params_file, overrides, globals())" if "notebooks/" in path.as_posix() else \
        "params_mod.load(params_file, overrides)"
    assert call in text


def test_the_papermill_parameters_cell_names_every_parameter_at_a_placeholder_and_no_default():
    values = {}
    for node in ast.parse(params.parameters_cell()).body:
        values[node.targets[0].id] = ast.literal_eval(node.value)
    assert values == {"params_file": "params/default.yml", "overrides": {},
                      **{name: params.PLACEHOLDER for name in params.BY_NAME}}
    assert params.PLACEHOLDER not in [p.default for p in params.SCHEMA]


def test_what_papermill_passes_is_read_typed_and_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"params_file": "params/default.yml", "overrides": {}, "In": [], "_": None, "pd": params,
                 **{name: params.PLACEHOLDER for name in params.BY_NAME},
                 "mg_unit": "mmol/L", "small_count_threshold": 10, "mg_cutpoints": "[1.7, 2.2]", "cohort_csv": "mine.csv"}
    given = params.from_papermill(namespace)
    assert given == {"mg_unit": "mmol/L", "small_count_threshold": 10, "mg_cutpoints": [1.7, 2.2],
                     "cohort_csv": str(tmp_path / "mine.csv")}
    with pytest.raises(InputError, match=r"^papermill: unknown parameter\(s\) 'mg_units'; known parameters are cohort_csv"):
        params.from_papermill({**namespace, "mg_units": "mmol/L"})
    with pytest.raises(InputError, match="mg_unit is 'mmol'"):
        params.load(None, None, {"mg_unit": "mmol"})
    assert params.load(None, None, {"mg_cutpoints": "[1.7, 2.2]"})["mg_cutpoints"] == [1.7, 2.2]


def test_default_file_is_the_schemas_template_and_sets_nothing():
    assert paths.DEFAULT_PARAMS.read_text(encoding="utf-8") == params.template(), (
        "params/default.yml is out of step with the schema: run python -m helpers.pipeline.params > params/default.yml")
    loaded = params.load()
    assert {k: loaded[k] for k in params.BY_NAME} == params.defaults()


def test_every_parameter_is_declared_once_and_documented():
    names = [p.name for p in params.SCHEMA]
    assert len(names) == len(set(names))
    assert all(p.help and p.group for p in params.SCHEMA)
    text = params.describe()
    assert all(f"  {name} (default" in text for name in names)
    assert "tables_dir" not in names and "params_file" not in names  # build-internal, not the user's


def test_every_default_passes_its_own_check():
    assert [p.name for p in params.SCHEMA if p.check(p.default)] == []
    assert params.check(params.defaults()) == params.defaults()  # and the checks across parameters


def test_overrides_are_checked_like_the_file(tmp_path):
    assert params.load(None, {"mg_cutpoints": [1.7, 2.2]})["mg_cutpoints"] == [1.7, 2.2]
    with pytest.raises(InputError, match=r"\(overrides\): unknown parameter\(s\) 'nope'"):
        params.load(None, {"nope": 1})
    with pytest.raises(InputError, match="spline_knots is 9"):
        params.load(None, {"spline_knots": 9})


def test_mode_is_decided_per_input_file(tmp_path, copy_of_default_cohort):
    assert params.load()["cohort_kind"] == "synthetic" and params.load()["cohort_shipped"]
    f = tmp_path / "p.yml"
    f.write_text(f"cohort_csv: {copy_of_default_cohort}\n")
    assert params.load(f)["cohort_kind"] == "synthetic"  # byte for byte the shipped file
    copy_of_default_cohort.write_text(copy_of_default_cohort.read_text() + "\n")
    loaded = params.load(f)
    assert loaded["cohort_kind"] == "real" and loaded["vsmc_kind"] == "synthetic" and not loaded["cohort_shipped"]
    f.write_text(f"cohort_csv: {copy_of_default_cohort}\ndata_kind: synthetic\n")
    assert params.load(f)["cohort_kind"] == "synthetic" and not params.load(f)["cohort_shipped"]


def test_shipped_digests_match_the_shipped_files():
    from helpers.pipeline import colophon

    assert {colophon.sha256(paths.DATA / "cohort.csv"), colophon.sha256(paths.DATA / "vsmc.csv")} == \
        paths.shipped_synthetic_digests()


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: paths.shown(p))
def test_notebook_keeps_its_kernelspec(path):
    assert jupytext.read(path).metadata["kernelspec"]["name"] == "python3"


def test_unknown_key_is_named(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("cohort_csv: data/cohort.csv\nmg_cutpionts: [1.7, 2.2]\n")
    with pytest.raises(InputError, match=r"unknown parameter\(s\) 'mg_cutpionts'"):
        params.load(f)


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    f = tmp_path / "p.yml"
    f.write_text("mg_cutpoints: [1.7, 2.3]\n")
    loaded = params.load(f)
    assert loaded["mg_cutpoints"] == [1.7, 2.3]
    assert loaded["cohort_csv"] == params.defaults()["cohort_csv"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("mg_unit: mmol\n", "mg_unit is 'mmol'"),
        ("mg_cutpoints: [2.2, 1.8]\n", r"mg_cutpoints is \[2.2, 1.8\]; it must be two increasing numbers"),
        ("mg_exclude_at_or_above: 2.0\n", "mg_exclude_at_or_above must be above the upper cut-point"),
        ("rounding_base: 0\n", "rounding_base is 0; it must be a whole number, 1 or more"),
        ("small_count_threshold: 2.5\n", "small_count_threshold is 2.5"),
        ("spline_knots: [2.0, 1.8, 2.2]\n", "spline_knots is"),
        ("data_kind: fake\n", "data_kind is 'fake'"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_values_are_named(tmp_path, text, fragment):
    f = tmp_path / "p.yml"
    f.write_text(text)
    with pytest.raises(InputError, match=fragment):
        params.load(f)
