"""The published numbers' one reader: every file of ``data/published`` is read here and nowhere else.

The thesis's tables and counts are transcribed as printed (``table_2_2_1.csv``, ``table_2_2_2.csv``,
``table_2_2_3.csv``, ``flow.csv``, ``incidence.csv``, ``progression.csv``). Beside them,
``synthetic_design.yml`` declares what the synthetic cohort's generator was built to give: which results
it fixes, which it constrains, which effects it plants and what it leaves free. The generator
(``helpers.synthetic``) reads its targets and planted values from these files through this module; the
book's pages read the declaration here too, without importing the generator.
"""

import copy
import re
from functools import lru_cache

import numpy as np
import pandas as pd
import yaml

from helpers import paths

GROUPS = ("low", "mid", "high")
DESIGN_FILE = "synthetic_design.yml"
STATUSES = ("fixed", "constrained", "planted", "free")


def table_2_2_1() -> pd.DataFrame:
    """Table 2.2.1 as printed: one row per table row, the cells as text."""
    return pd.read_csv(paths.PUBLISHED / "table_2_2_1.csv", dtype=str, keep_default_na=False)


def hazards(name: str = "table_2_2_2") -> pd.DataFrame:
    """A published table of hazard ratios by group and model (``table_2_2_2`` or ``table_2_2_3``)."""
    return pd.read_csv(paths.PUBLISHED / f"{name}.csv")


def flow() -> pd.DataFrame:
    """The thesis's flow counts (key, n, source)."""
    return pd.read_csv(paths.PUBLISHED / "flow.csv")


def incidence() -> pd.DataFrame:
    """Composite events, person-years and rates per 1,000 person-years, by group and overall."""
    return pd.read_csv(paths.PUBLISHED / "incidence.csv")


def progression() -> pd.DataFrame:
    """Progression of CAC and of arterial stiffness: progressed and analysed, by group."""
    return pd.read_csv(paths.PUBLISHED / "progression.csv")


def parse_cell(text: str) -> dict:
    """Numbers of a printed cell: 'm [q1;q3]' -> median, q1, q3; 'n (p)' -> n, pct; 'm ± s' -> mean, sd."""
    text = text.strip()
    if m := re.fullmatch(r"([\d.,]+)\s*\[\s*([\d.,]+)\s*;\s*([\d.,]+)\s*\]", text):
        return dict(zip(("median", "q1", "q3"), (float(v.replace(",", "")) for v in m.groups())))
    if m := re.fullmatch(r"([\d,]+)(?:/[\d,]+)?\s*\(\s*([\d.]+)\s*\)", text):
        return {"n": int(m.group(1).replace(",", "")), "pct": float(m.group(2))}
    if m := re.fullmatch(r"([\d.,]+)\s*±\s*([\d.,]+)", text):
        return {"mean": float(m.group(1).replace(",", "")), "sd": float(m.group(2).replace(",", ""))}
    return {}


def parse_p(text: str) -> float:
    """A printed P value as a number; '<0.001' becomes 0.001 (an upper bound)."""
    text = text.strip()
    return float(text.lstrip("<")) if text else np.nan


def quartiles(variable: str) -> tuple:
    """Median, Q1 and Q3 of a continuous row of Table 2.2.1: ((total), (low), (mid), (high)), as printed."""
    row = table_2_2_1().set_index("variable").loc[variable]
    row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
    cells = [parse_cell(row[c]) for c in ("total", *GROUPS)]
    return tuple((c["median"], c["q1"], c["q3"]) for c in cells)


def group_counts(variable: str, level: str) -> tuple:
    """Counts (low, mid, high) of one binary or level row of Table 2.2.1, as printed."""
    t = table_2_2_1()
    row = t[(t["variable"] == variable) & (t["level"] == level)].iloc[0]
    return tuple(parse_cell(row[g])["n"] for g in GROUPS)


def group_sizes() -> dict:
    """Patients analysed in each Mg group (the flow's analysed_low, _mid, _high)."""
    n = flow().set_index("key")["n"]
    return {g: int(n[f"analysed_{g}"]) for g in GROUPS}


def implied_denominators(variable: str, level: str = "1") -> tuple:
    """Patients with a value in each group, implied by a printed count and its percentage: n / pct × 100.

    Where the count is 0 the percentage implies nothing; the smallest denominator of the other
    medication rows of that group is taken (the rows are recorded for the same patients).
    """
    t = table_2_2_1()
    row = t[(t["variable"] == variable) & (t["level"] == level)].iloc[0]
    out = []
    for g in GROUPS:
        cell = parse_cell(row[g])
        if cell["n"]:
            out.append(round(cell["n"] / cell["pct"] * 100))
            continue
        siblings = t[(t["kind"] == "binary") & t["variable"].isin(MEDICATIONS) & (t["variable"] != variable)]
        out.append(min(round(c["n"] / c["pct"] * 100) for c in map(parse_cell, siblings[g]) if c["n"]))
    return tuple(out)


