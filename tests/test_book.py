"""One full build of the book on the default data, and what a build must never do."""

import hashlib
import html
import html.parser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import _sources
from helpers.analysis import subgroup_definitions
from helpers.pipeline import build, execute, params, runs
from helpers import paths

pytestmark = pytest.mark.book


def test_build_reports_each_notebook_and_the_book(built):
    out, result, _ = built
    lines = result.stdout.splitlines()
    notebooks = [d for d in runs.toc_documents() if runs.is_notebook(paths.ROOT / f"{d}.md")]
    for doc in notebooks:
        assert any(re.search(rf"executed {re.escape(doc)} in \d+\.\d s", ln) for ln in lines), doc
        assert any(ln.endswith(f"{doc}: to execute; changed: not in the cache") for ln in lines), doc
    assert lines[-1] == f"The book: {out / 'html' / 'index.html'}"
    assert "Traceback" not in result.stderr
    assert "KeyboardInterrupt" not in result.stderr  # kernels are shut down by request (test_build.py)


def test_every_page_of_the_toc_is_built(built):
    out, _, _ = built
    for doc in runs.toc_documents():
        assert (out / "html" / f"{doc}.html").is_file(), doc


def test_cohort_chapter_shows_the_flow_counts_and_says_the_data_are_synthetic(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "01_cohort.html").read_text(encoding="utf-8")
    assert "Synthetic data" in page and "not the thesis" in page
    for count in ("2,238", "1,646", "916", "901", "886"):
        assert count in page, count
    assert page.count("<img") >= 3, "the three flow diagrams are missing"
    assert "flow_primary.csv" in page


def test_tables_are_written_as_csv(built):
    out, _, _ = built
    flow = pd.read_csv(out / "tables" / "flow_primary.csv")
    assert flow.set_index("Box").loc["analysed", "This run"] == 1646
    for name in ("flow_cac", "flow_pwv", "data_dictionary", "colophon_inputs", "colophon_packages"):
        assert (out / "tables" / f"{name}.csv").is_file(), name


def test_colophon_names_the_parameters_and_hashes_the_data(built):
    out, _, _ = built
    page = (out / "html" / "book" / "colophon.html").read_text(encoding="utf-8")
    digest = hashlib.sha256((paths.DATA / "cohort.csv").read_bytes()).hexdigest()
    assert digest in page
    assert "params/default.yml" in page


def test_sources_are_never_written(built):
    _, _, before = built
    assert _sources() == before
    for doc in runs.toc_documents():
        assert "injected-parameters" not in (paths.ROOT / f"{doc}.md").read_text(encoding="utf-8")
        assert not (paths.ROOT / f"{doc}.ipynb").exists()


def test_data_page_lists_every_parameter_from_the_schema(built):
    out, _, _ = built
    shown = pd.read_csv(out / "tables" / "parameters.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(shown, params.table().astype(str))
    assert list(shown["Parameter"]) == [p.name for p in params.SCHEMA]
    page = (out / "html" / "book" / "data.html").read_text(encoding="utf-8")
    for p in params.SCHEMA:
        assert f">{p.name}</td>" in page, p.name


def test_injected_parameters_stay_out_of_the_html(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "01_cohort.html").read_text(encoding="utf-8")
    assert "tables_dir" not in page and ".next" not in page


def test_a_failed_build_leaves_the_last_good_book(built, tmp_path, cohort_text):
    good, _, _ = built
    out = tmp_path / "out"
    shutil.copytree(good / "html", out / "html")
    index = (out / "html" / "index.html").read_bytes()
    cohort_text.loc[0, "mg"] = "lots"
    bad = tmp_path / "bad.csv"
    cohort_text.to_csv(bad, index=False)
    params_file = tmp_path / "p.yml"
    params_file.write_text(f"cohort_csv: {bad}\n")
    result = subprocess.run(
        [sys.executable, "-m", "helpers.pipeline.build", "--params", str(params_file), "--out", str(out)],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"column 'mg' has values that are not numbers ('lots') at line 2" in result.stderr
    assert (out / "html" / "index.html").read_bytes() == index


def test_a_failing_notebook_is_named_with_its_cell(tmp_path, monkeypatch):
    nb = tmp_path / "broken.md"
    nb.write_text(
        (paths.ROOT / "notebooks" / "01_cohort.md").read_text().replace(
            "the_cohort, analysed = validate.cohorts(params)", "raise ValueError('planted failure')"
        )
    )
    with pytest.raises(build.BuildError) as err:
        execute.execute(nb, tmp_path / "broken.ipynb", "params/default.yml", {}, tmp_path / "tables")
    source = nb.read_text()
    number = source[:source.index("raise ValueError('planted failure')")].count("```{code-cell}")  # counted in the source
    assert f"failed in cell {number} (" in str(err.value) and "planted failure" in str(err.value)
    assert "ValueError: planted failure" in str(err.value)


def test_every_table_written_is_linked_from_a_page(built):
    out, _, _ = built
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "html").rglob("*.html"))
    for table in (out / "tables").glob("*.csv"):
        assert re.search(rf'href="[./]*_downloads/[0-9a-f]+/{re.escape(table.name)}"', pages), f"{table.name} is not linked"


