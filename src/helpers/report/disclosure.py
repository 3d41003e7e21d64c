"""Statistical disclosure control: what the book may publish when it runs on real data.

The rules are OpenSAFELY's output rules, which rest on the primary/secondary suppression practice of
statistical disclosure control. Suppressing small cells alone fails: the hidden value comes back by
subtracting published numbers (a total minus the other strata). So, with real data:

- a count from 1 to ``small_count_threshold`` is **redacted**;
- every other count, totals included, is **rounded** to a multiple of ``rounding_base``, each one
  independently, so that sums and differences of published counts are multiples of the base and cannot
  give back a small cell;
- a percentage, rate or person-time beside a count is computed from the rounded counts, or redacted
  with the count;
- curves are computed from counts rounded in time (cumulative counts rounded up to the base on a time
  grid, as OpenSAFELY's rounded Kaplan–Meier), so no step reveals one event.

Count columns, and the cells each model output rests on, are *declared* once per table in
:mod:`helpers.report.declarations`, never guessed from their names. Models are fitted on the exact data; only what is published passes through here. With
synthetic data nothing changes: :func:`rules` returns inactive rules and every function returns its
input as it is.

Every published table and figure is recorded in a disclosure log (``disclosure_log.csv`` beside the
tables), for a data guardian's output check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import paths
from helpers.report import formatting

REDACTED = "[REDACTED]"
LOG_NAME = "disclosure_log.csv"
LOG_COLUMNS = ["Output", "Kind", "Count columns", "Redacted", "Rounded", "Note"]
# Step of the time grid on which published curves are read with real data (years, about five weeks).
TIME_STEP = 0.1

# "n", "n (p)", "n (p%)", "a/b", "a/b (p)", "a of b", with thousands separators.
_CELL = re.compile(r"^\s*(?P<a>\d[\d,]*)(?:\s*(?P<sep>/|of)\s*(?P<b>\d[\d,]*))?"
                   r"(?:\s*\((?P<p>\d+(?:\.\d+)?)(?P<pct>%?)\))?\s*$")


@dataclass(frozen=True)
class Rules:
    """The rules in force for one input: ``active`` with real data, inert with synthetic data."""

    active: bool
    threshold: int = 7
    base: int = 5
    source: str = "cohort"

    def count(self, n):
        """One published count: exact when inactive; redacted from 1 to the threshold; else rounded."""
        if not self.active or n is None or (isinstance(n, float) and math.isnan(n)):
            return n
        return round_count(int(n), self.threshold, self.base)

    def cell(self, value):
        """A count cell (a number, 'n (p)', 'a/b (p)', 'a of b') as it may be published."""
        return disclose_cell(value, self.threshold, self.base) if self.active else value


def round_count(n: int, threshold: int, base: int):
    """``REDACTED`` for 1 ≤ n ≤ threshold; else n rounded to the nearest multiple of ``base`` (0 stays 0).

    A count above the threshold never rounds to 0: it rounds to at least ``base``.
    """
    if n < 0:
        raise ValueError(f"a count cannot be negative (got {n})")
    if n == 0:
        return 0
    if n <= threshold:
        return REDACTED
    return max(base, base * int(math.floor(n / base + 0.5)))


def rules(params: dict, source: str = "cohort") -> Rules:
    """The rules for the cohort (``source='cohort'``) or the cell-culture file (``'vsmc'``) of a run."""
    kind = params.get(f"{source}_kind")
    return Rules(active=kind == "real", threshold=int(params["small_count_threshold"]),
                 base=int(params["rounding_base"]), source=source)


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def disclose_cell(value, threshold: int, base: int):
    """One cell of a declared count column, disclosed.

    Whole numbers are rounded or redacted; so are the counts opening phrases ('3 missing egfr; 12 missing
    bmi'). In 'n (p)' the percentage's denominator is recovered from the
    cell (n·100/p), rounded like any count, and p recomputed from the two rounded counts; in 'a/b (p)' and
    'a of b' both counts are rounded and p recomputed. A cell whose count (or denominator) is redacted is
    redacted whole. Text that is not a count (a note, '—', empty) is returned unchanged.
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return round_count(int(value), threshold, base)
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return value
        if not float(value).is_integer():
            raise ValueError(f"a count column holds {value}, which is not a whole number")
        return round_count(int(value), threshold, base)
    if not isinstance(value, str):
        return value
    if not (m := _CELL.match(value)):
        return _disclose_phrases(value, threshold, base)
    a = _number(m["a"])
    b = _number(m["b"]) if m["b"] else None
    p = float(m["p"]) if m["p"] is not None else None
    if b is None and p is not None:
        b = round(a * 100 / p) if p > 0 else None
    ra = round_count(a, threshold, base)
    rb = round_count(b, threshold, base) if b is not None else None
    if ra == REDACTED or rb == REDACTED:
        return REDACTED
    if m["sep"]:
        text = f"{ra:,} {m['sep']} {rb:,}" if m["sep"] == "of" else f"{ra:,}/{rb:,}"
    else:
        text = f"{ra:,}"
    if p is not None:
        share = 100 * ra / rb if rb else 0.0
        text += f" ({share:.{_decimals(m['p'])}f}{m['pct']})"
    return text


_GROUP_SIZE = re.compile(r"\(n = (\d[\d,]*)\)")


# A median with its quartiles: '54.0 [44.0–63.0]' (or ';' between the quartiles).
_QUARTILES = re.compile(r"^\s*-?[\d.,]+\s*\[\s*-?[\d.,]+\s*[–;]\s*-?[\d.,]+\s*\]\s*$")


def _group_size(column) -> int | None:
    m = _GROUP_SIZE.search(str(column)) if isinstance(column, str) else None
    return _number(m[1]) if m else None


def _header(column, rules_: Rules) -> tuple[str, bool]:
    """A column name with its '(n = N)' disclosed; and whether that group is too small for summaries."""
    m = _GROUP_SIZE.search(str(column)) if isinstance(column, str) else None
    if not m:
        return column, False
    n = rules_.count(_number(m[1]))
    shown = n if n == REDACTED else f"{n:,}"
    return column[:m.start()] + f"(n = {shown})" + column[m.end():], n == REDACTED


def _disclose_column(column: pd.Series, rules_: Rules, summary: dict, rows=None) -> pd.Series:
    before = column.astype(str)
    after = column.map(lambda v: disclose_cell(v, rules_.threshold, rules_.base))
    if rows is not None:
        after = after.astype(object).where(rows, column)
    text = after.astype(str)
    summary["redacted"] += int(((text == REDACTED) & (before != REDACTED)).sum())
    summary["rounded"] += int(((text != before) & (text != REDACTED)).sum())
    return after.astype(object) if text.ne(before).any() else column


_PHRASE = re.compile(r"^(\d[\d,]*)(\s+[^\d\s].*)$")


def _disclose_phrases(value: str, threshold: int, base: int) -> str:
    """Counts that open phrases, such as '3 missing egfr; 12 missing bmi': each count disclosed."""
    parts = value.split("; ")
    matches = [_PHRASE.match(p.strip()) for p in parts]
    if not all(matches):
        return value
    shown = [round_count(_number(m[1]), threshold, base) for m in matches]
    return "; ".join(f"{n:,}{m[2]}" if n != REDACTED else f"{REDACTED}{m[2]}" for n, m in zip(shown, matches))


def disclose_table(table: pd.DataFrame, counts, rules_: Rules, rates: dict | None = None,
                   rows=None, tests=()) -> tuple[pd.DataFrame, dict]:
    """The table with its declared ``counts`` columns disclosed; and a summary for the log.

    A group size '(n = N)' in a declared column's name is disclosed too, and when the group has no more
    patients than the threshold every cell of the column (medians and quartiles included) is redacted; in
    a group too small for its quartiles (a quarter of it below the threshold), a median with its quartiles
    is redacted.
    ``rates`` maps a column derived from a count (a rate, a percentage, person-time) to that count's
    column: it is redacted in the rows where the count is. ``rows`` (a boolean Series) limits all this to
    the rows of this run when a table also quotes the thesis's printed counts. ``tests`` are columns of a
    test across the groups (a P for trend): it rests on every group's cells, so it is redacted where a
    group's cell of its variable (its row, and the indented level rows beneath a heading) is redacted or
    leaves 1 to the threshold patients without the trait. Undeclared columns are left as they are.
    """
    summary = {"redacted": 0, "rounded": 0}
    if not rules_.active:
        return table, summary
    missing = [c for c in list(counts) + list((rates or {}).values()) if c not in table.columns]
    if missing:
        raise KeyError(f"declared count columns not in the table: {missing}; it has {list(table.columns)}")
    out = table.copy()
    for column in counts:
        out[column] = _disclose_column(out[column], rules_, summary, rows)
    for column, source in (rates or {}).items():
        hidden = out[source].astype(str) == REDACTED
        out[column] = out[column].astype(object).where(~hidden, REDACTED)
    names = {}
    for column in counts:
        names[column], small = _header(column, rules_)
        if small:
            summary["redacted"] += int(len(out))
            out[column] = REDACTED
        elif (n := _group_size(column)) is not None and not centile_allowed(0.25, n, rules_):
            quartiles = out[column].astype(str).str.match(_QUARTILES)
            summary["redacted"] += int(quartiles.sum())
            out[column] = out[column].astype(object).where(~quartiles, REDACTED)
    _disclose_tests(table, out, [c for c in counts if _group_size(c) is not None], tests, rules_, summary)
    summary["columns"] = [names[c] for c in counts]
    return out.rename(columns=names), summary


def _disclose_tests(table, out, groups, tests, rules_: Rules, summary: dict) -> None:
    """Redact, in ``out``, the ``tests`` of the variables whose group cells are small (see :func:`disclose_table`)."""
    tests = [c for c in tests if c in out.columns]
    if not tests or not groups:
        return
    small = out[groups].astype(str).eq(REDACTED).any(axis=1)
    for column in groups:
        small |= table[column].map(lambda v: _without(v, rules_.threshold))
    label = table.iloc[:, 0].astype(str)
    variable = (~label.str.match(r"^\s")).cumsum()
    hit = small.groupby(variable).transform("any").astype(bool)
    for column in tests:
        shown = out[column].astype(str).str.strip().ne("") & out[column].notna()
        summary["redacted"] += int((hit & shown).sum())
        out[column] = out[column].astype(object).where(~(hit & shown), REDACTED)


def _without(value, threshold: int) -> bool:
    """Whether a count cell 'a/b (p)' or 'a (p)' leaves 1 to ``threshold`` patients without the trait."""
    m = _CELL.match(str(value))
    if not m or not (m["b"] or m["p"]):
        return False
    a = _number(m["a"])
    b = _number(m["b"]) if m["b"] else (round(a * 100 / float(m["p"])) if float(m["p"]) > 0 else None)
    return b is not None and 1 <= b - a <= threshold


def incidence(frame: pd.DataFrame, rules_: Rules, per: float = 1000.0) -> pd.DataFrame:
    """Rows of ``survival.incidence_rate`` as they may be published.

    With real data participants and events are rounded (or redacted), person-years rounded to a multiple
    of the base, and the rate and its exact (Garwood) Poisson limits recomputed from the rounded events and
    person-years; a redacted event count redacts its rate.
    """
    if not rules_.active:
        return frame
    from helpers.stats.survival import garwood_interval

    out = frame.copy().astype({c: object for c in ("participants", "events", "person_years", "rate", "lower", "upper")})
    for i, row in frame.iterrows():
        events, people = rules_.count(row["events"]), rules_.count(row["participants"])
        years = max(rules_.base, rules_.base * round(row["person_years"] / rules_.base))
        out.at[i, "participants"], out.at[i, "events"], out.at[i, "person_years"] = people, events, years
        if events == REDACTED or people == REDACTED:
            out.loc[i, ["events", "rate", "lower", "upper", "person_years"]] = REDACTED
            continue
        if not row["person_years"] > 0:  # a group without patients has no rate
            out.at[i, "person_years"] = 0
            continue
        low, high = garwood_interval(events, years / per)
        out.at[i, "rate"], out.at[i, "lower"], out.at[i, "upper"] = events / years * per, float(low), float(high)
    return out


def format_rates(frame: pd.DataFrame) -> list[str]:
    """'rate (lower–upper)' to one decimal, or the redaction marker."""
    return [REDACTED if REDACTED in (r, lo, hi) else formatting.estimate_ci(r, lo, hi, 1)
            for r, lo, hi in zip(frame["rate"], frame["lower"], frame["upper"])]


def at_risk(frame: pd.DataFrame, rules_: Rules) -> pd.DataFrame:
    """A frame whose every cell is a count of patients (numbers at risk), disclosed."""
    return frame.map(rules_.count) if rules_.active else frame


def _ceil_to(values: np.ndarray, base: int) -> np.ndarray:
    return (np.ceil(values / base) * base).astype(int)


def rounded_event_data(df: pd.DataFrame, duration: str, event: str, group: str | None, base: int,
                       step: float = TIME_STEP) -> pd.DataFrame:
    """Pseudo-patients that carry only rounded counts, from which published curves are computed.

    Following OpenSAFELY's rounded Kaplan–Meier: times are put up onto a grid of ``step`` years, then in
    each group the cumulative number of each kind of end (each event code, censoring included) is rounded
    up to a multiple of ``base``, and the increments of those rounded counts become pseudo-patients ending
    at that grid time. Every step of a curve estimated from them is a multiple of ``base`` events.
    """
    d = df[[duration, event] + ([group] if group else [])].dropna(subset=[duration, event]).copy()
    d["_t"] = np.round(np.ceil(np.round(d[duration].to_numpy(float) / step, 9)) * step, 6)
    d["_g"] = d[group] if group else "all"
    rows = []
    for g, part in d.groupby("_g", sort=False, observed=True):
        grid = np.sort(part["_t"].unique())
        for code in sorted(part[event].unique()):
            per_time = part[part[event] == code].groupby("_t").size().reindex(grid, fill_value=0)
            rounded = _ceil_to(per_time.cumsum().to_numpy(float), base)
            increments = np.diff(np.concatenate([[0], rounded]))
            for t, k in zip(grid, increments):
                rows += [(g, t, code)] * int(k)
    out = pd.DataFrame(rows, columns=["_g", duration, event])
    if group:
        out = out.rename(columns={"_g": group})
        if isinstance(df[group].dtype, pd.CategoricalDtype):
            out[group] = pd.Categorical(out[group], categories=df[group].cat.categories)
    return out


def cumulative_incidence(df, duration, event, cause, group, rules_: Rules) -> pd.DataFrame:
    """``survival.cumulative_incidence`` as it may be published: from rounded counts with real data."""
    from helpers.stats import survival

    if rules_.active:
        df = rounded_event_data(df, duration, event, group, rules_.base)
    return survival.cumulative_incidence(df, duration, event, cause=cause, group=group)


def histogram(values, bins, rules_: Rules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts of a histogram as they may be drawn: (edges, heights, redacted) — bins from 1 to the
    threshold have height 0 and are flagged, the others are rounded. With real data the bins beyond the
    outermost bins of more than the threshold are left out (edges included), so that the axis does not
    show where the lowest or highest patient lies."""
    heights, edges = np.histogram(pd.Series(values, dtype=float).dropna(), bins=bins)
    if not rules_.active:
        return edges, heights, np.zeros(len(heights), bool)
    shown = [rules_.count(int(h)) for h in heights]
    redacted = np.array([h == REDACTED for h in shown])
    heights = np.array([0 if r else h for h, r in zip(shown, redacted)])
    kept = np.flatnonzero(heights > 0)
    if not len(kept):
        return edges[:1], heights[:0], redacted[:0]
    first, last = kept[0], kept[-1] + 1
    return edges[first:last + 1], heights[first:last], redacted[first:last]


def centile_allowed(p: float, n: int, rules_: Rules) -> bool:
    """Whether the centile ``p`` of ``n`` patients may be published: min(p, 1 − p) · n reaches the threshold."""
    return not rules_.active or min(p, 1 - p) * n >= rules_.threshold


def summary_allowed(n: int, rules_: Rules) -> bool:
    """Whether medians, quartiles or ranges of a group of ``n`` patients may be published."""
    return not rules_.active or n > rules_.threshold


# --- model outputs ---------------------------------------------------------------------------------------

def _small(values: pd.Series, threshold: int) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v >= 1) & (v <= threshold)


def withheld_rows(table: pd.DataFrame, declared, rules_: Rules) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Which rows' estimates rest on a small cell (own); which are withheld only because a row they share
    ``declared.together`` with is (complement: with a published total it would give that row back); and
    which only because their group is nested with a withheld row's and differs from it by a small cell
    (neighbour: ``declared.nested``, the groups of two cut-points, whose estimates are nearly the same)."""
    cells = [c for c in declared.cells if c in table.columns]
    own = pd.Series(False, index=table.index)
    for column in cells:
        own |= _small(table[column], rules_.threshold)
    for patients, events in declared.non_events:
        if patients in table.columns and events in table.columns:
            own |= _small(pd.to_numeric(table[patients], errors="coerce") - pd.to_numeric(table[events], errors="coerce"),
                          rules_.threshold)
    complement = pd.Series(False, index=table.index)
    if declared.together and declared.together in table.columns and own.any():
        both = own.groupby(table[declared.together], sort=False).transform("any").astype(bool)
        complement = both & ~own
    return own, complement, _neighbours(table, declared, cells, own | complement, rules_.threshold)


def _neighbours(table: pd.DataFrame, declared, cells: list, hit: pd.Series, threshold: int) -> pd.Series:
    """Rows of nested groups (same ``declared.nested`` key: the model, and the side of the reference the
    group lies on) whose counts differ from a withheld row's by 1 to ``threshold``: the withheld group is
    the published one less a small band, so both estimates, or their difference, would give it back.
    Repeated until no row is added (a chain of cut-points)."""
    if not declared.nested or not hit.any() or not set(declared.nested) <= set(table.columns):
        return pd.Series(False, index=table.index)
    model, group = declared.nested
    family = table[model].astype(str) + "|" + table[group].astype(str).str[0]
    counts = table[cells].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    withheld, added = hit.to_numpy().copy(), np.zeros(len(table), bool)
    keys = family.to_numpy()
    changed = True
    while changed:
        changed = False
        for i in np.flatnonzero(~withheld):
            peers = np.flatnonzero(withheld & (keys == keys[i]))
            gaps = np.abs(counts[peers] - counts[i])
            if ((gaps >= 1) & (gaps <= threshold)).any():
                withheld[i] = added[i] = changed = True
    return pd.Series(added, index=table.index)


def cells_of_terms(table: pd.DataFrame, key: str, fits: pd.DataFrame, joint: str, cells) -> pd.DataFrame:
    """``table`` (one row per model term, named in column ``key``) with the ``cells`` each term's contrast
    rests on, read from a tidy model frame ``fits`` (its ``term`` and cells columns, one model); the joint
    row ``joint`` (a global test) rests on every term's cells, so it carries the smallest of each."""
    cells = [c for c in cells if c in fits.columns]
    by_term = fits.drop_duplicates("term").set_index("term")[cells].apply(pd.to_numeric, errors="coerce")
    out = table.join(by_term, on=key)
    out.loc[out[key] == joint, cells] = by_term.min().to_numpy()
    return out


def withhold_reason(threshold: int, complement: bool = False, neighbour: bool = False) -> str:
    """The words a withheld estimate carries."""
    if complement:
        return ("withheld: another stratum of this subgroup rests on a small cell, and this one with the "
                "whole cohort's estimate would give it back")
    if neighbour:
        return (f"withheld: this group differs by 1 to {threshold} patients or events from a group withheld at "
                "another cut-point, and would give it back")
    return f"withheld: it rests on a group with 1 to {threshold} patients or events (disclosure control)"


def model_outputs(table: pd.DataFrame, declared, rules_: Rules) -> tuple[pd.DataFrame, int]:
    """The table's model outputs as they may be published, and how many rows were withheld.

    With real data: a row whose contrast rests on a small cell (:func:`withheld_rows`) loses its
    estimates (NaN) and says why in ``declared.reason``; the other estimates are rounded to
    ``declared.decimals`` (P values to three), so that a standard error or a limit cannot be inverted into
    an exact count; one patient's values (``extremes``) are left out, and a centile p is shown only where
    min(p, 1 − p) · n reaches the threshold. Synthetic data are returned as they are.
    """
    if not rules_.active or table.empty:
        return table.drop(columns=[c for c in declared.drop if c in table.columns]), 0
    out, withheld = _model_outputs(table.drop(columns=[c for c in declared.extremes if c in table.columns]), declared, rules_)
    if declared.drop_withheld and withheld:
        out = out[~out[declared.reason].fillna("").astype(str).str.startswith("withheld")]
        out = out.drop(columns=[declared.reason])
    return out.drop(columns=[c for c in declared.drop if c in out.columns]), withheld


KNOTS = "rcs knots"  # a centile declaration's p for a column of spline knots ('1.8, 2.1, 2.3, 2.5')


def outer_knot_centile(n_knots: int) -> float:
    """The centile the outer knots of ``n_knots`` spline knots may sit at: ``rms::rcs``'s outer quantile
    (0.10 for 3 knots, 0.05 for 4 to 6, 0.025 for 7), at most 0.05, since ties can leave fewer knots than
    asked for with the outer ones still at the 5th and 95th centiles."""
    from helpers.stats.spline import knot_quantiles

    return min(float(knot_quantiles(n_knots)[0]), 0.05) if 3 <= n_knots <= 7 else 0.5


def _knot_centile(knots: pd.Series) -> pd.Series:
    """Per row, the centile of the outer knots listed ('1.8, 2.1, 2.3, 2.5'); a cell that lists no knots
    (the spline not estimable) stands at no outer centile."""
    return knots.astype(str).str.split(",").str.len().map(outer_knot_centile).astype(float)


def _model_outputs(out: pd.DataFrame, declared, rules_: Rules) -> tuple[pd.DataFrame, int]:
    for column, p in declared.centiles:
        if column in out.columns and declared.centile_n in out.columns:
            p = _knot_centile(out[column]) if p == KNOTS else pd.Series(float(p), index=out.index)
            few = pd.to_numeric(out[declared.centile_n], errors="coerce").fillna(0) * np.minimum(p, 1 - p) < rules_.threshold
            # a number stays a number (NaN); a text cell (a median with its quartiles) says why it is empty
            out[column] = out[column].where(~few, np.nan if pd.api.types.is_numeric_dtype(out[column])
                                            else f"withheld: fewer than {rules_.threshold} patients beyond a centile")
    for column, decimals in declared.rounded:
        if column in out.columns and pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].round(decimals)
    estimates = [c for c in declared.estimates if c in out.columns]
    if not estimates:
        return out, 0
    own, complement, neighbour = withheld_rows(out, declared, rules_)
    hit = own | complement | neighbour
    for column in estimates:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values):  # stays numeric: a withheld value is NaN
            out[column] = values.round(3 if column.startswith("p") else declared.decimals).where(~hit)
        else:
            out[column] = values.astype(object).where(~hit, np.nan) if hit.any() else values
    if hit.any():
        reasons = out[declared.reason].astype(object) if declared.reason in out.columns else pd.Series("", index=out.index, dtype=object)
        reasons[own] = withhold_reason(rules_.threshold)
        reasons[complement] = withhold_reason(rules_.threshold, complement=True)
        reasons[neighbour] = withhold_reason(rules_.threshold, neighbour=True)
        out[declared.reason] = reasons
        if declared.flag in out.columns:
            out[declared.flag] = out[declared.flag].astype(bool) & ~hit
    return out, int(hit.sum())


