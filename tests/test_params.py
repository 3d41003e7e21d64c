"""The parameters file and the notebooks' parameters cells stay in step; bad parameters are named."""

import ast

import jupytext
import pytest

from helpers import build, params, paths
from helpers.errors import InputError


def _notebooks():
    return [paths.ROOT / f"{doc}.md" for doc in build.toc_documents() if build.is_notebook(paths.ROOT / f"{doc}.md")]


def _parameters_cell(path):
    nb = jupytext.read(path)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name} must have exactly one cell tagged 'parameters'"
    values = {}
    for node in ast.parse(cells[0].source).body:
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: paths.shown(p))
def test_parameters_cell_carries_the_defaults(path):
    assert _parameters_cell(path) == params.defaults()


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
        ("mg_cutpoints: [2.2, 1.8]\n", "mg_cutpoints must be two increasing numbers"),
        ("mg_exclude_at_or_above: 2.0\n", "mg_exclude_at_or_above must be a number above"),
        ("data_kind: fake\n", "data_kind is 'fake'"),
        ("- a list\n", "expected a mapping"),
    ],
)
def test_bad_values_are_named(tmp_path, text, fragment):
    f = tmp_path / "p.yml"
    f.write_text(text)
    with pytest.raises(InputError, match=fragment):
        params.load(f)
