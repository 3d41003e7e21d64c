"""The runs a build executes, declared: each page of ``_toc.yml`` that is a notebook is one run.

A :class:`Run` names the notebook, the overrides it runs with (empty for a chapter; a derived run, such as
an exercise, changes some parameters), and the inputs its result depends on. The build plans from this
list and nothing else; the cache keys a run by exactly these declared inputs plus the helper modules the
notebook imports, found on disk (:func:`helper_modules`).
"""

import ast
import functools
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import yaml

from helpers import paths

# Book sources copied into the staging folder besides the pages the table of contents lists.
EXTRA_SOURCES = ("_config.yml", "_toc.yml", "references.bib", "_static", "_ext", "data/template_cohort.csv",
                 "data/cohort.csv", "data/vsmc.csv")

# Inputs a page depends on besides the parameters file and the data it names: the validation appendix
# recomputes its agreement table from the golden fixtures.
EXTRA_INPUTS = {"book/validation": ("tests/golden",)}

# Parameters a page checks against the data or the network before it computes anything: the build makes
# the same checks before it starts any notebook (helpers.pipeline.validate.PREFLIGHT), so that such bad input
# stops it within seconds with the page's own one message.
PREFLIGHT = {"notebooks/08_beyond": ("risk_times", "dask_scheduler"), "book/sweep": ("dask_scheduler",)}

# The pages that take longest, longest first (bench/build.py, on the shipped cohort and on 10^6 patients): a
# build starts them before the others, so that the last pages to run are short ones and no core idles while
# one long page finishes alone (on 10^6 patients "Beyond the thesis" alone is as long as half the book).
LONGEST_FIRST = ("notebooks/08_beyond", "book/sweep", "notebooks/06_subgroups", "notebooks/04_sensitivity",
                 "notebooks/03_hazards")


def start_order(run: "Run") -> int:
    """Where ``run`` starts among a build's runs: the longest first (:data:`LONGEST_FIRST`), then reading
    order (a sort on this key is stable)."""
    return LONGEST_FIRST.index(run.doc) if run.doc in LONGEST_FIRST else len(LONGEST_FIRST)


@dataclass
class Run:
    """One notebook execution: the page, the overrides it runs with, the files its result depends on."""

    doc: str
    overrides: dict = field(default_factory=dict)
    inputs: tuple[str, ...] = ()

    @property
    def source(self) -> Path:
        return paths.ROOT / f"{self.doc}.md"

    @property
    def name(self) -> str:
        return self.doc


def toc_documents() -> list[str]:
    """Every document of ``_toc.yml`` in reading order, as paths without suffix relative to the root."""
    with open(paths.TOC, encoding="utf-8") as fh:
        toc = yaml.safe_load(fh)
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


def is_notebook(source: Path) -> bool:
    """A text file is a notebook to execute when its jupytext header names a kernel."""
    text = source.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return False
    return "kernelspec:" in text.split("---", 2)[1]


def plan(only: tuple[str, ...] = ()) -> tuple[list[Run], list[str]]:
    """The runs (notebook pages) and plain pages of the book, in reading order.

    ``only`` keeps the runs whose page name contains one of the given words (``mg-book --only hazards``);
    plain pages are always kept so that the book's links resolve.
    """
    runs, pages = [], []
    for doc in toc_documents():
        source = paths.ROOT / f"{doc}.md"
        if not source.is_file():
            raise FileNotFoundError(f"_toc.yml lists {doc}, but {paths.shown(source)} does not exist.")
        if is_notebook(source):
            runs.append(Run(doc, inputs=EXTRA_INPUTS.get(doc, ())))
        else:
            pages.append(doc)
    if only:
        runs = [r for r in runs if any(word in r.doc for word in only)]
    return runs, pages


def _imports(tree: ast.AST, package: str | None) -> set[str]:
    """Absolute names of the modules an AST imports (``from helpers.x import y`` yields helpers.x and
    helpers.x.y, since y may be a module)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


@functools.lru_cache(maxsize=None)
def _module_imports(text: str, package: str) -> frozenset[str]:
    return frozenset(_imports(ast.parse(text), package))


@functools.lru_cache(maxsize=None)
def _helpers_file(name: str) -> Path | None:
    """The source file of a module of the ``helpers`` package, or None for anything else (such as a function
    imported from a module). Found on disk, without importing anything: importing the helpers to ask where
    they are (``importlib.util.find_spec``) loaded pandas, scipy and statsmodels, seconds of every no-change
    rebuild."""
    if not (name == "helpers" or name.startswith("helpers.")):
        return None
    base = Path(paths.__file__).parent.joinpath(*name.split(".")[1:])
    for path in (base / "__init__.py", base.with_suffix(".py")):
        if path.is_file():
            return path
    return None


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> ast.Module:
    """The code cells of a notebook's text, parsed (IPython's magics and shell lines left out)."""
    notebook = jupytext.reads(text, fmt="md:myst")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    return ast.parse("\n".join(ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))))


def _code(source: Path) -> ast.Module:
    return _parsed(source.read_text(encoding="utf-8"))


def exercise_files(source: Path) -> list[Path]:
    """The exercise parameters files a notebook reads (``params.exercise(NAME)`` reads
    ``params/exercises/NAME.yml``): each file whose name is a string constant of the notebook's code.

    Exercises are named by literals (``params_mod.exercise("hazards-1", ...)``, or a loop over a tuple of
    names), which ``tests/test_build.py`` checks for every page that calls ``params.exercise``.
    """
    names = {node.value for node in ast.walk(_code(source)) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return [path for path in sorted(paths.EXERCISES.glob("*.yml")) if path.stem in names]


def helper_modules(source: Path) -> dict[str, Path]:
    """Every ``helpers`` module a notebook's code imports, directly or through other helpers, with its file.

    The notebook's code cells are parsed (``ast``) and each imported name resolved to its file under the
    package, then the same for each module found, until none is new.
    """
    todo = [(name, None) for name in _imports(_code(source), None)]
    seen: dict[str, Path] = {}
    while todo:
        name, _ = todo.pop()
        if name in seen:
            continue
        path = _helpers_file(name)
        if path is None:
            continue
        seen[name] = path
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo += [(n, None) for n in _module_imports(path.read_text(encoding="utf-8"), package)]
        parent = name.rpartition(".")[0]
        if parent:
            todo.append((parent, None))
    return dict(sorted(seen.items()))
