"""Teaching material: exercises with solutions on every executed page, one parameters file per exercise
that changes a setting, learning objectives and the glossary. The --only and --student builds are checked
on tests/test_book.py's second build of the pages that draw random numbers."""

import ast
import inspect
import re

import nbformat
import pytest
import yaml

from helpers import paths
from helpers.pipeline import build, params, runs

EXERCISE_FILES = sorted(paths.EXERCISES.glob("*.yml"))
# Every chapter of _toc.yml (a page under notebooks/) must have exercises; other pages may, and are checked
# when they do. Derived from the table of contents, so a new chapter is covered without being listed here.
CHAPTERS = [paths.ROOT / f"{doc}.md" for doc in runs.toc_documents() if doc.startswith("notebooks/")]
PAGES = [*CHAPTERS, *[paths.ROOT / f"{doc}.md" for doc in runs.toc_documents() if not doc.startswith("notebooks/")
                      and "```{exercise}" in (paths.ROOT / f"{doc}.md").read_text(encoding="utf-8")]]
EXERCISE = re.compile(r"```\{exercise\}\n:label: ([\w-]+)\n")
SOLUTION = re.compile(r"```\{solution\} ([\w-]+)\n:label: ([\w-]+)\n:class: dropdown\n")


def _directive(text: str, label: str, kind: str = "exercise") -> str:
    start = text.index(f"```{{{kind}}}\n:label: {label}\n" if kind == "exercise" else f"```{{solution}} {label}\n")
    return text[start:text.index("\n```\n", start + 4)]


def test_there_are_exercise_files_and_pages():
    assert len(EXERCISE_FILES) >= 5
    assert len(CHAPTERS) >= 8 and {p.stem for p in PAGES} >= {"sweep", "validation"}


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=lambda p: p.name)
def test_every_exercise_file_loads_and_changes_a_few_settings(path):
    loaded = params.load(path)  # raises InputError on an unknown or bad parameter
    given = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert 1 <= len(given) <= 3, "an exercise sets a few parameters; the rest stay at their defaults"
    defaults = params.defaults()
    assert any(loaded[k] != defaults[k] for k in given), f"{path.name} changes nothing"
    assert all(loaded[k] == defaults[k] for k in defaults if k not in given)


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=lambda p: p.name)
def test_every_exercise_file_belongs_to_one_page_and_its_exercise_names_it(path):
    word = path.stem.rsplit("-", 1)[0]
    chosen, _ = runs.plan((word,))
    assert len(chosen) == 1, f"--only {word} must pick exactly one page, picks {[r.doc for r in chosen]}"
    text = chosen[0].source.read_text(encoding="utf-8")
    exercise = _directive(text, path.stem)
    assert f"params/exercises/{path.name}" in exercise
    assert f"params_mod.exercise(\"{path.stem}\"" in text or "params_mod.exercise(name" in text, \
        "the solution's numbers must come from a run of the exercise's settings"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_page_has_numbered_exercises_each_with_a_hidden_solution(page):
    text = page.read_text(encoding="utf-8")
    labels = EXERCISE.findall(text)
    assert len(labels) >= 2
    word = page.stem.split("_", 1)[-1]
    assert all(re.fullmatch(rf"{word}-\d+", label) for label in labels), labels
    solved = {ex: sol for ex, sol in SOLUTION.findall(text)}
    assert set(solved) == set(labels), "every exercise has one solution, in a dropdown"
    assert all(sol == f"{ex}-solution" for ex, sol in solved.items())
    for label in labels:
        mentioned = re.findall(r"params/exercises/([\w-]+)\.yml", _directive(text, label))
        for name in mentioned:
            assert (paths.PARAMS / "exercises" / f"{name}.yml").is_file(), name
    assert not re.search(r"^1\. ", text.split("## Exercises")[-1], flags=re.M), "the old numbered list is back"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_solutions_glue_their_numbers(page):
    text = page.read_text(encoding="utf-8")
    for _, label in SOLUTION.findall(text):
        body = _directive(text, label.removesuffix("-solution"), "solution")
        digits = re.sub(r"\{glue:text\}`[^`]*`|`[^`]*`|\{[a-z]+\}`[^`]*`", "", body)
        typed = re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", digits)
        assert not [t for t in typed if t not in ("0.05", "0.001", "0.1", "1.8", "1.9", "2.0", "2.2", "2.4", "1.7",
                                                  "1.75", "1.85")], f"{label}: typed numbers {typed}"
        if "{glue:text}" not in body:
            pytest.fail(f"{label} quotes no number from the run")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_learning_objectives_follow_the_banner(chapter):
    text = chapter.read_text(encoding="utf-8")
    banner = re.search(r"outputs\.(vsmc_)?banner\(params\)\n```\n\n", text)
    assert banner, "no banner cell"
    assert text[banner.end():].startswith("```{admonition} Learning objectives\n")


