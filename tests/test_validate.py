"""Bad input gets one clear message naming the file, the column and the offending rows; never a traceback."""

import hashlib
import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers import paths
from helpers.pipeline import validate
from helpers.errors import InputError


def _run_cli(params_file):
    return subprocess.run(
        [sys.executable, "-m", "helpers.pipeline.validate", "--params", str(params_file)], capture_output=True, text=True
    )


def test_default_cohort_is_valid(default_params):
    df = validate.load_cohort(default_params["cohort_csv"])
    assert len(df) == 2238
    assert df["mg"].dtype == float


def test_missing_required_column(cohort_text, write_csv):
    path = write_csv(cohort_text.drop(columns=["egfr"]))
    with pytest.raises(InputError) as err:
        validate.load_cohort(path)
    assert str(err.value) == f"{path}: required column(s) 'egfr' missing."


def test_non_numeric_value_names_column_line_and_patient(cohort_text, write_csv):
    cohort_text.loc[4, "albumin"] = "4,1"
    cohort_text.loc[9, "albumin"] = "high"
    path = write_csv(cohort_text)
    with pytest.raises(InputError) as err:
        validate.load_cohort(path)
    message = str(err.value)
    assert message.startswith(f"{path}: column 'albumin' has values that are not numbers ('4,1', 'high')")
    assert "line 6 (patient_id SYN00005)" in message and "line 11 (patient_id SYN00010)" in message


def test_out_of_range_value_is_quoted_as_written(cohort_text, write_csv):
    cohort_text.loc[0, "sbp"] = "1200"
    path = write_csv(cohort_text)
    with pytest.raises(InputError, match=r"column 'sbp' has values outside the allowed range 50 to 260 mmHg \('1200'\) at line 2 \(patient_id SYN00001\)"):
        validate.load_cohort(path)


def test_at_most_five_rows_are_listed(cohort_text, write_csv):
    cohort_text.loc[0:7, "sex"] = "X"
    path = write_csv(cohort_text)
    with pytest.raises(InputError) as err:
        validate.load_cohort(path)
    message = str(err.value)
    assert "column 'sex' has values other than M, F ('X')" in message
    assert message.count("line ") == 5 and message.endswith("and 3 more.")


def test_status_outside_0_1_2(cohort_text, write_csv):
    cohort_text.loc[2, "status"] = "3"
    path = write_csv(cohort_text)
    with pytest.raises(InputError, match=r"column 'status' has values other than 0, 1, 2 \('3'\) at line 4"):
        validate.load_cohort(path)


def test_duplicate_patient_id(cohort_text, write_csv):
    cohort_text.loc[5, "patient_id"] = cohort_text.loc[4, "patient_id"]
    path = write_csv(cohort_text)
    with pytest.raises(InputError, match=r"column 'patient_id' has duplicate values \('SYN00005'\) at line 6 \(patient_id SYN00005\), line 7"):
        validate.load_cohort(path)


def test_negative_follow_up(cohort_text, write_csv):
    cohort_text.loc[3, "followup_years"] = "-1.5"
    path = write_csv(cohort_text)
    with pytest.raises(InputError, match=r"column 'followup_years' has values outside the allowed range 0 to 30 years \('-1.5'\) at line 5"):
        validate.load_cohort(path)


def test_event_without_follow_up(cohort_text, write_csv):
    row = cohort_text.index[cohort_text["status"] == "1"][0]
    cohort_text.loc[row, "followup_years"] = ""
    path = write_csv(cohort_text)
    with pytest.raises(InputError, match=rf"'followup_years' is empty for patients with an event .* at line {row + 2}"):
        validate.load_cohort(path)


