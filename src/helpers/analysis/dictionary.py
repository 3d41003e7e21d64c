"""The data dictionary, ``data/dictionary.csv``: every column's meaning, unit, type, range and status.

Both the validation and the book's data page read it, so the contract is written down once.
"""

from functools import lru_cache

import pandas as pd

from helpers import paths


def load(dataset: str = "cohort") -> pd.DataFrame:
    """The dictionary of one data set ('cohort' or 'vsmc') as a DataFrame indexed by column name."""
    return _read(paths.DICTIONARY, dataset).copy()


@lru_cache(maxsize=4)
def _read(path, dataset: str) -> pd.DataFrame:
    """Read once per process (a page consults the dictionary a few dozen times)."""
    dd = pd.read_csv(path, dtype=str, keep_default_na=False)
    dd = dd[dd["dataset"] == dataset].drop(columns="dataset").set_index("column")
    for col in ("min", "max"):
        dd[col] = pd.to_numeric(dd[col].replace("", None))
    dd["allowed"] = dd["allowed"].map(lambda s: s.split("|") if s else None)
    dd["required"] = dd["required"] == "yes"
    dd["nullable"] = dd["nullable"] == "yes"
    return dd


def inputs(dataset: str = "cohort") -> pd.DataFrame:
    """The rows of the dictionary that describe input columns."""
    dd = load(dataset)
    return dd[dd["role"] == "input"]


def for_readers(role: str, dataset: str = "cohort") -> pd.DataFrame:
    """The dictionary laid out for the book's data page: one row per column of the given role."""
    dd = load(dataset)
    dd = dd[dd["role"] == role].reset_index()

    def allowed_range(row):
        if row["allowed"]:
            return ", ".join(row["allowed"])
        if pd.notna(row["min"]):
            return f"{row['min']:g} to {row['max']:g}"
        return ""

    table = pd.DataFrame(
        {
            "Column": dd["column"],
            # 'Sex: Sex' says it twice: a description that only repeats the label is left out.
            "Meaning": [lab if str(desc).strip().lower() in ("", "nan", str(lab).lower()) else f"{lab}: {desc}"
                        for lab, desc in zip(dd["label"], dd["description"])],
            "Unit": dd["unit"],
            "Type": dd["type"],
        }
    )
    if role == "input":
        table["Allowed"] = dd.apply(allowed_range, axis=1)
        table["Column required"] = dd["required"].map({True: "yes", False: "no"})
        table["May be empty"] = dd["nullable"].map({True: "yes", False: "no"})
    return table


def template(rows: int = 3) -> pd.DataFrame:
    """A template cohort file: every input column of the dictionary, with a few synthetic example rows.

    ``creatinine`` is left out: it is an alternative to ``egfr`` (see the data dictionary).
    """
    columns = [c for c in inputs().index if c != "creatinine"]
    example = pd.read_csv(paths.DATA / "cohort.csv", dtype=str, keep_default_na=False)
    analysed = example[(example["mg"] != "") & (example["followup_years"] != "")]
    return analysed[columns].head(rows)