def test_glossary_has_the_terms_and_chapters_link_them():
    text = (paths.ROOT / "book/glossary.md").read_text(encoding="utf-8")
    block = text[text.index("```{glossary}"):]
    terms = re.findall(r"^(\S[^\n]*)\n  \S", block, flags=re.M)
    assert len(terms) >= 20
    for needed in ("Cause-specific hazard", "Subdistribution hazard", "Cumulative incidence", "Competing risk",
                   "Aalen–Johansen estimator", "Gray's test", "Jonckheere–Terpstra test", "Restricted cubic spline",
                   "Person-years", "Proportional hazards", "Schoenfeld residual", "Interaction", "Complete-case analysis"):
        assert needed in terms, needed
    for chapter in CHAPTERS:
        assert "{term}`" in chapter.read_text(encoding="utf-8"), chapter.name


def test_licences_are_stated():
    readme = (paths.ROOT / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme and "CC BY 4.0" in readme
    assert "MIT License" in (paths.ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (paths.ROOT / "LICENSE-text").read_text(encoding="utf-8")
    intro = (paths.ROOT / "book/intro.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in intro and "MIT" in intro


def test_student_edition_sets_hide_solutions(tmp_path):
    config = tmp_path / "_config.yml"
    for student in (False, True):
        config.write_text(paths.CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
        build._configure(config, "", student)
        assert yaml.safe_load(config.read_text())["sphinx"]["config"]["hide_solutions"] is student
    assert "sphinx_exercise" in yaml.safe_load(paths.CONFIG.read_text())["sphinx"]["extra_extensions"]


def _glued(notebook, key: str) -> str:
    """The text a page shows for ``{glue:text}`key```: the glued output's plain-text value."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("metadata", {}).get("scrapbook", {}).get("name") == key:
                return next(v for mime, v in output["data"].items() if mime.endswith("text/plain")).strip("'")
    raise KeyError(key)


@pytest.mark.book
def test_an_exercise_run_gives_the_number_its_solution_predicts(tmp_path):
    """`mg-book --params params/exercises/hazards-1.yml --only hazards`, executed as the build executes it:
    in the solution, this run's hazard ratio and the one the exercise's settings give are the same number.
    (What `--only` builds around the chapter is checked on tests/test_book.py's --only build.)"""
    from helpers.pipeline import execute

    target = tmp_path / "03_hazards.ipynb"
    execute.execute(paths.ROOT / "notebooks/03_hazards.md", target, "params/exercises/hazards-1.yml", {}, tmp_path / "tables")
    notebook = nbformat.read(target, as_version=4)
    this_run, predicted = _glued(notebook, "m4_low"), _glued(notebook, "ex_hz1_m4")
    assert re.fullmatch(r"[\d.]+ \([\d.]+–[\d.]+\)", this_run) and this_run == predicted
    assert _glued(notebook, "ex_hz_n") == _glued(notebook, "ex_hz1_n")
    solution = _directive((paths.ROOT / "notebooks/03_hazards.md").read_text(encoding="utf-8"), "hazards-1", "solution")
    assert "{glue:text}`m4_low`" in solution and "{glue:text}`ex_hz1_m4`" in solution
    # The exercise changes a setting, so "your run should show" is not the default run's number by construction.
    assert params.load(paths.PARAMS / "exercises" / "hazards-1.yml")["mg_cutpoints"] != params.load()["mg_cutpoints"]


def test_a_run_left_out_by_only_keeps_its_title_and_labels(tmp_path):
    run = next(r for r in runs.plan()[0] if r.doc == "notebooks/03_hazards")
    build._placeholder(run, tmp_path, ("cohort",))
    page = (tmp_path / "notebooks/03_hazards.md").read_text(encoding="utf-8")
    assert page.startswith("# Magnesium and the composite outcome\n")
    assert "mg-book --only cohort" in page
    for label in ("hazards-1", "hazards-1-solution", "hazards-2"):
        assert f"({label})=" in page


def test_only_reuses_a_left_out_run_only_when_its_cache_is_current(tmp_path):
    from helpers.pipeline import cache as cache_mod

    run = next(r for r in runs.plan()[0] if r.doc == "notebooks/01_cohort")
    settings = params.load()
    data = cache_mod.data_digests(settings)
    notebook, tables = tmp_path / "nb.ipynb", tmp_path / "tables"
    notebook.write_text("{}")
    cache_mod.store(tmp_path / "cache", run, cache_mod.run_key(run, settings, data), notebook, tables)
    assert build._reusable([run], tmp_path / "cache", settings, data) == ([run], [])
    other = params.load(paths.PARAMS / "exercises" / "cohort-2.yml")
    assert build._reusable([run], tmp_path / "cache", other, cache_mod.data_digests(other)) == ([], [run])


@pytest.mark.book
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_students_see_each_exercise_by_the_label_the_teacher_uses(built, page):
    """The teachers page and the parameters files name exercises by label; the built page heads each exercise
    'Exercise hazards-1' and its solution 'Solution to Exercise hazards-1', with no running number beside it
    (the local extension _ext/exercise_labels.py), and the teachers page's links to exercises say the same."""
    out, _, _ = built
    html = (out / "html" / page.relative_to(paths.ROOT).with_suffix(".html")).read_text(encoding="utf-8")
    labels = EXERCISE.findall(page.read_text(encoding="utf-8"))
    for label in labels:
        heading = re.search(rf'<div class="[^"]*\bexercise\b[^"]*" id="{re.escape(label)}">\s*<p class="admonition-title">(.*?)</p>',
                            html, flags=re.S)
        assert heading and re.sub(r"<[^>]+>", "", heading.group(1)).strip() == f"Exercise {label}", (label, heading)
        assert re.search(rf'Solution to<a [^>]*href="#{re.escape(label)}"[^>]*> Exercise {re.escape(label)}</a>', html), label
    assert not re.search(r'caption-number">Exercise \d', html), "an exercise still shows a running number"
    teachers = (out / "html" / "book" / "teachers.html").read_text(encoding="utf-8")
    for label in re.findall(r"\{ref\}`[^`<]*<([\w-]+)>`", (paths.ROOT / "book" / "teachers.md").read_text(encoding="utf-8")):
        if label in labels:
            assert re.search(rf'href="[^"]*#{re.escape(label)}"[^>]*><span class="std std-ref">Exercise {re.escape(label)}</span>',
                             teachers), f"the teachers page's link to {label} does not read 'Exercise {label}'"


@pytest.mark.book
def test_the_teachers_page_describes_the_launch_route_this_build_shows(built):
    out, _, _ = built
    teachers = (out / "html" / "book" / "teachers.html").read_text(encoding="utf-8")
    chapter = (out / "html" / "notebooks" / "03_hazards.html").read_text(encoding="utf-8")
    launches = "mybinder.org/v2/" in chapter
    assert ("launch button (the rocket)" in teachers) == launches
    assert ("carry no launch button" in teachers) == (not launches)


def test_an_exercise_is_computed_as_the_students_command_runs_it(tmp_path):
    # `mg-book --params params/exercises/NAME.yml` loads that file over the defaults, on the data it names:
    # the solution's parameters are those, whatever file this run was built from.
    for path in EXERCISE_FILES:
        settings, given = params.exercise(path.stem)
        student = params.load(path)
        assert given == student and all(given[k] == v for k, v in settings.items())
    assert list(inspect.signature(params.exercise).parameters) == ["name"]  # no run's file or overrides to mix in


def _calls(tree, name):
    return [c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == name]


def test_the_subgroup_solution_is_adjusted_as_the_main_analysis():
    calls = _calls(runs._code(paths.ROOT / "notebooks/06_subgroups.md"), "subgroup_analysis")
    assert len(calls) == 2
    for call in calls:
        adjustment = next(k.value for k in call.keywords if k.arg == "adjustment")
        assert isinstance(adjustment, ast.Subscript) and adjustment.slice.value == "subgroup_adjustment"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_an_exercise_never_reuses_the_runs_analysed_cohort(page):
    # After a page loads an exercise's parameters, the data it computes the solution on come from them.
    tree = runs._code(page)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == "analysed" for a in node.args):
            named = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            assert not any(n.startswith("ex") and n.endswith("params") for n in named), (page.stem, ast.unparse(node))