# --- the disclosure log ----------------------------------------------------------------------------------

def record(name: str, kind: str, rules_: Rules, counts=(), summary: dict | None = None, note: str = "") -> None:
    """Add (or replace) a row of the disclosure log beside the tables: what was published and how."""
    folder = paths.tables_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    row = {"Output": name, "Kind": kind, "Count columns": "; ".join(map(str, counts)),
           "Redacted": (summary or {}).get("redacted", 0), "Rounded": (summary or {}).get("rounded", 0),
           "Note": note or ("disclosure rules applied" if rules_.active else "synthetic data: exact counts")}
    log = pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame(columns=LOG_COLUMNS)
    log = log[~((log["Output"] == name) & (log["Kind"] == kind))]
    pd.concat([log, pd.DataFrame([row])], ignore_index=True).to_csv(path, index=False, lineterminator="\n")


def rules_table(params: dict) -> pd.DataFrame:
    """The rules with their parameters, with real data and with synthetic data."""
    t, b = params["small_count_threshold"], params["rounding_base"]
    return pd.DataFrame({
        "Rule": ["Small counts", "Other counts", "Percentages, rates, person-years", "Curves",
                 "Numbers at risk, flow and forest-plot counts", "Histograms", "Medians and quartiles",
                 "Model outputs (estimates, SEs, limits, P)", "A group's extremes and centiles",
                 "Comparison with the thesis", "Executed notebooks"],
        "Real data": [f"1 to {t} redacted ({REDACTED})", f"rounded to a multiple of {b}, each independently",
                      "from the rounded counts, or redacted with them",
                      f"from cumulative counts rounded up to {b} on a {TIME_STEP}-year grid",
                      f"redacted (1 to {t}) or rounded to {b}", f"bins of 1 to {t} left empty (at the ends left out), others rounded to {b}",
                      f"redacted for groups of {t} or fewer; quartiles only where a quarter of the group is {t} or more",
                      f"withheld where a group or stratum of the contrast (or of a test across groups) has 1 to {t} "
                      "patients or events (a P for trend across groups: where a group's cell of its variable is redacted or "
                      f"leaves 1 to {t} without the trait), with the other strata of its subgroup and the groups of other cut-points "
                      f"that differ from it by 1 to {t}; the others rounded (2 decimals, P 3)",
                      f"no minimum, maximum or end of follow-up; a centile p (spline knots included) only where "
                      f"min(p, 1 − p) · n ≥ {t}",
                      "difference columns and calibration left out", "not offered for download"],
        "Synthetic data": ["exact"] * 9 + ["shown", "offered for download"],
    })
