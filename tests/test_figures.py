"""Figures a reader can read: on a phone, with group names rather than colours alone, arrows that start at
the boxes' edges (issue 18). They draw the shipped synthetic cohort."""

import matplotlib

matplotlib.use("Agg")  # a test process, not a notebook

import pytest
from matplotlib.patches import FancyBboxPatch

from helpers.analysis import cohort, subgroups, models, vsmc
from helpers.pipeline import params as params_mod, validate
from helpers.report import figures, published
from helpers import survival


@pytest.fixture(scope="module")
def data():
    params = params_mod.load("params/default.yml", {})
    the_cohort, analysed = validate.cohorts(params)
    return params, the_cohort, analysed


def test_flow_arrows_start_and_end_outside_the_boxes(data):
    params, _, analysed = data
    fig = figures.flow_diagram(cohort.cac_flow(analysed, params["mg_cutpoints"]), "CAC flow",
                               published.flow().set_index("key")["n"])
    ax = fig.axes[0]
    boxes = [p.get_bbox() for p in ax.patches if isinstance(p, FancyBboxPatch)]
    ends = [pt for a in ax.texts if hasattr(a, "xyann") for pt in (a.xy, a.xyann)]
    assert ends
    inside = [pt for pt in ends for b in boxes if b.x0 + 1e-3 < pt[0] < b.x1 - 1e-3 and b.y0 + 1e-3 < pt[1] < b.y1 - 1e-3]
    assert inside == [], f"arrow ends inside a box: {inside}"
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for patch, text in zip([p for p in ax.patches if isinstance(p, FancyBboxPatch)], [t for t in ax.texts if t.get_text()]):
        box, ink = patch.get_window_extent(renderer), text.get_window_extent(renderer)
        assert box.y0 + 4 < ink.y0 and ink.y1 < box.y1 - 4, f"text touches its box: {text.get_text()!r}"
        assert box.x0 + 4 < ink.x0 and ink.x1 < box.x1 - 4, f"text runs over its box's side: {text.get_text()!r}"


def test_the_number_at_risk_rows_are_named(data):
    params, _, analysed = data
    curves = survival.cumulative_incidence(analysed, "followup_years", "status", cause=1, group="mg_group")
    at_risk = survival.number_at_risk(analysed, "followup_years", [0, 2, 4, 6], group="mg_group")
    fig = figures.cumulative_incidence_plot(curves, at_risk)
    names = {t.get_text() for t in fig.axes[1].texts}
    assert {f"Mg {g}" for g in at_risk.index} <= names


def test_the_forest_plot_is_legible_on_a_phone_with_room_to_plot(data):
    params, _, analysed = data
    table = subgroups.subgroup_analysis(analysed, "followup_years", "status", models.covariates("Model 4"),
                                        params["subgroup_cutoffs"], cutpoints=params["mg_cutpoints"])
    fig = figures.forest_plot(table)
    sizes = [t.get_fontsize() for t in fig.texts] + [t.get_fontsize() for t in fig.axes[0].get_xticklabels()]
    assert min(sizes) >= figures.FOREST_FONT
    assert _smallest_on_a_phone(fig) >= 9
    # The plotting area is a real share of the figure (it was 1.25 inches, some 90 px on a phone), and its
    # label stays inside the figure.
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_position().width * fig.get_size_inches()[0] >= 1.6
    label, box = ax.xaxis.label.get_window_extent(), fig.bbox
    assert box.x0 <= label.x0 and label.x1 <= box.x1


PHONE_PX = 352  # a figure's width on a 400 px phone (the article less the figure's margins)


def _smallest_on_a_phone(fig) -> float:
    """The smallest text of a figure in CSS px when a 400 px phone shows it: a figure w inches wide is drawn
    at 96 w px, shrunk to the article's width when wider; text of s points is s/72 inch of that figure."""
    width = fig.get_size_inches()[0]
    texts = [t for t in fig.findobj(lambda o: hasattr(o, "get_fontsize") and hasattr(o, "get_text")) if t.get_text().strip()]
    return min(t.get_fontsize() for t in texts) * min(PHONE_PX, 96 * width) / (72 * width)


