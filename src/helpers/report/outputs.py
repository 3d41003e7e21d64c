"""What a chapter shows besides statistics: the data banner and tables written out as CSV."""

from pathlib import Path

import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from helpers import paths
from helpers.analysis import cohort
from helpers.report import declarations, disclosure, formatting, layout

SYNTHETIC_NOTE = (
    "The numbers on this page come from the **synthetic cohort** that this repository generates "
    "(`helpers.synthetic.cohort`), calibrated to aggregates the thesis published. They illustrate the methods; "
    "they are **not the thesis's findings** and say nothing about whether those findings are true."
)


def banner(params: dict) -> Markdown:
    """A note that opens each chapter: which data the page was computed from, and whether they are synthetic."""
    source = f"Data: `{paths.shown(params['cohort_csv'])}`."
    if params["cohort_kind"] == "synthetic":
        text = f"```{{admonition}} Synthetic data\n:class: warning\n{SYNTHETIC_NOTE} {source}\n```"
    else:
        text = f"```{{admonition}} Data\n:class: note\n{source} Only aggregates of these data are shown.\n```"
    return Markdown(text)


def redone(params: dict) -> str:
    """How a caption names a thesis table or figure computed again here: on the synthetic cohort, or on this run's data."""
    return "re-done on the synthetic cohort" if params.get("cohort_kind") == "synthetic" else "re-done on this run's data"


DESIGN_TITLE = "What the synthetic cohort fixes, what it constrains, and what is left free"
STATUS_WORDS = {
    "fixed": "Fixed by the generator", "constrained": "Constrained to the thesis's interval",
    "planted": "Planted by the generator", "free": "Left free",
}


class _Box(Markdown):
    """Markdown that shows nothing at all when empty: IPython would otherwise print the object's repr
    ("<IPython.core.display.Markdown object>") as plain text in place of an empty box."""

    def _ipython_display_(self):
        if self.data:
            display({"text/markdown": self.data}, raw=True)


def design_box(params: dict, chapter: str) -> Markdown:
    """The box that says, for this chapter, which results the shipped synthetic cohort was built to give.

    Generated from ``data/published/synthetic_design.yml`` (read by ``helpers.report.published``). Shown
    only when the cohort is the shipped synthetic file (``params["cohort_shipped"]``, recognised by its
    SHA-256): for anyone else's data, real or simulated, the declaration says nothing, and the box is empty.
    """
    from helpers.report import published

    if not params.get("cohort_shipped"):
        return _Box("")
    rows = published.design_results(chapter)
    lines = [f"```{{admonition}} {DESIGN_TITLE}\n:class: important",
             "The shipped synthetic cohort was generated to give some of the results on this page. Read them as "
             "checks of the generator, not as findings (declared in `data/published/synthetic_design.yml`, which "
             "the generator reads too):", ""]
    for status, words in STATUS_WORDS.items():
        for _, r in rows[rows["status"] == status].iterrows():
            lines.append(f"- **{words}:** {r['result']}. {r['how']}")
    lines.append("```")
    return _Box("\n".join(lines))


def vsmc_banner(params: dict) -> Markdown:
    """The note that opens the cell-culture chapter: which replicate file, and that synthetic ones are
    illustrative, not the thesis's measurements."""
    path = params["vsmc_csv"]
    if not path:
        return Markdown("No cell-culture data were given (parameter `vsmc_csv` is empty): this chapter has nothing to show.")
    source = f"Data: `{paths.shown(path)}`."
    if params["vsmc_kind"] != "synthetic":
        return Markdown(source)
    return Markdown(
        "```{admonition} Synthetic data: illustrative replicates\n:class: warning\n"
        "The thesis prints no raw values for its cell-culture experiments, only figures with means, error "
        "bars and significance marks. The replicates on this page are synthetic and illustrative "
        "(`helpers.synthetic_vsmc`): drawn so that the thesis's pattern and marks come out of the same "
        f"tests. They are not the thesis's measurements. {source}\n```"
    )


def _rules(params: dict | None, patients: bool, source: str) -> disclosure.Rules:
    if params is None or not patients:
        return disclosure.Rules(active=False)
    return disclosure.rules(params, source)


