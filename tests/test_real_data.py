"""A build on 'real' data: no individual-level record reaches _build, small counts are suppressed, and
optional data that are absent (CAC, baPWV, medications, cell culture) leave their sections saying so."""

import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers import paths
from helpers.pipeline import runs

pytestmark = pytest.mark.book

# Values no aggregate would produce: if any appears anywhere in _build, a record has leaked.
CANARIES = {
    "patient_id": "CANARY7Q",
    "hba1c": "13.987",
    "proteinuria": "23456.78",
    "bmi": "44.321",
    "ipth": "876.54",
    "followup_years": "9.8761",
}
OPTIONAL = ["cac_baseline", "cac_year4", "revasc_by_year4", "pwv_baseline", "pwv_year4",
            "diuretic", "vitd_agonist", "phosphate_binder", "lipid_lowering"]


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real")
    cohort = pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)
    # Plant the canaries on analysed patients with a composite event, whose times appear in curves.
    rows = cohort.index[(cohort["status"] == "1") & (cohort["mg"].isin(["2.0", "2.1"]))][:3]
    for column, value in CANARIES.items():
        cohort.loc[rows, column] = value
    cohort.loc[rows, "patient_id"] = [f"{CANARIES['patient_id']}{i}" for i in range(len(rows))]
    cohort = cohort.drop(columns=OPTIONAL)
    data = tmp / "cohort.csv"
    cohort.to_csv(data, index=False)
    params = tmp / "real.yml"
    params.write_text(f"cohort_csv: {data}\nvsmc_csv: null\ndata_kind: real\n")
    out = tmp / "out"
    # Every page that reads the cohort; the validation appendix reads only tests/golden and its own
    # simulation (checked below), so it is left out (--only), which also shows a partial build is whole.
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--params", str(params), "--out", str(out),
                             "--only", *READS_THE_COHORT], capture_output=True, text=True, cwd=paths.ROOT)
    assert result.returncode == 0, result.stderr
    return out


READS_THE_COHORT = ("notebooks/", "book/data", "book/sweep", "book/colophon")


def test_only_the_pages_that_never_read_the_cohort_are_left_out(real_build):
    left_out = [d for d in runs.toc_documents() if runs.is_notebook(paths.ROOT / f"{d}.md")
                and not any(word in d for word in READS_THE_COHORT)]
    assert left_out == ["book/validation"]
    source = (paths.ROOT / "book" / "validation.md").read_text(encoding="utf-8")
    assert not re.search(r"cohort_csv|cohorts\(|load_cohort|analysis_cohort", source)
    stub = (real_build / "html" / "book" / "validation.html").read_text(encoding="utf-8")
    assert "not executed in this build" in stub


def test_no_canary_reaches_the_build(real_build):
    leaks = []
    for path in real_build.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".ipynb", ".txt", ".js", ".json"):
            text = path.read_text(encoding="utf-8", errors="ignore")
            leaks += [(path.relative_to(real_build), c) for c in CANARIES.values() if c in text]
    assert not leaks, leaks


def test_small_counts_are_suppressed(real_build):
    flow = pd.read_csv(real_build / "tables" / "flow_primary.csv", dtype=str)
    assert flow.set_index("Box").at["no_followup", "This run"] == "≤7"
    subgroups = pd.read_csv(real_build / "tables" / "subgroups.csv", dtype=str)
    counts = subgroups[["n_low", "events_low", "n_mid", "events_mid", "n_high", "events_high"]].stack()
    assert not counts.isin([str(i) for i in range(1, 8)]).any()
    assert (counts == "≤7").any()


def test_absent_optional_data_leave_their_sections_saying_so(real_build):
    progression = (real_build / "html" / "notebooks" / "05_progression.html").read_text(encoding="utf-8")
    assert "no patient with a CAC score" in progression and "no patient with baPWV" in progression
    vsmc = (real_build / "html" / "notebooks" / "07_vsmc.html").read_text(encoding="utf-8")
    assert "No cell-culture data were given" in vsmc
    baseline = pd.read_csv(real_build / "tables" / "baseline.csv")
    assert (baseline.loc[baseline["Variable"].str.contains("Diuretics"), "Test"] == "not in the data").all()
    hazards = (real_build / "html" / "notebooks" / "03_hazards.html").read_text(encoding="utf-8")
    assert "Table 2.2.2, reproduced" in hazards and "Synthetic data" not in hazards