def test_multi_panel_figures_stack_and_stay_legible_on_a_phone(data):
    params, _, analysed = data
    ph = survival.proportional_hazards_test(analysed, "followup_years", "status", models.covariates("Model 1"))
    schoenfeld = figures.schoenfeld_plot(ph, ["mg_low", "mg_high"])
    values = vsmc.ratios(validate.load_vsmc(params["vsmc_csv"]))
    days = figures.scatter_dot_plot(values, vsmc.comparisons(values), "nfkb_time", "p-p65/p65/β-actin")
    for fig in (schoenfeld, days):
        lefts = {round(ax.get_position().x0, 2) for ax in fig.axes}
        assert len(lefts) == 1, "panels side by side"
        assert _smallest_on_a_phone(fig) >= 9, _smallest_on_a_phone(fig)


def test_schoenfeld_plots_are_read_in_years(data):
    _, _, analysed = data
    ph = survival.proportional_hazards_test(analysed, "followup_years", "status", models.covariates("Model 1"))
    fig = figures.schoenfeld_plot(ph, ["mg_low"])
    assert fig.axes[0].get_xlabel().startswith("Years since enrolment")
    assert "KM" not in fig.axes[0].get_xlabel()


def test_the_cell_experiment_dots_are_seaborn_strips(data):
    params, _, _ = data
    values = vsmc.ratios(validate.load_vsmc(params["vsmc_csv"]))
    fig = figures.scatter_dot_plot(values, vsmc.comparisons(values), "calcium", "Calcium content")
    ax = fig.axes[0]
    assert len(ax.collections) >= 4  # one strip of dots per arm
    assert [t.get_text() for t in ax.get_xticklabels()][:2] == ["CTL", "Pi"]


def test_the_strips_jitter_the_same_way_on_every_build_and_leave_the_callers_generator_alone(data):
    import numpy as np

    params, _, _ = data
    values = vsmc.ratios(validate.load_vsmc(params["vsmc_csv"]))
    tests = vsmc.comparisons(values)

    def dots(seed):
        np.random.seed(seed)  # a kernel forked from the build's zygote starts from a fresh global state
        fig = figures.scatter_dot_plot(values, tests, "calcium", "Calcium content")
        after = np.random.random()
        return [c.get_offsets().copy() for c in fig.axes[0].collections], after

    first, after_first = dots(1)
    second, after_second = dots(2)
    assert len(first) == len(second) >= 4
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert any(np.ptp(np.asarray(a)[:, 0]) > 0 for a in first)  # jittered at all
    np.random.seed(1)
    assert after_first == np.random.random() and after_second != after_first  # the caller's draws unchanged


def _svg_bytes(fig) -> int:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    return len(buffer.getvalue())


def test_display_steps_read_the_step_function_where_they_draw_it():
    import numpy as np
    import pandas as pd

    t = np.sort(np.random.default_rng(1).uniform(0, 9, 5000))
    curve = pd.DataFrame({"time": t, "cif": np.linspace(0, 0.4, len(t))})
    shown = figures.display_steps(curve)
    assert len(shown) == figures.DISPLAY_STEPS and shown["time"].iloc[[0, -1]].tolist() == [t[0], t[-1]]
    np.testing.assert_array_equal(shown["cif"], survival.at_times(curve, shown["time"], "cif"))
    assert figures.display_steps(curve.iloc[:100]) is not None and len(figures.display_steps(curve.iloc[:100])) == 100