def test_baseline_chapter_shows_table_2_2_1_beside_the_published_one(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "02_baseline.html").read_text(encoding="utf-8")
    assert "Synthetic data" in page
    assert "Table 2.2.1 re-done on the synthetic cohort" in page and "Direction" in page
    for label in ("Age (years)", "Proteinuria (mg/day)", "Glomerulonephritis", "P for trend"):
        assert label in page, label
    table = pd.read_csv(out / "tables" / "baseline.csv")
    assert list(table.columns[:5]) == ["Variable", "Total (n = 1,646)", "<1.8 (n = 37)", "1.8–2.2 (n = 914)", ">2.2 (n = 695)"]
    assert len(table) == 43
    comparison = pd.read_csv(out / "tables" / "baseline_vs_published.csv")
    assert {"Thesis", "This run", "Within tolerance", "Note"} <= set(comparison.columns)
    # Like for like: every printed median [Q1; Q3] stands beside this run's median [Q1–Q3], never a mean ± SD.
    medians = comparison[comparison["Thesis"].str.contains(r"\[", regex=True)]
    assert medians["This run"].str.fullmatch(r"[\d.,]+ \[[\d.,]+–[\d.,]+\]").all()
    shown_as_mean = table.loc[table.iloc[:, 1].astype(str).str.contains("±"), "Variable"]
    noted = set(comparison.loc[comparison["Note"].fillna("") != "", "Row"])
    assert noted == set(shown_as_mean.str.strip())
    cells = comparison[comparison["Column"] != "P for trend"]
    assert f'{int(cells["Within tolerance"].sum())} of {len(cells)}</span> printed cells agree' in page


def test_hazards_chapter_has_its_tables_and_figures(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "03_hazards.html").read_text(encoding="utf-8")
    assert "Synthetic data" in page and "Table 2.2.2, this run beside the thesis" in page
    assert "Gray" in page and "Number at risk" not in page  # the risk table is drawn inside the figure
    assert page.count("<img") >= 2
    for name in ("incidence", "cause_specific", "cumulative_incidence", "proportional_hazards"):
        assert (out / "tables" / f"{name}.csv").is_file(), name
    cs = pd.read_csv(out / "tables" / "cause_specific.csv")
    assert set(cs["model"]) == {"Crude", "Model 1", "Model 2", "Model 3", "Model 4"} and set(cs["term"]) == {"mg_low", "mg_high"}


def test_sensitivity_chapter(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "04_sensitivity.html").read_text(encoding="utf-8")
    assert "Synthetic data" in page and "Table 2.2.3, this run beside the thesis" in page and "Teaching box" in page
    fg = pd.read_csv(out / "tables" / "fine_gray.csv")
    assert set(fg["model"]) == {"Crude", "Model 1", "Model 2", "Model 3", "Model 4"}
    sweep = pd.read_csv(out / "tables" / "cutpoint_sensitivity.csv")
    assert sweep["cut-points"].nunique() == 3 and set(sweep["model"]) == {"Cause-specific (HR)", "Fine–Gray (sHR)"}
    teaching = pd.read_csv(out / "tables" / "km_versus_aalen_johansen.csv")
    assert (teaching["1 − Kaplan–Meier"] >= teaching["Aalen–Johansen"]).all()


