"""Figure style and every figure of the book: flow diagrams, cumulative incidence, residual plots.

One colour-blind-safe palette (Okabe & Ito) and one set of font sizes serve every chapter. Figures only
draw; what they show is computed by the statistical helpers.

In the book a figure's title is its numbered caption (the notebook's ``mystnb: figure: caption``): the book
passes no ``title``, so no image carries a title of its own; panels of a multi-panel figure keep their
panel titles. ``title`` is for a figure used outside the book.
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch

def _vector_output() -> None:
    """In a notebook kernel, display figures as SVG: sharp at any zoom, and text stays text for readers."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        # No creation date in the SVG, and element ids from a fixed salt rather than a random one: the same
        # figure is the same file in every run (and no time stamp can pass for a number of the data).
        set_matplotlib_formats("svg", metadata={"Date": None})
        plt.rcParams["svg.hashsalt"] = "mg-book"
        # Figures are drawn when the cell's value is displayed, outside any rc_context: set here, for the
        # kernel, that SVG text stays text.
        plt.rcParams["svg.fonttype"] = "none"


_vector_output()

# Okabe–Ito palette; the Mg groups low, reference, high take the first three.
PALETTE = ["#D55E00", "#0072B2", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
# Sizes in points for figures about 6.4–7.2 inches wide: scaled to a 400 px phone (about half size) text
# stays near 9 px; on a desktop it is shown at full size.
STYLE = {
    "font.size": 12,
    "axes.titlesize": 12.5,
    "axes.labelsize": 12,
    "xtick.labelsize": 11.5,
    "ytick.labelsize": 11.5,
    "legend.fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 110,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text in SVG stays text (searchable, readable by screen readers)
}


# Text of the forest plot, in points: at 6 inches wide the figure is scaled to about 0.85 on a 400 px
# phone, where 11.5 pt still renders above 9 px (tests/test_browser.py measures it).
FOREST_FONT = 11.5
FOREST_WIDTH = 6.0


FLOW_FONT = 11
# Figures of one panel column are drawn this wide (inches): a 400 px phone shows them at about 0.9 of their
# size, where the smallest text of STYLE (11 pt) still renders at 9 px or more (tests/test_browser.py).
PHONE_SAFE_WIDTH = 5.4


def _box_height(text, figure_height):
    """Height of a flow box in axes units: its lines of text and a margin above and below (inches)."""
    lines = text.count("\n") + 1
    return (lines * FLOW_FONT * 1.3 / 72 + 0.2) / figure_height


def _box(ax, x, y, text, width, face, edge="#333333"):
    height = _box_height(text, ax.figure.get_size_inches()[1])
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.006",
            facecolor=face, edgecolor=edge, linewidth=0.9,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=FLOW_FONT, linespacing=1.3)
    return height


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 0.9})


def _count(value) -> str:
    """A count as text: thousands separated, or as given when it was disclosed as text ('[REDACTED]')."""
    return f"{value:,}" if isinstance(value, (int, np.integer)) else str(value)