def test_figures_do_not_grow_with_the_cohort():
    # A cohort of 2,000 and one of 200,000 patients: the same curves' figure and the same residual plot.
    import numpy as np
    import pandas as pd

    sizes = {}
    for n in (2_000, 200_000):
        rng = np.random.default_rng(2)
        d = pd.DataFrame({"time": np.round(rng.exponential(5, n), 3) + 0.001, "status": rng.choice([0, 1, 2], n),
                          "g": rng.choice(["a", "b"], n), "x": rng.normal(size=n)})
        d["time"] = d["time"].clip(upper=9)
        curves = survival.cumulative_incidence(d, "time", "status", group="g")
        at_risk = survival.number_at_risk(d, "time", [0, 3, 6, 9], group="g")
        ph = survival.proportional_hazards_test(d.assign(x2=rng.normal(size=n)), "time", "status", ["x", "x2"])
        sizes[n] = (_svg_bytes(figures.cumulative_incidence_plot(curves, at_risk)),
                    _svg_bytes(figures.schoenfeld_plot(ph, ["x", "x2"])))
    for small, large in zip(sizes[2_000], sizes[200_000]):
        assert large < 1.5 * small + 200_000, sizes


def _overlap(a, b) -> bool:
    """Whether two window extents (display boxes) share any area."""
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_the_fine_gray_curves_legend_clears_the_axis_label(data):
    """Chapter 4's figure: the legend under the plot ran over 'Years since enrolment'. Drawn as the page
    draws it (the layout is the same at every width: the SVG is scaled whole), the legend's box meets neither
    the x-label nor a tick label, and stays inside the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    _, _, analysed = data
    observed = survival.cumulative_incidence(analysed, "followup_years", "status", cause=1, group="mg_group")
    # The layout depends on the labels, not on the model: any curve per group draws the same legend.
    implied = observed.rename(columns={"group": "profile"}).assign(cif=lambda d: 0.9 * d["cif"])
    fig = figures.cif_comparison_plot(observed, implied)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    legend = (fig.legends or [fig.axes[0].get_legend()])[0].get_window_extent(renderer)
    ax = fig.axes[0]
    label = ax.xaxis.label.get_window_extent(renderer)
    assert ax.get_xlabel() == "Years since enrolment"
    assert not _overlap(legend, label), (legend, label)
    assert not any(_overlap(legend, t.get_window_extent(renderer)) for t in ax.get_xticklabels() if t.get_text())
    assert not _overlap(legend, ax.get_window_extent(renderer))
    assert fig.bbox.x0 <= legend.x0 and legend.x1 <= fig.bbox.x1 and fig.bbox.y0 <= legend.y0


def _figure_calls(path):
    """Each call ``figures.NAME(...)`` in the code cells of a book page, as (name, ast.Call)."""
    import ast

    import jupytext

    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "figures"):
                yield node.func.attr, node


def test_no_figure_of_the_book_carries_a_title_of_its_own():
    """Issue 29: a figure's title is its numbered caption. Every call of a figure helper on a book page is
    bound to the helper's signature; its ``title`` must be left empty (panel titles are another argument)."""
    import ast
    import inspect
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pages = [p for p in sorted((root / "notebooks").glob("*.md")) + sorted((root / "book").glob("*.md"))
             if "```{code-cell}" in p.read_text(encoding="utf-8")]  # the executed pages, not prose pages
    seen, titled = 0, []
    for page in pages:
        for name, call in _figure_calls(page):
            signature = inspect.signature(getattr(figures, name))
            if "title" not in signature.parameters:
                continue
            seen += 1
            stand_in = [ast.unparse(a) for a in call.args]  # the arguments' source stands in for their values
            bound = signature.bind_partial(*stand_in, **{k.arg: ast.unparse(k.value) for k in call.keywords if k.arg})
            if bound.arguments.get("title", "''") not in ("''", '""'):
                titled.append(f"{page.name}: figures.{name} with title {bound.arguments['title']}")
    assert seen >= 10  # the scan found the book's figures
    assert titled == []
