"""Reading golden values made by the R scripts in tests/golden, and re-making them where R is installed.

Each R script writes its results and, in ``<script>.version``, the R and package versions that made them.
:func:`rerun` runs a script again and judges its output against the committed files by the test's own
stated tolerance (as R's ``testthat::expect_equal(tolerance =)`` or numpy's ``assert_allclose``), never by
bytes: another R build may differ in the last digits. When the values disagree beyond the tolerance, the
failure names the versions that made the committed file and those of the R that re-ran it; when they agree
but the versions differ, a warning says so.
"""

import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
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


def version_record(script: str, folder: Path = GOLDEN) -> str:
    """The R and package versions a script recorded beside its output, or '' when there is none."""
    path = folder / f"{Path(script).stem}.version"
    return " ".join(path.read_text(encoding="utf-8").split()) if path.is_file() else ""


def _numbers(column: pd.Series) -> np.ndarray | None:
    """A column as floats when every filled cell is a number (R's NA and Inf included), else None."""
    numbers = pd.to_numeric(column.replace({"NA": np.nan, "Inf": np.inf, "-Inf": -np.inf}), errors="coerce")
    return None if (numbers.isna() & column.ne("") & column.ne("NA")).any() else numbers.to_numpy(float)


def disagreements(ours: pd.DataFrame, theirs: pd.DataFrame, rtol: float, atol: float) -> list[str]:
    """Where two tables read as text differ: columns, shape, text cells exactly, numbers beyond
    ``|a - b| <= atol + rtol * |b|`` (``numpy.isclose``, NaN equal to NaN)."""
    if list(ours.columns) != list(theirs.columns) or ours.shape != theirs.shape:
        return [f"columns or shape differ: {list(ours.columns)} {ours.shape} against {list(theirs.columns)} {theirs.shape}"]
    found = []
    for column in ours.columns:
        a, b = _numbers(ours[column]), _numbers(theirs[column])
        if a is None or b is None:
            rows = np.flatnonzero(ours[column].to_numpy() != theirs[column].to_numpy())
        else:
            rows = np.flatnonzero(~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
            if len(rows):
                largest = np.nanmax(np.abs(a[rows] - b[rows]))
                found.append(f"column {column}: {len(rows)} value(s) beyond rtol={rtol:g}, atol={atol:g} "
                             f"(largest difference {largest:.3g}, first at row {rows[0] + 1})")
                continue
        if len(rows):
            found.append(f"column {column}: {len(rows)} text cell(s) differ, first at row {rows[0] + 1}")
    return found


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def rerun(script: str, tmp_path: Path, *outputs: str, rtol: float, atol: float = 0.0) -> None:
    """Run an R script of tests/golden into ``tmp_path`` and check it makes the committed outputs again,
    within the stated tolerance; a disagreement names both version records."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed; .ci/run installs it")
    committed = version_record(script)
    assert committed, f"tests/golden/{Path(script).stem}.version is missing: the script must record R's versions"
    result = subprocess.run(
        ["Rscript", str(GOLDEN / script), str(tmp_path)], cwd=paths.ROOT, capture_output=True, text=True
    )
    if result.returncode != 0 and "there is no package called" in result.stderr:
        pytest.skip(f"{script}: an R package is missing ({result.stderr.strip().splitlines()[-1]}); "
                    f"the golden values were made by {committed}")
    assert result.returncode == 0, result.stderr
    here = version_record(script, tmp_path)
    assert here, f"{script} wrote no {Path(script).stem}.version"
    found = {name: disagreements(_read(tmp_path / name), _read(GOLDEN / name), rtol, atol) for name in outputs}
    found = {name: problems for name, problems in found.items() if problems}
    if found:
        detail = "; ".join(f"{name}: {', '.join(problems)}" for name, problems in found.items())
        pytest.fail(f"R's output differs from the golden values. Committed: {committed}. This R: {here}. {detail}",
                    pytrace=False)
    if here != committed:
        warnings.warn(f"{script}: golden values made by {committed}; re-made within the tests' tolerance by {here}")
