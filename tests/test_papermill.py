"""papermill as its users run it: each chapter exported by `make notebooks` (helpers.pipeline.execute.export)
takes every schema parameter by its own name (-p, -f), stops with one message on an unknown one, prints no
"unknown parameter" warning for a schema parameter, and writes its tables and disclosure log under
papermill's working directory, applying the real-data rules."""

import os
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

import cohorts
from helpers import paths
from helpers.pipeline import execute, params


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ipynb")
    written = execute.export(folder)
    assert [p.stem for p in written] == sorted(p.stem for p in paths.NOTEBOOKS.glob("*.md"))
    assert not list(paths.NOTEBOOKS.glob("*.ipynb"))  # never beside its .md
    return folder


def _papermill(notebook, cwd, *args):
    # As a user's shell runs it: without the tables folder that a build (or an in-process chapter run by an
    # earlier test in this worker) sets for its own kernels.
    env = {k: v for k, v in os.environ.items() if k != paths.TABLES_ENV}
    return subprocess.run([sys.executable, "-m", "papermill", str(notebook), "out.ipynb", "--no-progress-bar", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600, env=env)


def test_the_exported_parameters_cell_is_the_schemas(exported):
    nb = nbformat.read(exported / "01_cohort.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert cell.source == params.parameters_cell()


def test_a_chapter_runs_on_the_users_cohort_by_parameter_name(exported, tmp_path):
    cohorts.make(cohorts.Shape(201, n=300, mg_unit="mmol/L", shuffle_columns=True)).to_csv(tmp_path / "mine.csv", index=False)
    (tmp_path / "my-params.yml").write_text("small_count_threshold: 10\n", encoding="utf-8")
    result = _papermill(exported / "01_cohort.ipynb", tmp_path, "-p", "cohort_csv", "mine.csv", "-p", "mg_unit", "mmol/L",
                        "-f", "my-params.yml")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "unknown parameter" not in (result.stdout + result.stderr).lower()
    tables = tmp_path / "tables"
    log = pd.read_csv(tables / "disclosure_log.csv")
    assert (tables / "flow_primary.csv").is_file() and (log["Note"] == "disclosure rules applied").any()
    out = (tmp_path / "out.ipynb").read_text(encoding="utf-8")
    assert "mine.csv" in out and "Only aggregates of these data are shown" in out  # the user's cohort, as real data
    flow = pd.read_csv(tables / "flow_primary.csv", dtype=str)
    assert flow["This run"].map(lambda v: v == "[REDACTED]" or int(v.replace(",", "")) % 5 == 0).all()


def test_an_unknown_parameter_stops_the_chapter_with_one_message(exported, tmp_path):
    result = _papermill(exported / "01_cohort.ipynb", tmp_path, "-p", "mg_units", "mmol/L")
    assert result.returncode != 0
    assert "papermill: unknown parameter(s) 'mg_units'" in result.stdout + result.stderr
    assert not (tmp_path / "tables").exists()
