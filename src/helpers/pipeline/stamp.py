"""The no-change check of ``mg-book``, made before anything heavy is imported.

A build's outcome depends only on what :func:`fingerprint` reads: every file of the book's sources (notebooks,
pages, helpers, parameters and exercise files, data, golden values, configuration), the parameters file and
the data files it names, the packages installed, the git commit as the colophon prints it, the repository
address and the build's options. A build that finishes records the fingerprint it started from beside the
book (``cache/sources.key``); when the next build finds the same fingerprint and the book in place, nothing
can have changed, and it stops there (in well under a second, rather than the seconds it takes to import
the pipeline, validate the cohort and hash every run's inputs). Any difference, even one that would not
change the book, falls through to the full check of :func:`helpers.pipeline.build.build`, which decides
run by run.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from helpers import paths

# Sources read whole (folders recursively, bytecode left out); a superset of every run's inputs.
SOURCES = ("notebooks", "book", "src/helpers", "params", "data", "_static", "_ext", "tests/golden", "_config.yml",
           "_toc.yml", "references.bib", "pyproject.toml", "environment.yml")
NAME = "sources.key"


def _files(root: Path):
    for name in SOURCES:
        path = root / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                              and p.suffix != ".ipynb")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "no git"


def _installed() -> list[str]:
    """The distributions installed where Python imports from (their folders carry name and version)."""
    found = []
    for entry in map(Path, sys.path):
        if entry.is_dir() and entry.name in ("site-packages", "dist-packages"):
            found += sorted(p.name for p in entry.iterdir() if p.suffix in (".dist-info", ".egg-info", ".pth"))
    return found


def _named_files(params_file: Path) -> list[str] | None:
    """Digests of the files the parameters file names (cohort, cell culture); None when it cannot be read
    without the full pipeline (then there is no quick answer)."""
    import yaml

    try:
        given = yaml.safe_load(params_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(given, dict):
        return None
    digests = []
    for key in ("cohort_csv", "vsmc_csv"):
        value = given.get(key)
        if isinstance(value, str):
            path = paths.resolve(value)
            if not path.is_file():
                return None
            digests.append(f"{key} {hashlib.sha256(path.read_bytes()).hexdigest()}")
    return digests


def fingerprint(params_file, options: dict) -> str | None:
    """SHA-256 of everything a build of the book reads; None when it cannot be told quickly."""
    params_file = paths.resolve(params_file)
    if not params_file.is_file():
        return None
    named = _named_files(params_file)
    if named is None:
        return None
    h = hashlib.sha256()
    for path in _files(paths.ROOT):
        h.update(f"{path.relative_to(paths.ROOT).as_posix()}\n".encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    status = _git("status", "--porcelain", "--untracked-files=no")
    for part in (str(params_file), params_file.read_bytes().decode("utf-8", "replace"), *named, *_installed(),
                 sys.version, sys.executable, _git("rev-parse", "HEAD"), str(bool(status)),
                 _git("remote", "get-url", "origin"), os.environ.get(paths.TABLES_ENV, ""),
                 *(f"{k}={v!r}" for k, v in sorted(options.items()))):
        h.update(f"{part}\n".encode())
    return h.hexdigest()


def current(out: Path, quick: str | None, pdf: bool = False) -> bool:
    """Whether the book in ``out`` was built from exactly ``quick`` (and has its PDF when one is asked for)."""
    stored = out / "cache" / NAME
    return (quick is not None and stored.is_file() and stored.read_text() == quick
            and (out / "html" / "index.html").is_file() and (not pdf or (out / "book.pdf").is_file()))


def record(out: Path, quick: str | None) -> None:
    """Keep the fingerprint a finished build started from (nothing when there is none)."""
    stored = out / "cache" / NAME
    if quick is None:
        stored.unlink(missing_ok=True)
    else:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_text(quick)
