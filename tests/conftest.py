"""Shared fixtures: small cohorts written to temporary files, and the default parameters."""

import hashlib
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from helpers.pipeline import build, params, runs
from helpers import paths


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


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    before = _sources()
    result = subprocess.run(
        [sys.executable, "-m", "helpers.pipeline.build", "--out", str(out)], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert result.returncode == 0, result.stderr
    return out, result, before