def test_every_chapter_says_its_numbers_are_synthetic(built):
    out, _, _ = built
    chapters = [d for d in runs.toc_documents() if d.startswith("notebooks/")]
    assert chapters
    for doc in chapters:
        page = (out / "html" / f"{doc}.html").read_text(encoding="utf-8")
        assert "Synthetic data" in page and "not the thesis" in page, doc


def test_progression_chapter(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "05_progression.html").read_text(encoding="utf-8")
    assert "Figure 2.2.2" in page and "Non-linearity" not in page  # the test result is drawn in the figure
    for name in ("progression_cac", "progression_pwv", "progression_cac_spline", "progression_pwv_spline"):
        assert (out / "tables" / f"{name}.csv").is_file(), name
    cac = pd.read_csv(out / "tables" / "progression_cac.csv")
    assert set(cac["model"]) == {"Model 1", "Model 2", "Model 3", "Model 4"} and (cac["n"] <= 901).all()
    spline = pd.read_csv(out / "tables" / "progression_cac_spline.csv")
    assert spline.loc[(spline["mg"] - 2.0).abs().idxmin(), "or"] == pytest.approx(1.0)


def test_subgroup_chapter(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "06_subgroups.html").read_text(encoding="utf-8")
    assert "<img" in page and "P for interaction" in page
    table = pd.read_csv(out / "tables" / "subgroups.csv")
    declared = subgroup_definitions.SUBGROUPS  # one row per stratum of every declared subgroup, in their order
    assert list(table["subgroup"].unique()) == [s.label for s in declared]
    assert len(table) == sum(len(s.levels) for s in declared)
    assert (table.loc[table["estimable"], "upper"] < 1e4).all()
    assert table.loc[~table["estimable"], "reason"].notna().all()


def test_vsmc_chapter(built):
    out, _, _ = built
    page = (out / "html" / "notebooks" / "07_vsmc.html").read_text(encoding="utf-8")
    assert "illustrative replicates" in page and page.count("<img") >= 5
    tests = pd.read_csv(out / "tables" / "vsmc_tests.csv")
    assert {"student_p", "welch_p", "holm_p", "hedges_g", "g_lower", "g_upper", "mark"} <= set(tests.columns)


def test_sweep_page_fits_the_declared_grid_in_process(built):
    out, result, _ = built
    grid = params.defaults()["sweep_grid"]
    sweep = pd.read_csv(out / "tables" / "sweep.csv")
    expected = {(lo, up) for lo in grid["lower"] for up in grid["upper"] if lo < up}
    assert set(zip(sweep["lower_cut"], sweep["upper_cut"])) == expected
    assert "with cut-points" not in result.stdout  # no papermill re-runs of the hazards chapter
    thesis = sweep[(sweep["lower_cut"] == 1.8) & (sweep["upper_cut"] == 2.2)].iloc[0]
    hazards = pd.read_csv(out / "tables" / "cause_specific.csv")
    model4 = hazards[(hazards["model"] == "Model 4") & (hazards["term"] == "mg_low")].iloc[0]
    assert thesis["hr"] == pytest.approx(model4["hr"], rel=1e-12)  # one mechanism, same fit
    page = (out / "html" / "book" / "sweep.html").read_text(encoding="utf-8")
    heatmap = re.findall(r'<img [^>]*src="\.\./(_images/[0-9a-f]+\.svg)"', page)
    assert heatmap and all((out / "html" / image).stat().st_size > 1000 for image in heatmap)


def test_another_replicate_file_runs_the_vsmc_chapter(tmp_path, cohort_text):
    replicates = pd.read_csv(paths.DATA / "vsmc.csv")
    other = replicates[replicates["treatment"] != "phosphate + 1 mM MgCl2"].copy()
    other["value"] = other["value"] * 3.0
    data = tmp_path / "vsmc.csv"
    other.to_csv(data, index=False)
    execute.execute(paths.ROOT / "notebooks" / "07_vsmc.md", tmp_path / "07_vsmc.ipynb", "params/default.yml",
                    {"vsmc_csv": str(data)}, tmp_path / "tables")
    tests = pd.read_csv(tmp_path / "tables" / "vsmc_tests.csv")
    assert "phosphate + 1 mM MgCl2" not in set(tests["arm"]) and len(tests) > 0


