"""The subgroups of the thesis (2.2.5, Figure 2.2.4), declared once: adding one is one :class:`Subgroup` below.

Each subgroup names its strata (labels, in display order, with its cut-offs filled in), the covariates of
Model 4 it defines (left out within it), the cut-off parameters it reads with their defaults, and how a
patient's stratum is decided. The parameter ``subgroup_cutoffs`` (``helpers.pipeline.params``) takes its keys
and defaults from here, and ``subgroup_adjustment`` its choices (:data:`ADJUSTMENTS`). This module imports
nothing heavy, so that the parameter schema can read it.
"""

from dataclasses import dataclass, field
from typing import Callable

# How Model 4 is adjusted within a stratum: the full model less covariates constant in the stratum (the
# thesis's choice), or also less the subgroup's own covariates.
FULL_MODEL, REDUCED = "model4", "reduced"
ADJUSTMENTS = (FULL_MODEL, REDUCED)


@dataclass(frozen=True)
class Subgroup:
    """One subgroup: ``flag(df, cutoffs)`` gives (first stratum?, known?) for each patient."""

    key: str
    label: str
    levels: tuple  # stratum labels, first stratum first; "{name}" is filled in from the cut-offs
    drop: tuple  # covariates of the model that define the subgroup, left out within it (adjustment "reduced")
    flag: Callable
    cutoffs: dict = field(default_factory=dict)  # the cut-off parameters it reads, with their defaults

    def labelled(self, cutoffs: dict) -> "Subgroup":
        """The subgroup with its stratum labels filled in from ``cutoffs``."""
        levels = tuple(level.format(**{k: f"{v:g}" for k, v in cutoffs.items()}) for level in self.levels)
        return Subgroup(self.key, self.label, levels, self.drop, self.flag, self.cutoffs)


def _below(column: str, cutoff: str) -> Callable:
    return lambda df, c: (df[column] < c[cutoff], df[column].notna())


SUBGROUPS = (
    Subgroup("age", "Age", ("< {age} years", "≥ {age} years"), ("age",), _below("age", "age"), {"age": 60}),
    Subgroup("sex", "Sex", ("Male", "Female"), ("male",), lambda df, c: (df["sex"] == "M", df["sex"].notna())),
    Subgroup("diabetes", "Diabetes", ("Yes", "No"), ("diabetes",),
             lambda df, c: (df["diabetes"] == 1, df["diabetes"].notna())),
    Subgroup("hypertension", "Uncontrolled hypertension", ("Yes", "No"), (),
             lambda df, c: ((df["sbp"] >= c["sbp"]) | (df["dbp"] >= c["dbp"]), df["sbp"].notna() & df["dbp"].notna()),
             {"sbp": 130, "dbp": 80}),
    Subgroup("obesity", "Obesity", ("Yes", "No"), ("bmi",), lambda df, c: (df["bmi"] >= c["bmi"], df["bmi"].notna()),
             {"bmi": 25}),
    Subgroup("egfr", "eGFR", ("< {egfr}", "≥ {egfr}"), ("egfr",), _below("egfr", "egfr"), {"egfr": 45}),
    Subgroup("proteinuria", "Proteinuria", ("< {proteinuria} mg/day", "≥ {proteinuria} mg/day"), (),
             _below("proteinuria", "proteinuria"), {"proteinuria": 500}),
    Subgroup("smoking", "Smoking history", ("Ever", "Never"), (),
             lambda df, c: (df["smoking"].isin(["former", "current"]), df["smoking"].notna())),
)

# Every cut-off parameter with its default (the default of the parameter ``subgroup_cutoffs``).
DEFAULT_CUTOFFS = {name: value for sub in SUBGROUPS for name, value in sub.cutoffs.items()}
