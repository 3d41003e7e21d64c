"""pyproject.toml is the single source of truth for dependencies; environment.yml must repeat its pins."""

import re
import tomllib

import yaml

from helpers import paths


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
