"""The package's folders are its layers: a lower layer never imports a higher one; no function is long."""

import ast

import pytest

from helpers import paths

LAYERS = ("stats", "analysis", "report", "synthetic", "pipeline")  # low to high
PACKAGE = paths.ROOT / "src" / "helpers"
FOUNDATION = {"paths", "errors"}  # beside the layers, importable by all; they import nothing of helpers
# Crossings still to be removed as display tables move from analysis into report (issue 20, in progress).
KNOWN_CROSSINGS: set[tuple[str, str]] = set()
KNOWN_LONG: set[str] = set()


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _helpers_imports(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("helpers"):
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("helpers")}
    return names


def _layer(dotted: str):
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_lower_layers_never_import_higher_ones(path):
    rel = path.relative_to(PACKAGE)
    own = rel.parts[0] if len(rel.parts) > 1 else None
    imported = _helpers_imports(path)
    if own is None:
        if rel.stem in FOUNDATION:
            assert not imported, f"{rel} is foundation and must import nothing of helpers"
        return
    for name in imported:
        if (rel.as_posix(), name.rsplit(".", 1)[0]) in KNOWN_CROSSINGS or (rel.as_posix(), name) in KNOWN_CROSSINGS:
            continue
        layer = _layer(name)
        if layer is None:
            head = name.split(".")[1] if "." in name else ""
            assert head in FOUNDATION or name == "helpers", f"{rel} imports {name}, which is not in a layer"
            continue
        assert LAYERS.index(layer) <= LAYERS.index(own), f"{rel} ({own}) imports {name} ({layer}), a higher layer"


def test_statistics_know_nothing_of_the_thesis():
    for path in (PACKAGE / "stats").rglob("*.py"):
        imported = _helpers_imports(path)
        assert all(_layer(n) == "stats" for n in imported), f"{path.name} imports {imported}"
        assert "data/published" not in path.read_text(encoding="utf-8")


def _long_functions(limit=60):
    found = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > limit and f"{path.relative_to(PACKAGE)}:{node.name}" not in KNOWN_LONG:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.name} ({length} lines)")
    return found


def test_no_function_is_over_sixty_lines():
    assert not _long_functions(), _long_functions()