def test_an_event_on_the_day_of_enrolment_is_valid_and_analysed(cohort_text, write_csv):
    """Follow-up 0 with an event is a record R keeps (coxph, cuminc, crr): it loads and is analysed."""
    from helpers.analysis import cohort

    row = cohort_text.index[(cohort_text["status"] == "1") & (pd.to_numeric(cohort_text["mg"], errors="coerce") < 2.6)][0]
    cohort_text.loc[row, "followup_years"] = "0"
    loaded = validate.load_cohort(write_csv(cohort_text))
    analysed = cohort.analysis_cohort(loaded, [1.8, 2.2], 2.6)
    assert analysed.loc[row, "followup_years"] == 0 and analysed.loc[row, "status"] == 1


def test_mg_range_is_checked_in_its_unit(cohort_text, write_csv):
    path = write_csv(cohort_text)
    # mg/dL values read as mmol/L are 2.431 times too high: 2.1 mmol/L is 5.1 mg/dL, above the range.
    with pytest.raises(InputError, match=r"column 'mg' has values outside the allowed range 0.4 to 5 mg/dL"):
        validate.load_cohort(path, mg_unit="mmol/L")


def test_mg_in_mmol_per_litre_is_converted(cohort_text, write_csv):
    mg = cohort_text["mg"].replace("", None).astype(float)
    cohort_text["mg"] = (mg / 2.431).map(lambda v: "" if v != v else f"{v:.6f}")
    df = validate.load_cohort(write_csv(cohort_text), mg_unit="mmol/L")
    assert df["mg"].sub(mg).abs().max() < 1e-5


@pytest.mark.parametrize(
    "content, fragment",
    [
        ("", "the file is empty"),
        ("patient_id,mg\n", "the file has a header but no rows"),
        ("patient_id;mg;status\nA;2.0;0\n", "separated by semicolons; the file must be comma-separated"),
        ("patient_id\tmg\tstatus\nA\t2.0\t0\n", "separated by tabs"),
        ("patient_id,mg\nJos\xe9,2.0\n".encode("latin-1"), "not UTF-8 text (first bad byte on line 2)"),
    ],
)
def test_unreadable_files(write_csv, content, fragment):
    path = write_csv(content)
    with pytest.raises(InputError, match=re.escape(fragment)):
        validate.load_cohort(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        validate.load_cohort(tmp_path / "nope.csv")


def test_command_line_prints_one_message_and_exits_2(cohort_text, write_csv, tmp_path):
    cohort_text.loc[1, "age"] = "abc"
    data = write_csv(cohort_text)
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    params_file = tmp_path / "p.yml"
    params_file.write_text(f"cohort_csv: {data}\n")
    result = _run_cli(params_file)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {data}: column 'age' has values that are not numbers ('abc') at line 3 (patient_id SYN00002)."
    ]
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before, "the input file was modified"


def test_command_line_accepts_the_default_data():
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.validate"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "data/cohort.csv: 2,238 rows" in result.stdout