def flow_diagram(flow: pd.DataFrame, title: str = "", published: pd.Series | None = None, hide_at_most: int = 0):
    """Draw a participant flow (a frame from :mod:`helpers.analysis.cohort`) as boxes and arrows; return the figure.

    Boxes of kind 'main' form the trunk, 'excluded' boxes stand to the right of the step they leave, and
    'group' boxes close the diagram in one row. With ``published`` (counts indexed by box key), each box
    shows the thesis's count beside this run's. With real data pass the flow through
    ``outputs.flow_counts`` first: its counts are then rounded or redacted text, drawn as they are.
    Counts from 1 to ``hide_at_most`` show as '≤k'.
    """

    def count(row):
        if isinstance(row["n"], str):
            n = f"n = {row['n']}"
        else:
            n = f"n ≤ {hide_at_most}" if 1 <= row["n"] <= hide_at_most else f"n = {row['n']:,}"
        if published is not None and row["key"] in published.index:
            n += f" (thesis {int(published[row['key']]):,})"
        return n

    main = flow[flow["kind"] != "group"].reset_index(drop=True)
    groups = flow[flow["kind"] == "group"]
    n_rows = len(main) + (1 if len(groups) else 0)
    texts = [f"{textwrap.fill(('Excluded: ' if row['kind'] != 'main' else '') + row['label'], 32)}\n{count(row)}"
             for _, row in main.iterrows()]
    lines = max([t.count("\n") + 1 for t in texts] + [2])
    row_inches = lines * FLOW_FONT * 1.3 / 72 + 0.4
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(7.6, row_inches * n_rows + 0.2 + (0.3 if len(groups) else 0)))
    ax.set_position((0, 0, 1, 1))  # axes units are then fractions of the figure, as the box sizes assume
    height_in = fig.get_size_inches()[1]
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    step = row_inches / height_in
    y = 1 - step * 0.5
    trunk_x, side_x = 0.27, 0.74
    last = None  # (y, half height) of the last trunk box
    for (_, row), text in zip(main.iterrows(), texts):
        half = _box_height(text, height_in) / 2
        if row["kind"] == "main":
            if last is not None:
                _arrow(ax, (trunk_x, last[0] - last[1]), (trunk_x, y + half))
            _box(ax, trunk_x, y, text, 0.44, "#E8F1FA")
            last = (y, half)
        else:
            _box(ax, side_x, y, text, 0.46, "#F7F7F7")
            _arrow(ax, (trunk_x, y), (side_x - 0.235, y))
        y -= step
    if len(groups):
        _group_row(ax, [f"{row['label']}\n{count(row)}" for _, row in groups.iterrows()], y - 0.3 / height_in,
                   trunk_x, last[0] - last[1])
    if title:
        ax.set_title(textwrap.fill(title, 70), loc="left", fontsize=12)
    return finish(fig)


def _group_row(ax, texts, y, trunk_x, trunk_bottom):
    """The closing row of group boxes at height ``y``, reached from the trunk by a rail and one arrow each."""
    xs = [0.17, 0.5, 0.83]
    top = y + _box_height("\n", ax.figure.get_size_inches()[1]) / 2  # the group boxes' top edge
    bus = (trunk_bottom + top) / 2
    ax.plot([trunk_x, trunk_x], [trunk_bottom, bus], color="#333333", lw=0.9)
    ax.plot([xs[0], xs[len(texts) - 1]], [bus, bus], color="#333333", lw=0.9)
    for x, text, colour in zip(xs, texts, PALETTE):
        _box(ax, x, y, text, 0.31, "white", edge=colour)
        _arrow(ax, (x, bus), (x, top))


def finish(fig):
    """Detach a finished figure from pyplot and return it.

    A notebook cell that ends with the returned figure displays it exactly once: pyplot no longer holds
    it, so the inline backend does not show it a second time, and its image comes from the cell's value.
    """
    plt.close(fig)
    return fig


# A step curve is drawn through at most this many points, and a scatter of more than MAX_POINTS patients’
# values is drawn as a density of hexagonal bins: what the eye can see at a figure's width, and a page whose
# size does not grow with the cohort. Only the drawing is binned; every estimate comes from all the data.
DISPLAY_STEPS = 400
MAX_POINTS = 5000


def display_steps(curve: pd.DataFrame, steps: int = DISPLAY_STEPS) -> pd.DataFrame:
    """A right-continuous step curve (sorted by ``time``) read at ``steps`` evenly spaced times from its first
    to its last when it has more rows (its value at each of them, every column); unchanged otherwise."""
    if len(curve) <= steps:
        return curve
    t = curve["time"].to_numpy(float)
    grid = np.linspace(t[0], t[-1], steps)
    return curve.iloc[np.searchsorted(t, grid, side="right") - 1].assign(time=grid)