MEDICATIONS = ("vitd_agonist", "phosphate_binder", "diuretic")


def model_hazard(table: str, group: str, model: str = "Model 4") -> pd.Series:
    """One printed hazard ratio (hr, lower, upper, p) of a group and model."""
    t = hazards(table)
    return t[(t["group"] == group) & (t["model"] == model)].iloc[0]


@lru_cache(maxsize=1)
def _design_text() -> str:
    return (paths.PUBLISHED / DESIGN_FILE).read_text(encoding="utf-8")


def design() -> dict:
    """The declaration of the synthetic cohort's design (``data/published/synthetic_design.yml``)."""
    return copy.deepcopy(_parsed_design(_design_text()))


@lru_cache(maxsize=2)
def _parsed_design(text: str) -> dict:
    """The declaration parsed and checked once per text (a page asks for it a dozen times; parsing the YAML
    took ~40 ms each time)."""
    spec = yaml.safe_load(text)
    for r in spec["results"]:
        if r["status"] not in STATUSES:
            raise ValueError(f"{DESIGN_FILE}: result {r['key']!r} has status {r['status']!r}; it must be one of {STATUSES}")
    return spec


def _design_values(spec: dict) -> dict:
    """The values a declared result may name in braces, from the declaration and the published tables."""
    model, events = spec["outcome_model"], incidence().set_index("group")
    prog = progression().set_index(["outcome", "group"])
    sizes = group_sizes()

    def counts(outcome):
        return ", ".join(f"{prog.at[(outcome, g), 'progressed']}/{prog.at[(outcome, g), 'analysed']}" for g in GROUPS)

    return {
        "events": ", ".join(str(int(events.at[g, "events"])) for g in GROUPS),
        "person_years": f"{events.at['overall', 'person_years']:,.0f}",
        "tolerance": f"{spec['selection']['person_years_tolerance']:.0%}",
        "cutpoints": " and ".join(f"{c:g}" for c in model["cutpoints"]),
        "low": f"{model['cutpoints'][0]:g}", "high": f"{model['cutpoints'][1]:g}",
        "hr_low": f"{model_hazard(model['group_hr_from']['table'], 'low', model['group_hr_from']['model'])['hr']:.2f}",
        "hr_high": f"{model_hazard(model['group_hr_from']['table'], 'high', model['group_hr_from']['model'])['hr']:.2f}",
        "kidney_base": f"{model['kidney']['base']:g}", "kidney_egfr": f"{model['kidney']['egfr']:g}",
        "kidney_doubling": f"{model['kidney']['proteinuria_doubling']:g}",
        "cac_counts": counts("cac"), "pwv_counts": counts("pwv"),
        "group_sizes": f"{sum(sizes.values()):,} analysed: " + " / ".join(f"{n:,}" for n in sizes.values()),
    }


def design_results(chapter: str | None = None) -> pd.DataFrame:
    """The declared results (key, result, status, how, chapters), those of one ``chapter`` if given.

    Values named in braces in ``result`` and ``how`` are filled in from the declaration and the published
    tables, so that no number is typed twice.
    """
    spec = design()
    values = _design_values(spec)
    rows = [r | {"result": r["result"].format(**values), "how": r["how"].format(**values)} for r in spec["results"]]
    if chapter is not None:
        rows = [r for r in rows if chapter in r["chapters"]]
    return pd.DataFrame(rows, columns=["key", "result", "status", "how", "chapters"])


def design_status(key: str) -> str:
    """The declared status of one result: fixed, constrained, planted or free."""
    return next(r["status"] for r in design()["results"] if r["key"] == key)


def compare_flow(run_flow: pd.DataFrame) -> pd.DataFrame:
    """This run's flow counts beside the thesis's, by box: label, thesis, this run, difference."""
    pub = flow().set_index("key")
    out = run_flow.set_index("key")[["label", "n"]].rename(columns={"n": "This run"})
    out.insert(1, "Thesis", pub["n"].reindex(out.index).astype("Int64"))
    out["Difference"] = out["This run"] - out["Thesis"]
    out["Thesis source"] = pub["source"].reindex(out.index).fillna("")
    return out.reset_index().rename(columns={"key": "Box", "label": "Label"})