def test_vsmc_file_is_validated(write_csv):
    good = pd.read_csv(paths.DATA / "vsmc.csv", dtype=str, keep_default_na=False)
    bad = good.copy()
    bad.loc[3, "treatment"] = "magnesium"
    path = write_csv(bad, "vsmc.csv")
    with pytest.raises(InputError, match=r"column 'treatment' has values other than control, phosphate, .* \('magnesium'\) at line 5"):
        validate.load_vsmc(path)
    dup = pd.concat([good, good.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputError, match="appear twice"):
        validate.load_vsmc(write_csv(dup, "vsmc2.csv"))


def test_egfr_is_computed_from_creatinine_when_absent(cohort_text, write_csv):
    from helpers.analysis import derive

    with_creatinine = cohort_text.drop(columns=["egfr"]).assign(creatinine="1.3")
    df = validate.load_cohort(write_csv(with_creatinine))
    expected = derive.ckd_epi_2009([1.3] * len(df), df["age"], df["sex"])
    assert df["egfr"].to_numpy() == pytest.approx(expected)


def test_column_order_and_extra_columns_do_not_matter(cohort_text, write_csv):
    shuffled = cohort_text[list(reversed(cohort_text.columns))].assign(site="A", notes="anything")
    a = validate.load_cohort(write_csv(shuffled))
    b = validate.load_cohort(paths.DATA / "cohort.csv")
    pd.testing.assert_frame_equal(a[b.columns], b)


def _bad_files(cohort_text):
    t = cohort_text
    yield "missing required column", t.drop(columns=["age"]), "required column(s) 'age' missing"
    yield "non-numeric value", t.assign(bmi=t["bmi"].where(t.index != 2, "obese")), "column 'bmi' has values that are not numbers"
    yield "negative follow-up", t.assign(followup_years=t["followup_years"].where(t.index != 2, "-2")), "column 'followup_years' has values outside"
    missing_fu = t.copy()
    row = missing_fu.index[missing_fu["status"] == "2"][0]
    missing_fu.loc[row, "followup_years"] = ""
    yield "missing follow-up with an event", missing_fu, "'followup_years' is empty for patients with an event"
    yield "status outside 0/1/2", t.assign(status=t["status"].where(t.index != 2, "5")), "column 'status' has values other than 0, 1, 2"
    dup = t.copy()
    dup.loc[3, "patient_id"] = dup.loc[2, "patient_id"]
    yield "duplicate patient_id", dup, "column 'patient_id' has duplicate values"
    yield "Mg outside the range of its unit", t.assign(mg=t["mg"].where(t.index != 2, "9.9")), "column 'mg' has values outside the allowed range 0.4 to 5 mg/dL"


def _build_command(params_file, out, capsys):
    """``mg-book --params FILE --out OUT`` in this process (an exception escaping it fails the test, as a
    traceback would): bad input stops it before any notebook runs. tests/test_book.py runs it as a
    separate process once."""
    from helpers.pipeline import build

    code = build.main(["--params", str(params_file), "--out", str(out)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case", range(7))
def test_every_class_of_bad_input_through_the_build_command(cohort_text, tmp_path, case, capsys):
    name, frame, fragment = list(_bad_files(cohort_text))[case]
    data = tmp_path / "cohort.csv"
    frame.to_csv(data, index=False)
    before = data.read_bytes()
    params_file = tmp_path / "p.yml"
    params_file.write_text(f"cohort_csv: {data}\n")
    code, stderr = _build_command(params_file, tmp_path / "out", capsys)
    assert code == 2, name
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and str(data) in lines[0], (name, stderr)
    assert data.read_bytes() == before
    assert not (tmp_path / "out" / "html").exists()


@pytest.mark.parametrize("content, fragment", [
    (b"", "the file is empty"),
    (b"patient_id;mg;status\nA;2.0;0\n", "separated by semicolons"),
    ("patient_id,mg\nJos\xe9,2.0\n".encode("latin-1"), "not UTF-8 text"),
])
def test_unreadable_files_through_the_build_command(tmp_path, content, fragment, capsys):
    data = tmp_path / "cohort.csv"
    data.write_bytes(content)
    params_file = tmp_path / "p.yml"
    params_file.write_text(f"cohort_csv: {data}\n")
    code, stderr = _build_command(params_file, tmp_path / "out", capsys)
    assert code == 2 and fragment in stderr


def test_the_template_is_current_and_valid():
    from helpers.analysis import dictionary

    committed = pd.read_csv(paths.DATA / "template_cohort.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(committed.reset_index(drop=True), dictionary.template().reset_index(drop=True))
    assert len(validate.load_cohort(paths.DATA / "template_cohort.csv")) == 3


OTHER_UNITS = [("phosphate", 3.097, "mmol/L"), ("proteinuria", 1000.0, "g/day"), ("albumin", 0.1, "g/L"),
               ("calcium", 4.008, "mmol/L"), ("hscrp", 10.0, "mg/dL"), ("ipth", 9.43, "pmol/L"),
               ("vitd25", 1 / 2.496, "nmol/L")]  # factors from the molar masses (PTH 9,425 g/mol; 25-OH D 400.6)


@pytest.mark.parametrize("column, factor, other", OTHER_UNITS)
def test_a_laboratory_column_in_another_countrys_unit_stops_with_one_message(column, factor, other):
    from helpers.pipeline.validate import read_csv

    text = read_csv(paths.DATA / "cohort.csv")
    values = pd.to_numeric(text[column], errors="coerce") / factor  # the same patients, in the other unit
    text[column] = [f"{v:.4g}" if pd.notna(v) else "" for v in values]
    with pytest.raises(InputError) as stop:
        validate.validate_cohort(text, where="mine.csv")
    message = str(stop.value)
    # Phosphate in mmol/L and proteinuria in g/day lie inside the per-value ranges: the median check
    # stops them; albumin in g/L and calcium in mmol/L already fall outside the ranges.
    assert message.startswith(f"mine.csv: column '{column}' has ") and "\n" not in message
    if column not in ("albumin", "calcium"):
        assert "median" in message and f"lab_units: {{{column}: {other}}}" in message


@pytest.mark.parametrize("column, factor, other", OTHER_UNITS)
def test_a_laboratory_column_in_another_unit_declared_by_lab_units_is_converted(column, factor, other, tmp_path):
    from helpers.pipeline import params as params_mod
    from helpers.pipeline.validate import read_csv

    text = read_csv(paths.DATA / "cohort.csv")
    original = pd.to_numeric(text[column], errors="coerce")
    text[column] = [f"{v:.6g}" if pd.notna(v) else "" for v in original / factor]
    text.to_csv(tmp_path / "mine.csv", index=False)
    (tmp_path / "params.yml").write_text(f"cohort_csv: {tmp_path / 'mine.csv'}\nlab_units: {{{column}: {other}}}\n")
    settings = params_mod.load(tmp_path / "params.yml")
    cohort, _ = validate.cohorts(settings)  # what the build reads before any notebook
    pd.testing.assert_series_equal(cohort[column], original, check_names=False, rtol=1e-5)


def test_the_shipped_cohorts_laboratory_units_pass():
    from helpers.pipeline.validate import read_csv

    validate.validate_cohort(read_csv(paths.DATA / "cohort.csv"))


def _shifted(message: str, offset: int) -> str:
    return re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + offset}", message)


@pytest.mark.parametrize("case", range(1, 7))
def test_a_bad_row_near_the_end_of_a_large_file_gets_the_message_of_a_small_file(cohort_text, tmp_path, case):
    """Invariance: 47,762 valid patients put before the same rows move the offending lines by 47,762 and
    change nothing else in the message (the large file is checked with the numbers converted at once)."""
    name, small, _ = list(_bad_files(cohort_text))[case]
    filler = pd.concat([cohort_text] * 22, ignore_index=True).iloc[: 50_000 - len(small)]
    filler = filler.assign(patient_id=[f"BIG{i:06d}" for i in range(len(filler))])
    messages = []
    for frame in (small, pd.concat([filler, small], ignore_index=True)):
        frame.to_csv(tmp_path / "cohort.csv", index=False)
        with pytest.raises(InputError) as err:
            validate.load_cohort(tmp_path / "cohort.csv")
        messages.append(str(err.value))
    assert messages[1] == _shifted(messages[0], len(filler)), name
    assert re.search(r"line 477\d\d\b", messages[1]), name  # the rows near the end of the large file


def test_numbers_are_the_floats_of_the_cells_as_written(cohort_text, write_csv):
    """The numeric columns, converted together, hold Python's float() of each cell, whatever its spelling."""
    cohort_text.loc[0, "sbp"], cohort_text.loc[1, "albumin"], cohort_text.loc[2, "mg"] = " 131 ", "+4.10", "21e-1"
    cohort_text.loc[3, "age"] = "61.000000000000004"  # 17 significant digits: rounding must be exact
    loaded = validate.load_cohort(write_csv(cohort_text))
    for column in ("sbp", "albumin", "mg", "age", "egfr", "followup_years", "status"):
        expected = [float(v) if v != "" else None for v in cohort_text[column]]
        got = loaded[column].tolist()
        assert all((g != g and e is None) or g == e for g, e in zip(got, expected)), column