def cumulative_incidence_plot(curves: pd.DataFrame, at_risk: pd.DataFrame, title: str = "", note: str = ""):
    """Step curves of cumulative incidence by group with 95% bands, and the number at risk beneath.

    ``curves`` come from ``survival.cumulative_incidence`` (group, time, cif, lower, upper); ``at_risk``
    from ``survival.number_at_risk`` (rows groups, columns times), whose columns set the time ticks.
    """
    groups = list(dict.fromkeys(curves["group"]))
    with plt.rc_context(STYLE):
        fig, (ax, table) = plt.subplots(
            2, 1, figsize=(PHONE_SAFE_WIDTH, 5.4), gridspec_kw={"height_ratios": [4, 0.45 + 0.32 * len(groups)]}, sharex=True
        )
        for g, colour in zip(groups, PALETTE):
            c = display_steps(curves[curves["group"] == g])
            ax.step(c["time"], c["cif"], where="post", color=colour, lw=1.6, label=f"Mg {g} mg/dL")
            ax.fill_between(c["time"], c["lower"], c["upper"], step="post", color=colour, alpha=0.15, lw=0)
        ax.set_ylabel("Cumulative incidence")
        ax.set_ylim(0, None)
        ax.legend(loc="upper left", frameon=False)
        if title:
            ax.set_title(textwrap.fill(title, 62), loc="left")
        if note:
            ax.text(0.99, 0.02, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=11)
        times = list(at_risk.columns)
        ax.set_xticks(times)
        ax.set_xlim(times[0], times[-1])
        table.set_axis_off()
        table.set_ylim(len(groups) - 0.5, -1.2)
        table.text(0.0, -1.0, "Number at risk", fontsize=11, fontweight="bold", transform=table.get_yaxis_transform())
        for i, (g, colour) in enumerate(zip(groups, PALETTE)):
            table.text(-0.07, i, f"Mg {g}", ha="right", va="center", fontsize=11, color=colour, fontweight="bold",
                       transform=table.get_yaxis_transform())
            for t in times:
                table.text(t, i, _count(at_risk.loc[g, t]), ha="center", va="center", fontsize=11, color=colour)
        table.set_xlabel("Years since enrolment")
        ax.tick_params(labelbottom=True)
        ax.set_xlabel("Years since enrolment")
        fig.tight_layout()
    return finish(fig)


