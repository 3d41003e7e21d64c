"""Reading golden values made by the R scripts in tests/golden, and re-making them where R is installed."""

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers import paths

GOLDEN = paths.ROOT / "tests" / "golden"


def results(name: str) -> pd.DataFrame:
    """The golden results ``tests/golden/<name>.csv`` with values as floats."""
    table = pd.read_csv(GOLDEN / f"{name}.csv", float_precision="round_trip")
    table["value"] = table["value"].astype(float)
    return table


def value(table: pd.DataFrame, dataset: str, test: str, quantity: str) -> float:
    row = table[(table["dataset"] == dataset) & (table["test"] == test) & (table["quantity"] == quantity)]
    assert len(row) == 1, (dataset, test, quantity)
    return float(row["value"].iloc[0])


def rerun(script: str, tmp_path: Path, *outputs: str) -> None:
    """Run an R script of tests/golden into ``tmp_path`` and check it reproduces the committed outputs."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed; .ci/run installs it")
    result = subprocess.run(
        ["Rscript", str(GOLDEN / script), str(tmp_path)], cwd=paths.ROOT, capture_output=True, text=True
    )
    if result.returncode != 0 and "there is no package called" in result.stderr:
        pytest.skip(f"an R package the script needs is missing: {result.stderr.strip().splitlines()[-1]}")
    assert result.returncode == 0, result.stderr
    for name in outputs:
        assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} differs from R's output"
