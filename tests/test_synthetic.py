"""The synthetic cohort is deterministic and is what the committed data file holds."""

from helpers import paths
from helpers.synthetic import cohort as synthetic


def test_regenerating_gives_the_committed_file_byte_for_byte(tmp_path):
    out = tmp_path / "cohort.csv"
    synthetic.write(out)
    assert out.read_bytes() == (paths.DATA / "cohort.csv").read_bytes()


def test_mg_is_recorded_to_a_tenth():
    df = synthetic.generate()
    mg = df["mg"].dropna()
    assert ((mg * 10).round(9) % 1 == 0).all()


def test_group_quartiles_of_mg_match_table_2_2_1():
    """The generated cohort's Mg median [Q1; Q3] in each group, against the transcribed Table 2.2.1."""
    import re

    import pandas as pd

    from helpers.analysis import cohort

    analysed = cohort.analysis_cohort(synthetic.generate(), [1.8, 2.2], 2.6)
    published = pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str).set_index("row").loc["mg"]
    groups = analysed.groupby("mg_group", observed=True)["mg"]
    assert len(groups) == 3
    for column, (_, mg) in zip(("low", "mid", "high"), groups):
        median, q1, q3 = map(float, re.fullmatch(r"([\d.]+) \[([\d.]+);([\d.]+)\]", published[column]).groups())
        assert mg.quantile([0.25, 0.5, 0.75]).round(2).tolist() == [q1, median, q3], column


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
