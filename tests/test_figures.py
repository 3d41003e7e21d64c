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


def test_the_forest_plot_is_narrow_and_its_text_large(data):
    params, _, analysed = data
    table = subgroups.subgroup_analysis(analysed, "followup_years", "status", models.covariates("Model 4"),
                                        params["subgroup_cutoffs"], cutpoints=params["mg_cutpoints"])
    fig = figures.forest_plot(table)
    assert fig.get_size_inches()[0] <= 5.0
    sizes = [t.get_fontsize() for t in fig.texts] + [t.get_fontsize() for t in fig.axes[0].get_xticklabels()]
    assert min(sizes) >= figures.FOREST_FONT


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