def schoenfeld_plot(ph, terms, labels=None, points: bool = True):
    """Scaled Schoenfeld residuals against the Kaplan–Meier transformed time, with a lowess smooth.

    ``ph`` is the result of ``survival.proportional_hazards_test``. A flat smooth around the coefficient (the
    dashed line) is what proportional hazards predict; a trend suggests a hazard ratio that changes.
    ``points=False`` draws the smooth alone (each point is one patient's event: not for real data). A term
    the model could not hold (a group without patients) gets a panel that says so.
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    scaled, g = ph.scaled_residuals, ph.transformed_time
    labels = labels or {}
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(terms), 1, figsize=(PHONE_SAFE_WIDTH, 3.0 * len(terms)), squeeze=False)
        for ax, term, colour in zip(axes[:, 0], terms, PALETTE):
            if term not in scaled:
                ax.axis("off")
                ax.text(0.5, 0.5, f"{labels.get(term, term)}: not estimable\n(no patient in this group)",
                        ha="center", va="center", transform=ax.transAxes, fontsize=12)
                continue
            y = scaled[term].to_numpy()
            if points and len(y) > MAX_POINTS:
                ax.hexbin(g, y, gridsize=40, mincnt=1, bins="log", cmap="Greys", linewidths=0, rasterized=True)
            elif points:
                ax.scatter(g, y, s=6, color=colour, alpha=0.35, lw=0)
            # delta: local fits 1% of the range apart, interpolated between (lowess is quadratic otherwise)
            smooth = lowess(y, g, frac=0.6, return_sorted=True, delta=0.01 * float(np.ptp(g)) if len(y) > MAX_POINTS else 0.0)
            ax.plot(smooth[:, 0], smooth[:, 1], color="black", lw=1.4)
            beta = float(np.mean(y))
            ax.axhline(beta, color="grey", ls="--", lw=0.9)
            ax.set_title(f"{labels.get(term, term)} (P = {ph.table.at[term, 'p']:.2f})", loc="left", fontsize=12)
            _years_axis(ax, scaled.index.to_numpy(dtype=float), g)
            ax.set_ylabel("β(t), scaled residual")
            low, high = np.percentile(y, [2, 98])
            ax.set_ylim(low - 0.5 * abs(high - low), high + 0.5 * abs(high - low))
        fig.tight_layout()
    return finish(fig)


def _years_axis(ax, times, g):
    """Label the transformed-time axis in years since enrolment: tick k sits where year k falls on it."""
    order = np.argsort(times)
    years = [k for k in range(0, int(np.floor(times.max())) + 1) if k >= times.min() - 1e-9 or k == 0]
    at = [float(np.interp(k, times[order], g[order])) for k in years]
    # Years crowd where few events fall (the transform spaces time by events): keep a tick only when it
    # stands at least 6% of the axis from the last one kept, so that no two labels run together.
    span, kept = (max(at) - min(at)) or 1.0, []
    for k, x in zip(years, at):
        if not kept or x - kept[-1][1] >= 0.06 * span:
            kept.append((k, x))
    ax.set_xticks([x for _, x in kept], [str(k) for k, _ in kept])
    ax.set_xlabel("Years since enrolment")  # spaced by events: the Kaplan–Meier transform


def cif_comparison_plot(observed: pd.DataFrame, implied: pd.DataFrame, title: str = ""):
    """Aalen–Johansen curves by group (solid) beside the curves a Fine–Gray model implies (dashed).

    ``observed`` comes from ``survival.cumulative_incidence`` (group, time, cif); ``implied`` from
    ``survival.fine_gray_cumulative_incidence`` (profile, time, cif), its profiles named by group; a group without implied rows (a curve withheld) gets its solid curve only.
    """
    groups = list(dict.fromkeys(observed["group"]))
    with plt.rc_context(STYLE):
        # Constrained layout with the legend outside, below the x-label: the layout makes room for both, so
        # neither overlaps the other at any width (a legend anchored below the axes ran over the label).
        fig, ax = plt.subplots(figsize=(PHONE_SAFE_WIDTH, 4.4 + 0.25 * 2 * len(groups)), layout="constrained")
        for g, colour in zip(groups, PALETTE):
            o = display_steps(observed[observed["group"] == g])
            ax.step(o["time"], o["cif"], where="post", color=colour, lw=1.5, label=f"Mg {g}: Aalen–Johansen")
            if not (implied["profile"] == g).any():  # withheld (disclosure control): no dashed line
                continue
            m = display_steps(implied[implied["profile"] == g])
            ax.step(m["time"], m["cif"], where="post", color=colour, lw=1.5, ls="--", label=f"Mg {g}: Fine–Gray, Model 4")
        ax.set_xlabel("Years since enrolment")
        ax.set_ylabel("Cumulative incidence")
        ax.set_ylim(0, None)
        fig.legend(frameon=False, ncol=1, loc="outside lower left")
        if title:
            ax.set_title(textwrap.fill(title, 62), loc="left")
    return finish(fig)


def spline_plot(fit, exposure_values, exposure_label: str, title: str = "", rules=None, ratio_label: str = "Odds ratio",
                cutpoints=(), panel: str = ""):
    """A ratio (odds, hazard or subdistribution hazard) along a continuous exposure (a restricted cubic
    spline) with its 95% band, log scale.

    ``fit`` is a ``regression.SplineFit`` or a ``spline.SplineHazards``; ``exposure_values`` are the
    patients' values, drawn beneath as a histogram so the reader sees where the curve rests on data and
    where on few patients; ``cutpoints`` are marked as dashed lines. With active disclosure ``rules`` (real
    data) the bars are rounded counts and bins of few patients are left empty (hatched outline). ``panel``
    names one of several such figures under one caption (the model, say), above the non-linearity test.
    """
    from helpers.report import disclosure
    from helpers.report.formatting import p_value as format_p

    curve = fit.curve
    x = curve.iloc[:, 0]
    ratio = "or" if "or" in curve else "hr"
    with plt.rc_context(STYLE):
        fig, (ax, hist) = plt.subplots(
            2, 1, figsize=(PHONE_SAFE_WIDTH, 4.8), sharex=True, gridspec_kw={"height_ratios": [3.2, 1]}
        )
        ax.fill_between(x, curve["lower"], curve["upper"], color=PALETTE[1], alpha=0.18, lw=0)
        ax.plot(x, curve[ratio], color=PALETTE[1], lw=1.8)
        for cut in cutpoints:
            ax.axvline(cut, color="black", lw=0.9, ls="--", alpha=0.7)
        ax.axhline(1.0, color="grey", lw=0.9, ls="--")
        ax.axvline(fit.reference, color="grey", lw=0.8, ls=":")
        ax.set_yscale("log")
        ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 4, 10, 20) if curve["lower"].min() / 1.5 <= t <= curve["upper"].max() * 1.5]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.yaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_ylabel(f"{ratio_label} (reference {fit.reference:g} mg/dL)")
        values = pd.Series(exposure_values, dtype=float).dropna()
        if disclosure.centile_allowed(disclosure.outer_knot_centile(len(fit.knots)), len(values), rules or disclosure.Rules(active=False)):
            for knot in fit.knots:  # centiles of Mg: with real data only where enough patients lie beyond
                ax.axvline(knot, color=PALETTE[3], lw=0.6, alpha=0.6)
        note = (f"on-linearity: χ² = {fit.nonlinearity_chisq:.2f}, {fit.nonlinearity_df} df, "
                f"P = {format_p(fit.nonlinearity_p)}")
        overall = getattr(fit, "overall", None)  # survival splines also test the association as a whole
        note = f"Overall: P = {format_p(overall.pvalue)}; n{note}" if overall is not None else f"N{note}"
        heading = "\n".join(textwrap.fill(t, 56) for t in (title, panel) if t)
        ax.set_title(f"{heading}\n{note}" if heading else note, loc="left", fontsize=11.5)
        step = 0.1 if np.allclose(values * 10, np.round(values * 10)) else None
        bins = np.arange(values.min() - 0.05, values.max() + 0.1, step) if step else 30
        edges, heights, redacted = disclosure.histogram(values, bins, rules or disclosure.Rules(active=False))
        widths = np.diff(edges)
        hist.bar(edges[:-1], heights, width=widths, align="edge", color="grey", alpha=0.6)
        if redacted.any():
            hist.bar(edges[:-1][redacted], np.full(redacted.sum(), max(heights.max(), 1) * 0.08),
                     width=widths[redacted], align="edge", fill=False, hatch="///", edgecolor="grey", lw=0.5)
        hist.set_ylabel("Patients")
        hist.set_xlabel(exposure_label)
        fig.tight_layout()
    return finish(fig)


def _forest_lines(table: pd.DataFrame) -> list:
    lines = []  # (kind, label, row)
    for subgroup, rows in table.groupby("subgroup", sort=False):
        lines.append(("head", subgroup, rows.iloc[0]))
        lines += [("stratum", r["stratum"], r) for _, r in rows.iterrows()]
    return lines


def forest_plot(table: pd.DataFrame, low_label: str = "<1.8", reference_label: str = "1.8–2.2", title: str = ""):
    """A forest plot in the manner of Figure 2.2.4: one row per stratum under its subgroup, log scale.

    ``table`` comes from ``subgroups.subgroup_analysis``. Laid out for a phone as well as a desktop: three
    columns only (the stratum, the interval on a log scale, the HR (95% CI)), each subgroup's P for
    interaction on its heading line, text large enough to read when the figure is scaled to a narrow
    screen. Patients and events are in the table beside the figure. Strata that cannot be estimated say so.
    """
    from helpers.report.outputs import format_p, format_ratio

    lines = _forest_lines(table)
    n = len(lines)
    est = table[table["estimable"]]
    lo = max(min(est["lower"].min() if len(est) else 0.5, 0.5) / 1.3, 0.02)
    hi = min(max(est["upper"].max() if len(est) else 2.0, 2.0) * 1.3, 200)
    title = textwrap.fill(title, 60) if title else ""
    head = (title.count("\n") + 1) * 0.24 if title else 0.0  # inches kept above the plot for the title
    size, height, width = FOREST_FONT, 0.3 * n + 1.35 + head, FOREST_WIDTH
    # A subgroup's line: P for interaction of the plotted contrast (1 df) and of both Mg groups (2 df).
    right_texts = [f"P {format_p(r.get('p_interaction_low', np.nan)) or '—'} / {format_p(r['p_interaction']) or '—'}"
                   if kind == "head" else
                   format_ratio(r["hr"], r["lower"], r["upper"]) if r["estimable"] else "not estimable"
                   for kind, _, r in lines]
    with plt.rc_context(STYLE | {"font.size": size, "axes.labelsize": size, "xtick.labelsize": size}):
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0.45, 0.87 / height, 0.25, (0.3 * n) / height))
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(n - 0.5, -1.3)
        ax.axvline(1.0, color="grey", lw=0.9)
        ax.spines[["left", "top", "right"]].set_visible(False)
        ax.set_yticks([])
        ax.set_xticks(*_log_ticks(lo, hi))
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xlabel(f"HR, Mg {low_label} vs {reference_label} (log scale)\nP for interaction: 1 df (this contrast) / 2 df")
        fig.canvas.draw()
        place = lambda x, y, text, **kw: fig.text(x, ax.transData.transform((1, y))[1] / fig.dpi / height, text, va="center", fontsize=size, **kw)  # noqa: E731
        labels = [place(0.01, -1.0, "Subgroup", fontweight="bold")]
        for y, (kind, label, _) in enumerate(lines):
            labels.append(place(0.01, y, label, fontweight="bold") if kind == "head" else place(0.04, y, label))
        probes = [place(0, -1.0, text) for text in right_texts + ["HR (95% CI)"]]
        fig.canvas.draw()
        left = max(t.get_window_extent().x1 for t in labels) / fig.dpi / width + 0.02
        text_width = max(t.get_window_extent().width for t in probes) / fig.dpi / width
        for t in probes:
            t.remove()
        text_x = 0.99 - text_width  # the plotting area takes all the width the two text columns leave
        ax.set_position((left, 0.87 / height, text_x - 0.02 - left, (0.3 * n) / height))
        place(text_x, -1.0, "HR (95% CI)", fontweight="bold")
        for y, ((kind, label, r), text) in enumerate(zip(lines, right_texts)):
            if kind == "stratum" and r["estimable"]:
                ax.plot([r["lower"], r["upper"]], [y, y], color="black", lw=1.1)
                ax.plot([r["hr"]], [y], "s", color=PALETTE[0], ms=5)
            grey = kind == "head" or not r["estimable"]
            place(text_x, y, text, color="#444444" if grey else "black", fontstyle="italic" if text == "not estimable" else "normal")
        if title:
            fig.suptitle(title, x=0.01, y=1 - 0.08 / height, ha="left", va="top", fontsize=size + 0.5)
    return finish(fig)


def _log_ticks(lo, hi):
    """Ticks of a narrow log axis, spaced so that their labels do not run together: decades, with 3s
    between them when the axis spans few decades, and halves and doubles when it spans one or less."""
    span = np.log10(hi / lo)
    if span <= 1.2:
        candidates = (0.125, 0.25, 0.5, 1, 2, 4, 8)
    elif span <= 2.3:
        candidates = (0.03, 0.1, 0.3, 1, 3, 10, 30, 100)
    else:
        candidates = (0.01, 0.1, 1, 10, 100)
    ticks = [t for t in candidates if lo <= t <= hi]
    return ticks, [f"{t:g}" for t in ticks]


JITTER_SEED = 20240101  # the strips' horizontal jitter: the same dots in the same places on every build


def _seeded(seed: int, draw, **kwargs):
    """Call ``draw`` with numpy's global generator seeded, then give the caller's generator state back.

    seaborn's strip jitter draws from ``np.random`` (0.13 takes no generator), so without this the dots of a
    figure would move from one build to the next and a page would differ with no change to its inputs.
    """
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return draw(**kwargs)
    finally:
        np.random.set_state(state)


def scatter_dot_plot(values: pd.DataFrame, tests: pd.DataFrame, experiment: str, outcome: str, title: str = ""):
    """Replicates as dots with mean ± SEM and the thesis's marks, in the manner of Figures 3.2.3–3.2.7.

    Drawn with seaborn: the replicates by ``stripplot``, the mean and its standard error by ``pointplot``.
    One panel per day. ``values`` from ``vsmc.ratios``, ``tests`` from ``vsmc.comparisons``; marks are
    those of Student's test (* against control, # against phosphate), as the thesis printed them.
    """
    import seaborn as sns

    from helpers.analysis.vsmc import SHORT, TREATMENTS

    part = values[(values["experiment"] == experiment) & (values["outcome"] == outcome)]
    tests = tests[tests["experiment"] == experiment]
    days = sorted(part["day"].unique())
    with plt.rc_context(STYLE):
        # One panel per day, stacked: side by side, three days would shrink to unreadable text on a phone.
        fig, axes = plt.subplots(len(days), 1, figsize=(3.7, 3.4 * len(days) + 0.4), squeeze=False, sharey=True)
        axes = axes.T
        top = part["value"].max()
        for ax, day in zip(axes[0], days):
            d = part[part["day"] == day].copy()
            arms = [a for a in d["treatment"].cat.categories if (d["treatment"] == a).any()]
            d["arm"] = pd.Categorical(d["treatment"].map(SHORT), categories=[SHORT[a] for a in arms])
            palette = {SHORT[a]: PALETTE[TREATMENTS.index(a) % len(PALETTE)] for a in arms}  # one colour per arm
            _seeded(JITTER_SEED, sns.stripplot, data=d, x="arm", y="value", hue="arm", palette=palette,
                    legend=False, jitter=0.12, size=5, ax=ax, zorder=3)
            sns.pointplot(data=d, x="arm", y="value", errorbar="se", color="black", linestyle="none",
                          marker="_", markersize=18, capsize=0.25, err_kws={"linewidth": 1.2}, ax=ax, zorder=4)
            for i, arm in enumerate(arms):
                y = d.loc[d["treatment"] == arm, "value"].to_numpy()
                sem = y.std(ddof=1) / np.sqrt(len(y))
                t = tests[(tests["outcome"] == outcome) & (tests["day"] == day) & (tests["arm"] == arm)]
                label = " ".join(m for m in t.sort_values("against")["mark"] if m)
                if label:
                    ax.text(i, max(y.max(), y.mean() + sem) + 0.06 * top, label, ha="center", fontsize=12)
            ax.tick_params(axis="x", labelrotation=30)
            plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
            ax.set_xlabel("")
            ax.set_xlim(-0.6, len(arms) - 0.4)
            if len(days) > 1:
                ax.set_title(f"Day {day}", loc="left", fontsize=12)
        unit = part["unit"].iloc[0]
        for ax in axes[0]:
            ax.set_ylabel(textwrap.fill(outcome if unit == "relative to control" else f"{outcome} ({unit})", 22))
        axes[0][0].set_ylim(0, top * 1.25)
        if title:
            fig.suptitle(textwrap.fill(title, int(9 * fig.get_size_inches()[0])), x=0.01, ha="left", fontsize=12.5)
        fig.tight_layout()
    return finish(fig)


def cutpoint_heatmap(sweep: pd.DataFrame, marked=(1.8, 2.2), title: str = ""):
    """Heatmap of the Model 4 hazard ratio of the low-Mg group over pairs of cut-points (seaborn).

    ``sweep`` is :func:`helpers.analysis.models.cutpoint_sensitivity` restricted to one fitter and the low
    group, with ``lower_cut``, ``upper_cut`` and ``hr`` columns. The pair ``marked`` (the thesis's) is outlined.
    """
    import seaborn as sns
    from matplotlib.colors import LogNorm
    from matplotlib.patches import Rectangle

    grid = sweep.pivot(index="lower_cut", columns="upper_cut", values="hr").sort_index(ascending=False)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(5.6, 4.2))
        values = grid.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        span = max(abs(np.log(finite)).max(), np.log(1.5)) if finite.size else np.log(2)
        sns.heatmap(grid, ax=ax, annot=True, fmt=".2f", cmap="RdBu_r", norm=LogNorm(np.exp(-span), np.exp(span)),
                    linewidths=0.5, linecolor="white", annot_kws={"fontsize": 11},
                    cbar_kws={"label": "Hazard ratio, low vs middle Mg (log scale)"})
        ax.set_xlabel("Upper cut-point (mg/dL)")
        ax.set_ylabel("Lower cut-point (mg/dL)")
        ax.set_xticklabels([f"{float(t.get_text()):g}" for t in ax.get_xticklabels()])
        ax.set_yticklabels([f"{float(t.get_text()):g}" for t in ax.get_yticklabels()], rotation=0)
        colorbar = ax.collections[0].colorbar
        ticks = [t for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4) if np.exp(-span) <= t <= np.exp(span)]
        colorbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
        colorbar.ax.minorticks_off()
        for i, j in zip(*np.where(~np.isfinite(values))):  # a pair that leaves a group without events
            ax.text(j + 0.5, i + 0.5, "n/e", ha="center", va="center", color="#777777", fontsize=10)
        if (~np.isfinite(values)).any():
            ax.text(0, -0.3, "n/e: not estimable (a group without events)", transform=ax.transAxes, fontsize=10,
                    color="#555555", va="top")
        rows, cols = list(grid.index), list(grid.columns)
        if marked[0] in rows and marked[1] in cols:
            ax.add_patch(Rectangle((cols.index(marked[1]), rows.index(marked[0])), 1, 1, fill=False, lw=2.5,
                                   edgecolor="black"))
        if title:
            ax.set_title(textwrap.fill(title, 46, break_on_hyphens=False))
        fig.tight_layout()
    return finish(fig)


def standardized_risk_plot(observed: pd.DataFrame, standardized: pd.DataFrame, points: pd.DataFrame, title: str = "",
                           adjustment: str = "Model 4"):
    """Two panels sharing the axes: the Aalen–Johansen curves by group with 95% bands (left), and the
    standardized curves with 95% bands and the risks at the chosen times with their intervals (right).

    ``observed`` and ``standardized`` have ``group, time, cif, lower, upper`` (``survival.cumulative_incidence``
    and ``analysis.beyond.standardized_curves``); ``points`` the risk rows of ``standardized_risks``
    (``time, group, estimate, lower, upper``).
    """
    groups = list(dict.fromkeys(observed["group"]))
    with plt.rc_context(STYLE):
        fig, (left, right) = plt.subplots(2, 1, figsize=(PHONE_SAFE_WIDTH, 7.4), sharex=True, sharey=True)
        for g, colour in zip(groups, PALETTE):
            o = display_steps(observed[observed["group"] == g])
            left.step(o["time"], o["cif"], where="post", color=colour, lw=1.5, label=f"Mg {g}")
            left.fill_between(o["time"], o["lower"], o["upper"], step="post", color=colour, alpha=0.13, lw=0)
            s = standardized[standardized["group"] == g]
            right.plot(s["time"], s["cif"], color=colour, lw=1.5, label=f"Mg {g}")
            right.fill_between(s["time"], s["lower"], s["upper"], color=colour, alpha=0.13, lw=0)
            p = points[points["group"] == g]
            right.errorbar(p["time"], p["estimate"], yerr=[p["estimate"] - p["lower"], p["upper"] - p["estimate"]],
                           fmt="o", color=colour, ms=4, capsize=3, lw=1)
        left.set_title("Observed (Aalen–Johansen)", loc="left", fontsize=12)
        right.set_title(f"Standardized over the cohort ({adjustment})", loc="left", fontsize=12)
        for ax in (left, right):
            ax.set_ylabel("Cumulative incidence")
        right.set_xlabel("Years since enrolment")
        left.tick_params(labelbottom=True)
        left.set_ylim(0, None)
        left.legend(loc="upper left", frameon=False, fontsize=11)
        if title:
            fig.suptitle(textwrap.fill(title, 56), x=0.01, ha="left", fontsize=12)
        fig.tight_layout()
    return finish(fig)


def trace_plot(trace: pd.DataFrame, labels: dict | None = None, title: str = ""):
    """Convergence of the chained equations, as R's ``plot(mice(...))``: for each imputed variable, the mean
    of its imputed values after each cycle, one line per chain. ``trace`` is ``stats.imputation.chain_trace``'s
    frame (``chain, cycle, variable, mean``); ``labels`` names the variables."""
    variables = list(dict.fromkeys(trace["variable"]))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(variables), 1, figsize=(PHONE_SAFE_WIDTH, 2.3 * len(variables) + 0.6),
                                 squeeze=False, sharex=True)
        for ax, variable in zip(axes[:, 0], variables):
            part = trace[trace["variable"] == variable]
            for (chain, lines), colour in zip(part.groupby("chain"), PALETTE):
                ax.plot(lines["cycle"], lines["mean"], color=colour, lw=1.2, marker="o", ms=2.5)
            ax.set_title(textwrap.fill((labels or {}).get(variable, variable), 28), loc="left", fontsize=10)
            ax.set_ylabel("Mean imputed")
        axes[-1][0].set_xlabel("Cycle")
        if title:
            fig.suptitle(textwrap.fill(title, 56), x=0.01, ha="left", fontsize=12)
        fig.tight_layout()
    return finish(fig)