def test_a_second_build_with_no_change_executes_nothing(built, rebuilds_the_shared_book):
    out, _, _ = built
    index = (out / "html" / "index.html").read_bytes()
    second = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(out)], capture_output=True, text=True,
                            cwd=paths.ROOT)
    assert second.returncode == 0 and "nothing changed since the last build" in second.stdout
    assert "executed" not in second.stdout
    assert (out / "html" / "index.html").read_bytes() == index


def _draws_random_numbers(doc: str) -> bool:
    return 'params["seed"]' in (paths.ROOT / f"{doc}.md").read_text(encoding="utf-8")


def test_runs_that_draw_random_numbers_give_byte_identical_tables_in_a_student_edition_of_only_them(built, tmp_path):
    # Determinism, which the cache relies on. Every kernel runs with one BLAS thread and a fixed string hash
    # (helpers.pipeline.execute), so a run's tables can vary only through random draws, and every draw
    # comes from the parameter `seed`: the runs that read it are executed a second time, cold, and their
    # tables must equal the shared build's byte for byte. (The hazards and subgroups estimates are also
    # recomputed, in another process, by tests/test_real_data.py.) The second build is the student edition
    # (--student), which must differ from the book in its solutions alone.
    first, _, _ = built
    stochastic = [d for d in runs.toc_documents() if runs.is_notebook(paths.ROOT / f"{d}.md") and _draws_random_numbers(d)]
    assert {"book/validation", "notebooks/08_beyond"} <= set(stochastic)
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(tmp_path), "--no-cache",
                             "--student", "--only", *stochastic], capture_output=True, text=True, cwd=paths.ROOT)
    assert result.returncode == 0, result.stderr
    assert sum("executed" in line for line in result.stdout.splitlines()) == len(stochastic)
    b = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "tables").rglob("*.csv")}
    a = {name: (first / name).read_bytes() for name in b if (first / name).is_file()}
    assert a.keys() == b.keys() and len(a) > 10
    log = Path("tables") / "disclosure_log.csv"  # gathered from the runs executed: here, some of them
    assert set(b.pop(log).splitlines()) <= set(a.pop(log).splitlines())
    assert [name for name in a if a[name] != b[name]] == []
    book = (first / "html/notebooks/08_beyond.html").read_text(encoding="utf-8")
    student = (tmp_path / "html/notebooks/08_beyond.html").read_text(encoding="utf-8")
    assert 'id="beyond-1"' in student and 'id="beyond-1"' in book
    assert "beyond-1-solution" in book and 'class="solution' in book
    assert "beyond-1-solution" not in student and 'class="solution' not in student
    # Figures too: each SVG's file name is a digest of its content, and none carries a date.
    images = re.compile(r'src="(?:\.\./)*_images/([0-9a-f]+\.svg)"')
    assert images.findall(student) and set(images.findall(student)) == set(images.findall(book))
    assert not any("<dc:date>" in svg.read_text(encoding="utf-8") for svg in (tmp_path / "html/_images").glob("*.svg"))
    # --only: a whole, link-clean book (the build runs Sphinx with -n -W) whose other runs keep their place.
    for doc in runs.toc_documents():
        assert (tmp_path / "html" / f"{doc}.html").is_file(), doc
    left_out = (tmp_path / "html/notebooks/05_progression.html").read_text(encoding="utf-8")
    assert "not executed in this build" in left_out


def test_teaching_layer_and_validation_appendix(built):
    out, _, _ = built
    for doc in [d for d in runs.toc_documents() if d.startswith("notebooks/")]:
        page = (out / "html" / f"{doc}.html").read_text(encoding="utf-8")
        assert "Question." in page and "What it estimates" in page and "Exercises" in page, doc
    appendix = (out / "html" / "book" / "validation.html").read_text(encoding="utf-8")
    assert "Agreement with R" in appendix and "Parameter recovery" in appendix and "own numbers" in appendix
    for name in ("validation_agreement", "validation_recovery", "validation_audit"):
        assert (out / "tables" / f"{name}.csv").is_file(), name