def _declaration(name: str, table: pd.DataFrame, counts, rates, thesis, patients, source) -> dict:
    """The disclosure settings of a table: its declaration (:mod:`declarations`) when it is named and no
    setting is given by hand; else those given (tables of tests and exercises that are not published)."""
    if name and counts is None and rates is None and not thesis and patients and source == "cohort":
        if name not in declarations.TABLES:
            raise ValueError(f"table {name!r}: its count columns must be declared, in TABLES of helpers/report/declarations.py")
        d = declarations.TABLES[name]
        return {"counts": d.count_columns(table.columns), "rates": dict(d.rates), "thesis": d.thesis,
                "patients": d.patients, "source": d.source}
    return {"counts": counts, "rates": rates, "thesis": thesis, "patients": patients, "source": source}


def disclosed(table: pd.DataFrame, params: dict | None, counts=None, rates: dict | None = None,
              thesis=(), patients: bool = True, source: str = "cohort", name: str = "",
              rows=None) -> tuple[pd.DataFrame, dict]:
    """The table as it may be published, and a summary of what was done (see :mod:`disclosure`).

    A table named in :mod:`helpers.report.declarations` takes its declaration from there. Otherwise
    ``counts`` declares the columns that hold counts of patients (an empty list when there are none);
    ``rates`` the columns derived from one of them ({column: count column}); ``thesis`` the columns that
    compare this run's counts with the thesis's exactly, left out with real data (``"all"``: the whole
    table is such a comparison and is left out); ``rows`` (boolean) the rows of this run when the table
    also quotes the thesis's printed counts in other rows. ``patients=False`` marks a table that counts no patients
    (validation runs, cell-culture replicates). With real data an undeclared table is an error.
    """
    settings = _declaration(name, table, counts, rates, thesis, patients, source)
    counts, rates, thesis = settings["counts"], settings["rates"], settings["thesis"]
    rules_ = _rules(params, settings["patients"], settings["source"])
    if name in declarations.TABLES:
        table, _ = disclosure.model_outputs(table, declarations.TABLES[name], rules_)
    if not rules_.active:
        return table, {"redacted": 0, "rounded": 0}
    if counts is None:
        raise ValueError(f"table {name or '(unnamed)'}: with real data its count columns must be declared "
                         "(helpers/report/declarations.py)")
    if isinstance(thesis, str) and thesis == "all":
        note = pd.DataFrame({"note": ["Left out with real data: this table compares the cohort's exact counts "
                                      "with the thesis's (see the Disclosure control page)."]})
        return note, {"redacted": 0, "rounded": 0, "left out": True}
    table = table.drop(columns=[c for c in thesis if c in table.columns])
    tests = declarations.TABLES[name].tests if name in declarations.TABLES else ()
    return disclosure.disclose_table(table, [c for c in counts if c not in thesis and c in table.columns], rules_, rates, rows,
                                     tests)


def save_table(table: pd.DataFrame, name: str, params: dict, patients: bool = True, counts=None,
               rates: dict | None = None, thesis=(), source: str = "cohort", rows=None) -> Path:
    """Write a table the book shows as ``<tables_dir>/<name>.csv`` (UTF-8, no index) and return the path.

    The table's disclosure is its declaration (:mod:`helpers.report.declarations`); with real data it is
    disclosed first (:func:`disclosed`), and every table is entered in the disclosure log.
    """
    folder = paths.tables_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    settings = _declaration(name, table, counts, rates, thesis, patients, source)
    shown, summary = disclosed(table, params, rows=rows, name=name, **settings)
    shown.to_csv(path, index=False, lineterminator="\n")
    rules_ = _rules(params, settings["patients"], settings["source"])
    note = ("left out: an exact comparison with the thesis" if summary.get("left out")
            else "" if settings["patients"] else "counts no patients")
    if rules_.active:  # every redacted cell, also those redacted before (rates, by :func:`incidence`)
        summary = dict(summary, redacted=int((shown.astype(str) == disclosure.REDACTED).to_numpy().sum()))
    disclosure.record(f"tables/{name}.csv", "table", rules_, summary.get("columns", settings["counts"] or ()), summary, note)
    return path


