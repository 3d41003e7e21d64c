"""pyproject.toml is the single source of truth for dependencies; environment.yml must repeat its pins."""

import ast
import importlib.metadata
import re
import tomllib

import jupytext
import yaml

from helpers import paths
from helpers.pipeline import runs


def _pins(requirements):
    out = {}
    for req in requirements:
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", req).groups()
        out[name.lower().replace("_", "-")] = version
    return out


def test_environment_yml_repeats_the_pins_of_pyproject():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    expected = _pins(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((paths.ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = _pins([p for p in pip if not p.startswith("-e")])
    assert listed == expected
    assert "python=3.11" in env["dependencies"]


def test_every_direct_dependency_is_pinned_exactly():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert "==" in req, f"{req} is not pinned"


def test_jupyter_book_stays_on_1x():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    assert _pins(project["dependencies"])["jupyter-book"].startswith("1.")


# Pins that are not imported but are a tool or Sphinx piece the build names: (file, what it says there).
TOOLS = {
    "jupyter-book": ("src/helpers/pipeline/build.py", 'with_name("jupyter-book")'),  # run to build the HTML
    "sphinx": ("_config.yml", "local_extensions"),  # jupyter-book's engine, configured and extended (_ext/)
    "ipykernel": ("src/helpers/pipeline/execute.py", 'kernel_name="python3"'),  # the kernel papermill starts
    "dask": ("src/helpers/pipeline/distributed.py", "`dask scheduler`"),  # the CLI its messages name
    "pytest": ("Makefile", "-m pytest"),
    "pytest-xdist": ("pyproject.toml", "--dist loadscope"),  # the plugin behind addopts' `-n auto`
}
# Pins kept for work in flight that will import them; each says which. Empty this as the work lands.
AWAITING: dict[str, str] = {}  # pins whose first import is still to land, with the issue that brings it


def _imported_top_names(text: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "importorskip"
              and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value.split(".")[0])
    return names


def _code_of(folder: str, suffix: str) -> list[str]:
    files = sorted((paths.ROOT / folder).rglob(f"*{suffix}"))
    if suffix == ".py":
        return [f.read_text(encoding="utf-8") for f in files]
    return ["\n".join(c.source for c in jupytext.read(f).cells if c.cell_type == "code" and not c.source.lstrip().startswith("%"))
            for f in files if runs.is_notebook(f)]


def _distributions(code: list[str]) -> set[str]:
    """The distributions that provide the modules the code imports, by Python's own map of them."""
    providers = importlib.metadata.packages_distributions()
    names = set().union(*(_imported_top_names(text) for text in code))
    return {d.lower().replace("_", "-") for n in names for d in providers.get(n, [])}


def test_every_pin_is_imported_or_named_by_the_build():
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins(project["dependencies"])
    test_only = _pins(project["optional-dependencies"]["test"])
    code = [*_code_of("src", ".py"), *_code_of("_ext", ".py"), *_code_of("notebooks", ".md"), *_code_of("book", ".md")]
    # The Sphinx extensions _config.yml loads count as imported (Sphinx imports them by name).
    extensions = yaml.safe_load((paths.ROOT / "_config.yml").read_text())["sphinx"].get("extra_extensions", [])
    used = _distributions(code + [f"import {name}" for name in extensions])
    used_by_tests = used | _distributions(_code_of("tests", ".py"))
    for name, (where, says) in TOOLS.items():
        if says in (paths.ROOT / where).read_text(encoding="utf-8"):
            used.add(name)
            used_by_tests.add(name)
    unused = sorted(set(runtime) - used - set(AWAITING))
    assert not unused, f"pinned in pyproject.toml but never imported nor named by the build: {unused}"
    unused_by_tests = sorted(set(test_only) - used_by_tests)
    assert not unused_by_tests, f"test dependencies no test imports: {unused_by_tests}"
    assert set(AWAITING) <= set(runtime) and set(TOOLS) <= set(runtime) | set(test_only)