def test_no_page_shows_a_python_warning(built):
    out, _, _ = built
    for page in (out / "html").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"\w+Warning:", text), f"{page.relative_to(out)} shows a warning"


DESIGN_PAGES = {"notebooks/01_cohort": "cohort", "notebooks/02_baseline": "baseline", "notebooks/03_hazards": "hazards",
                "notebooks/04_sensitivity": "sensitivity", "notebooks/05_progression": "progression",
                "notebooks/06_subgroups": "subgroups", "notebooks/07_vsmc": "vsmc", "notebooks/08_beyond": "beyond",
                "book/sweep": "sweep"}


def test_each_results_chapter_says_what_the_synthetic_cohort_fixes(built):
    """The box is generated from data/published/synthetic_design.yml: each declared result of the page is in it."""
    from helpers.report import outputs, published

    out, _, _ = built
    for doc, chapter in DESIGN_PAGES.items():
        page = html.unescape((out / "html" / f"{doc}.html").read_text(encoding="utf-8")).replace("’", "'")
        assert outputs.DESIGN_TITLE in page, doc
        for result in published.design_results(chapter)["result"]:
            assert result in page, (doc, result)


def test_no_page_claims_a_reproduction(built):
    out, _, _ = built
    for path in (out / "html").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(Table|Figure) 2\.\d\.\d, reproduced", text), path.name
        assert "of 152 reproduced" not in text and "figure, the book shows it beside" not in text, path.name


def test_the_landing_page_shows_findings_at_a_glance_with_marks(built):
    out, _, _ = built
    page = (out / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    assert "Findings at a glance" in page and "The default data are synthetic" in page
    table = pd.read_csv(out / "tables" / "findings_at_a_glance.csv")
    assert list(table.columns) == ["Finding", "Thesis", "This run", "Design status"]
    assert {"fixed", "constrained"} <= set(table["Design status"])
    assert page.index("The default data are synthetic") < page.index('id="findings-at-a-glance"')


class _CodeToggles(html.parser.HTMLParser):
    """Counts the "Show code cell source" toggles (myst-nb's ``details.hide.above-input``) of each section of a
    page, a toggle belonging to the innermost section that holds it, as a reader sees it under that heading."""

    def __init__(self):
        super().__init__()
        self.open, self.counts = [], {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.open.append(attrs.get("id", "?"))
        elif tag == "details" and {"hide", "above-input"} <= set((attrs.get("class") or "").split()) and self.open:
            self.counts[self.open[-1]] = self.counts.get(self.open[-1], 0) + 1

    def handle_endtag(self, tag):
        if tag == "section" and self.open:
            self.open.pop()


def code_toggles_per_section(page: str) -> dict:
    """``{section id: toggles}`` of an HTML page, for the sections with more than one code toggle."""
    parser = _CodeToggles()
    parser.feed(page)
    return {section: n for section, n in parser.counts.items() if n > 1}


def test_code_toggles_per_section_are_counted():
    """The counter itself, on a page made by hand: a subsection's toggle is its own, not its parent's."""
    toggle = '<div class="cell tag_hide-input"><details class="admonition hide above-input"><summary>Show</summary></details></div>'
    page = f'<article><section id="a">{toggle}<section id="b">{toggle}{toggle}</section>{toggle}</section></article>'
    assert code_toggles_per_section(page) == {"a": 2, "b": 2}
    assert code_toggles_per_section(f'<section id="a">{toggle}<section id="b">{toggle}</section></section>') == {}


def test_no_section_shows_more_than_one_code_toggle(built):
    """Code is shown where it teaches, at most once a section (issue 29); the rest of a page's cells show only
    their output, and no download is offered "when computed"."""
    out, _, _ = built
    crowded, hedged = {}, []
    for page in sorted((out / "html").rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if many := code_toggles_per_section(text):
            crowded[str(page.relative_to(out))] = many
        if "when computed" in text:
            hedged.append(str(page.relative_to(out)))
    assert crowded == {}, f"sections with more than one code toggle: {crowded}"
    assert hedged == [], f"pages that offer a download 'when computed': {hedged}"