def publish(table: pd.DataFrame, name: str, params: dict) -> pd.DataFrame:
    """Publish the declared table ``name``: write its CSV (:func:`save_table`) and return the table as it
    may be used on the page, its model outputs disclosed (rows resting on a small cell withheld, with the
    reason; estimates rounded; one patient's values left out) and its counts still exact, for the page's
    own tables and figures to disclose by their declarations. With synthetic data the table is returned as it is."""
    declared = declarations.table(name)
    rules_ = _rules(params, declared.patients, declared.source)
    shown, withheld = disclosure.model_outputs(table, declared, rules_)
    save_table(shown, name, params)
    if withheld:
        disclosure.record(f"tables/{name}.csv", "model outputs", rules_, declared.cells,
                          {"redacted": withheld, "rounded": int(len(shown) - withheld)},
                          "rows resting on a small cell withheld; other estimates rounded")
    return shown


def model_outputs(table: pd.DataFrame, name: str, params: dict, use: str = "glued text") -> pd.DataFrame:
    """The model outputs of a frame declared as ``name`` that a page quotes without publishing the frame
    (an exercise's solution): disclosed as :func:`publish` discloses them, and logged."""
    declared = declarations.table(name)
    rules_ = _rules(params, declared.patients, declared.source)
    shown, withheld = disclosure.model_outputs(table, declared, rules_)
    disclosure.record(f"{use}: {name}", "text", rules_, declared.cells, {"redacted": withheld, "rounded": 0},
                      "rows resting on a small cell withheld" if rules_.active else "")
    return shown


def publish_curve(fit, values, happened, name: str, params: dict):
    """Publish a spline fit's curve as the declared table ``name``, each point with the patients (and
    outcomes) it rests on (``spline.support``), and return the fit with its curve as published: with real
    data the ends resting on 1 to the threshold patients, outcomes or non-outcomes are left out."""
    import dataclasses

    from helpers.stats.spline import support

    n, happened_n = support(fit.curve.iloc[:, 0], fit.reference, values, happened)
    shown = publish(fit.curve.assign(n_beyond=n, events_beyond=happened_n), name, params)
    return dataclasses.replace(fit, curve=shown[[c for c in fit.curve.columns if c in shown.columns]].reset_index(drop=True))


def knots_text(knots, n: int, params: dict) -> str:
    """Spline knots in words ('1.8, 2.1, 2.3, 2.5'); with real data, withheld where too few of the ``n``
    patients lie beyond the outer ones (they are centiles of the exposure)."""
    rules_ = disclosure.rules(params)
    if disclosure.centile_allowed(disclosure.outer_knot_centile(len(knots)), n, rules_):
        return ", ".join(f"{k:.2f}" for k in knots)
    return f"withheld: fewer than {rules_.threshold} patients beyond the outer knots"


def withhold_reason(params: dict) -> str:
    """The words a model output withheld by disclosure control carries (a curve left out of a figure)."""
    return disclosure.withhold_reason(params["small_count_threshold"])


def points_allowed(name: str, params: dict) -> bool:
    """Whether the declared figure ``name`` may draw one point per patient (only with synthetic data)."""
    rules_ = disclosure.rules(params)
    allowed = declarations.figure(name).points or not rules_.active
    disclosure.record(f"figure: {name}", "figure", rules_, (), None,
                      "" if allowed else "one point per patient not drawn")
    return allowed


def rules(params: dict, source: str = "cohort") -> disclosure.Rules:
    """The disclosure rules of this run for the cohort (or ``source='vsmc'``)."""
    return disclosure.rules(params, source)


def count(n, params: dict):
    """One count of patients as it may be published (a glued number): exact, rounded or redacted."""
    value = disclosure.rules(params).count(n)
    return value if isinstance(value, str) else f"{int(value):,}"


