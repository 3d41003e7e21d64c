"""The synthetic cohort is deterministic and is what the committed data file holds."""

import numpy as np
import pytest

from helpers import paths
from helpers.analysis import derive
from helpers.report import published
from helpers.synthetic import cohort as synthetic


def test_regenerating_gives_the_committed_file_byte_for_byte(tmp_path):
    out = tmp_path / "cohort.csv"
    synthetic.write(out)
    assert out.read_bytes() == (paths.DATA / "cohort.csv").read_bytes()


@pytest.fixture(scope="module")
def generated():
    return synthetic.generate()


def test_mg_is_recorded_to_a_tenth(generated):
    mg = generated["mg"].dropna()
    assert len(mg) == 2238 - 251
    assert ((mg * 10).round(9) % 1 == 0).all()


def test_group_quartiles_of_mg_match_table_2_2_1(generated):
    """The generated Mg values, grouped at the cut-points, have the printed median and quartiles."""
    analysed = generated[generated["mg"] < 2.6].dropna(subset=["followup_years"])
    groups = derive.mg_group(analysed["mg"], (1.8, 2.2))
    want = published.quartiles("mg")[1:]
    for label, (median, q1, q3) in zip(derive.mg_group_labels((1.8, 2.2)), want):
        values = analysed.loc[groups == label, "mg"]
        assert np.quantile(values, [0.25, 0.5, 0.75]).round(2).tolist() == [q1, median, q3]


def test_generated_events_and_counts_are_the_published_ones(generated):
    """What the design file declares fixed is fixed in the generated frame itself."""
    analysed = generated[generated["mg"] < 2.6].dropna(subset=["followup_years"])
    groups = derive.mg_group(analysed["mg"], (1.8, 2.2))
    labels = dict(zip(published.GROUPS, derive.mg_group_labels((1.8, 2.2))))
    events = published.incidence().set_index("group")["events"]
    sizes = published.group_sizes()
    for key, label in labels.items():
        part = analysed[groups == label]
        assert len(part) == sizes[key]
        assert int((part["status"] == 1).sum()) == events[key]
        assert (part["sex"] == "M").sum() == published.group_counts("sex", "M")[published.GROUPS.index(key)]
    years = analysed["followup_years"].sum()
    assert abs(years / published.incidence().set_index("group").at["overall", "person_years"] - 1) <= 0.02
    assert generated.attrs["outcome_attempt"] == 0


def test_the_generator_reads_its_planted_values_from_the_design_file():
    design = published.design()
    assert synthetic.CUTPOINTS == tuple(design["outcome_model"]["cutpoints"])
    assert synthetic.HR_GROUP["low"] == published.model_hazard("table_2_2_2", "low")["hr"]
    assert synthetic.BASE_COMPOSITE == design["outcome_model"]["base_composite"]
    assert {k for k in synthetic.HR_COVARIATE} == set(design["outcome_model"]["covariate_hr"])


def test_the_generator_does_not_type_the_thesis_tables():
    """The printed medians and counts live in data/published only: no 4-tuple of quartiles in the source."""
    source = (paths.ROOT / "src/helpers/synthetic/cohort.py").read_text(encoding="utf-8")
    assert "(54.0, 45.0, 63.0)" not in source and "540.1" not in source
    assert "(27, 580, 402)" not in source and "7368" not in source


def test_vsmc_replicates_are_deterministic_and_match_the_thesis_marks(tmp_path):
    from helpers.synthetic import vsmc as synthetic_vsmc
    from helpers.pipeline import validate
    from helpers.analysis import vsmc

    out = tmp_path / "vsmc.csv"
    frame = synthetic_vsmc.write(out)
    assert out.read_bytes() == (paths.DATA / "vsmc.csv").read_bytes()
    tests = vsmc.comparisons(vsmc.ratios(validate.load_vsmc(out)), full=False)
    for experiment, spec in synthetic_vsmc.DESIGN.items():
        assert set(frame.loc[frame["experiment"] == experiment].groupby("treatment")["replicate"].nunique()) <= set(range(3, 7))
        for (outcome, day), required in spec["marks"].items():
            part = tests[(tests["outcome"] == outcome) & (tests["day"] == day) & (tests["experiment"] == experiment)]
            part = part.set_index(["arm", "against"])
            for pair, allowed in required.items():
                assert part.at[pair, "mark"] in allowed, (experiment, outcome, day, pair)
