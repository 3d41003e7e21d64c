"""The golden-value machinery itself: every R script records its versions, and a re-run is judged by the
stated tolerance (a last-digit difference passes, a real one fails naming both version records)."""

import re
import stat

import pandas as pd
import pytest

import golden_values
from golden_values import GOLDEN


def test_every_r_script_records_r_and_the_versions_of_the_packages_it_loads():
    scripts = sorted(GOLDEN.glob("*.R"))
    assert scripts
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert f'"{script.stem}.version"' in text, f"{script.name} writes no {script.stem}.version"
        record = golden_values.version_record(script.name)
        assert re.match(r"R version \d+\.\d+\.\d+", record), script.name
        for package in re.findall(r"library\((\w+)\)", text):
            assert re.search(rf"; {package} [\d.-]+", record), (script.name, package, record)


def test_every_golden_csv_comes_from_a_script():
    written = " ".join(p.read_text(encoding="utf-8") for p in GOLDEN.glob("*.R"))
    for table in GOLDEN.glob("*.csv"):
        assert f'"{table.name}"' in written, table.name


def _table(values):
    return pd.DataFrame({"name": ["a", "b", "c"], "value": [f"{v:.17g}" for v in values]})


def test_numbers_are_judged_by_the_tolerance_and_text_exactly():
    gold = _table([1.0, 2.0, 1e-300])
    assert golden_values.disagreements(_table([1.0 + 1e-12, 2.0, 0.0]), gold, rtol=1e-9, atol=1e-15) == []
    found = golden_values.disagreements(_table([1.0, 2.001, 1e-300]), gold, rtol=1e-6, atol=0)
    assert len(found) == 1 and "column value: 1 value(s) beyond rtol=1e-06" in found[0]
    renamed = gold.assign(name=["a", "x", "c"])
    assert golden_values.disagreements(renamed, gold, rtol=1, atol=1) == ["column name: 1 text cell(s) differ, first at row 2"]
    nan = pd.DataFrame({"value": ["NA", "1"]})
    assert golden_values.disagreements(nan, nan.copy(), rtol=0, atol=0) == []


@pytest.fixture
def fake_r(tmp_path, monkeypatch):
    """An ``Rscript`` on the PATH that writes vsmc.csv scaled by a factor and a version record of its own."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()

    def install(factor, version):
        script = bin_ / "Rscript"
        script.write_text(
            "#!/bin/sh\n"
            f"cp '{GOLDEN}/vsmc_data.csv' \"$2/vsmc_data.csv\"\n"
            f"awk -F, 'BEGIN{{OFS=\",\"}} NR == 1 {{print; next}} {{$3 = sprintf(\"%.17g\", $3 * {factor}); print}}' "
            f"'{GOLDEN}/vsmc.csv' > \"$2/vsmc.csv\"\n"
            f"echo '{version}' > \"$2/vsmc.version\"\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("PATH", f"{bin_}:{__import__('os').environ['PATH']}")

    return install


def test_a_rerun_within_tolerance_on_another_r_passes_with_a_warning(fake_r, tmp_path):
    fake_r(1 + 1e-12, "R version 9.9.9 ; metafor 9.9")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.warns(UserWarning, match="re-made within the tests' tolerance by R version 9.9.9"):
        golden_values.rerun("vsmc.R", out, "vsmc.csv", "vsmc_data.csv", rtol=1e-8)


def test_a_rerun_beyond_tolerance_fails_naming_both_versions(fake_r, tmp_path):
    fake_r(1.001, "R version 9.9.9 ; metafor 9.9")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(pytest.fail.Exception) as failure:
        golden_values.rerun("vsmc.R", out, "vsmc.csv", "vsmc_data.csv", rtol=1e-8)
    message = str(failure.value)
    assert golden_values.version_record("vsmc.R") in message and "This R: R version 9.9.9 ; metafor 9.9" in message
    assert "vsmc.csv: column value" in message


def test_ci_installs_and_records_every_r_package_the_scripts_load():
    ci = (golden_values.paths.ROOT / ".ci" / "run").read_text(encoding="utf-8")
    loaded = {p for s in GOLDEN.glob("*.R") for p in re.findall(r"library\((\w+)\)", s.read_text(encoding="utf-8"))}
    for package in loaded:
        assert f"r-cran-{package.lower()}" in ci, f".ci/run does not install {package}"
        assert f'"{package}"' in ci, f".ci/run does not record the version of {package}"