def figure_counts(frame: pd.DataFrame, params: dict, name: str, counts=("n",)) -> pd.DataFrame:
    """The frame a figure draws (a participant flow, a forest plot's strata) with its ``counts`` columns
    as they may be drawn; the figure is entered in the disclosure log."""
    rules_ = disclosure.rules(params)
    shown, summary = disclosure.disclose_table(frame, list(counts), rules_)
    disclosure.record(name, "figure", rules_, summary.get("columns", counts), summary)
    return shown


def flow_counts(flow: pd.DataFrame, params: dict, name: str) -> pd.DataFrame:
    """A participant flow (``cohort.*_flow``) with its counts as they may be drawn; logged as a figure."""
    return figure_counts(flow, params, name, ["n"])


def figure_rules(params: dict, name: str, counts=("histogram bins",)) -> disclosure.Rules:
    """The rules a figure that counts patients itself (a histogram) draws under; logged as a figure."""
    rules_ = disclosure.rules(params)
    disclosure.record(name, "figure", rules_, counts, None,
                      "bins of few patients left empty, others rounded" if rules_.active else "")
    return rules_


def person_years(values: pd.Series) -> pd.Series:
    """Person-years as whole numbers (already rounded, or redacted, with real data by :func:`incidence`)."""
    # With real data the column is of objects (the redaction marker beside numbers), even when no cell of
    # this run is redacted: each cell is rounded on its own.
    return values.map(lambda v: v if isinstance(v, str) or pd.isna(v) else int(round(float(v))))


def exact_comparison(text: str, params: dict) -> str:
    """A statement comparing this run's exact counts with the thesis's: with real data it is left out."""
    if disclosure.rules(params).active:
        return "(not shown with real data: an exact comparison with the thesis's counts)"
    return text


def at_risk(frame: pd.DataFrame, params: dict, name: str) -> pd.DataFrame:
    """Numbers at risk as they may be printed beneath a curve; logged with the figure."""
    rules_ = disclosure.rules(params)
    shown = disclosure.at_risk(frame, rules_)
    flat = shown.astype(str).to_numpy().ravel()
    summary = {"redacted": int((flat == disclosure.REDACTED).sum()),
               "rounded": int((flat != frame.astype(str).to_numpy().ravel()).sum())} if rules_.active else None
    disclosure.record(name, "figure", rules_, ["numbers at risk"], summary,
                      "curves from counts rounded in time" if rules_.active else "")
    return shown


def event_data(df: pd.DataFrame, duration: str, event: str, params: dict, group: str | None = None) -> pd.DataFrame:
    """The data curves are estimated from: the patients themselves with synthetic data; with real data
    pseudo-patients carrying only counts rounded in time (:func:`disclosure.rounded_event_data`), so that
    no step of a published curve is one event."""
    rules_ = disclosure.rules(params)
    if not rules_.active:
        return df
    return disclosure.rounded_event_data(df, duration, event, group, rules_.base)


def coarsen_curves(curves: pd.DataFrame, key: str, params: dict, step: float = disclosure.TIME_STEP) -> pd.DataFrame:
    """Model-implied step curves (``key``, time, values...) as they may be published.

    With real data the rows at each patient's event time would disclose individual times; the curves are
    then read on a grid of ``step`` years instead. Synthetic data are returned as they are.
    """
    if not disclosure.rules(params).active:
        return curves
    from helpers.stats.survival import at_times

    grid = np.round(np.arange(0.0, curves["time"].max() + step, step), 6)
    values = [c for c in curves.columns if c not in (key, "time")]
    frames = []
    for name, part in curves.groupby(key, sort=False):
        frame = pd.DataFrame({key: name, "time": grid})
        for column in values:
            frame[column] = at_times(part, grid, column, start=float(part[column].iloc[0]))
        frames.append(frame[frame["time"] <= part["time"].max()])
    return pd.concat(frames, ignore_index=True)


def incidence(frame: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Incidence rows (``survival.incidence_rate``) with counts, person-years, rates and exact limits
    from rounded counts with real data."""
    return disclosure.incidence(frame, disclosure.rules(params))


def disclosure_statement(params: dict) -> str:
    """One paragraph: the mode each input runs in and the disclosure rules in force (colophon, disclosure page)."""
    modes = "; ".join(f"{label} `{paths.shown(params[key])}`: **{params[f'{source}_kind']}**"
                      for label, key, source in (("cohort", "cohort_csv", "cohort"), ("cell-culture file", "vsmc_csv", "vsmc"))
                      if params.get(key))
    t, b = params["small_count_threshold"], params["rounding_base"]
    if any(disclosure.rules(params, s).active for s in ("cohort", "vsmc")):
        rule = (f"Disclosure control is in force: counts from 1 to {t} are redacted ({disclosure.REDACTED}), every "
                f"other count is rounded to a multiple of {b}, and what depends on a count is computed from the rounded one.")
    else:
        rule = (f"No input runs as real data, so every count is exact; with real data counts from 1 to {t} would be "
                f"redacted and every other count rounded to a multiple of {b}.")
    return f"Inputs of this run: {modes}. {rule}"


# Cells of a column whose values are all at most this long are kept on one line; longer text may wrap.
NOWRAP_CHARS = 24
NOWRAP_LABEL_CHARS = 12


def show(table: pd.DataFrame, caption: str = "", params: dict | None = None, patients: bool = True, counts=None,
         rates: dict | None = None, thesis=(), source: str = "cohort", rows=None, name: str = ""):
    """A table as it should be displayed in the book: no index column, the book's number style
    (:mod:`helpers.report.formatting`), a caption.

    Given the run's ``params``, real data are disclosed by the declaration of ``name``
    (:mod:`helpers.report.declarations`), the one its CSV is written by.
    """
    table, _ = disclosed(table, params, counts, rates, thesis, patients, source, name=name, rows=rows)
    table = formatting.display_frame(table)
    styler = table.style.hide(axis="index")
    if layout.is_wide(table):  # the page gives it the theme's full width (_static/custom.css)
        styler = styler.set_table_attributes('class="wide"')
    # The first column holds labels, which may wrap unless they are as short as 'Model 1'.
    short = [c for i, c in enumerate(table.columns)
             if len(table) and table[c].astype(str).str.len().max() <= (NOWRAP_CHARS if i else NOWRAP_LABEL_CHARS)]
    if short:  # a short value ('2.53 (1.12–5.69)', 'Pi + 1 mM Mg') is never broken over lines
        styler = styler.set_properties(subset=pd.IndexSlice[:, short], **{"white-space": "nowrap"})
    return styler.set_caption(caption) if caption else styler


format_p = formatting.p_value  # P to three decimals, or '<0.001'
format_ratio = formatting.ratio  # '2.53 (1.12–5.69)'


def gray_text(gray, groups: pd.Series, crude: pd.DataFrame | None = None, params: dict | None = None) -> str:
    """Gray's test (``survival.gray_test``) in words: 'χ² = 12.34 on 2 degrees of freedom, P = 0.002', or why
    there is none ('not estimable: only one Mg group (1.8–2.2 mg/dL)'); ``groups`` the Mg group column.
    With the crude model's rows (``crude``) and ``params``, the test is disclosed as a model output: it
    compares every group, so it rests on each one's cells and is withheld, with the reason, where one is small."""
    if not np.isfinite(gray.statistic):
        return cohort.one_group(groups) or "not estimable"
    statistic, p = gray.statistic, gray.pvalue
    if crude is not None:
        shown = model_outputs(disclosure.cells_of_terms(
            pd.DataFrame({"term": ["groups"], "statistic": [statistic], "p": [p]}), "term", crude, "groups",
            declarations.MODEL_CELLS), "gray_test", params).iloc[0]
        if pd.isna(shown["p"]):
            return shown.get("reason", "not estimable")
        statistic, p = shown["statistic"], shown["p"]
    freedom = "degree" if gray.df == 1 else "degrees"
    return f"χ² = {statistic:.2f} on {gray.df} {freedom} of freedom, P = {format_p(p)}"


def format_rates(incidence: pd.DataFrame) -> list[str]:
    """Rates with their 95% CI to one decimal: '20.8 (17.6–24.4)', from ``survival.incidence_rate``
    (or the redaction marker where :func:`incidence` redacted the rate)."""
    return disclosure.format_rates(incidence)
