"""The build cache: a run's executed notebook and tables, kept under a key of everything they depend on.

A run's key hashes its notebook source, the run's parameters, the SHA-256 of its data files and declared
inputs, and the source of every ``helpers`` module the notebook imports (:func:`runs.helper_modules`).
When the key matches, the build restores the run from ``_build/cache`` instead of executing it.
"""

import hashlib
import json
import shutil
from pathlib import Path

from helpers import paths
from helpers.pipeline import colophon, runs


def digest(*parts) -> str:
    """SHA-256 of a sequence of bytes or JSON-able values."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file, of every file under a folder, or 'absent'."""
    path = paths.resolve(path)
    if path.is_dir():
        return digest({p.relative_to(path).as_posix(): file_digest(p) for p in sorted(path.rglob("*")) if p.is_file()})
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "absent"


def data_digests(params: dict) -> dict:
    """Digests of the run's data: the cohort, the cell-culture file, the dictionary and the published numbers."""
    return {
        "cohort": file_digest(paths.resolve(params["cohort_csv"])),
        "vsmc": file_digest(paths.resolve(params["vsmc_csv"])) if params["vsmc_csv"] else None,
        "reference": {p.name: file_digest(p) for p in [paths.DICTIONARY, paths.SHIPPED_DIGESTS,
                                                        *sorted(paths.PUBLISHED.glob("*"))]},
    }


def run_key(run: "runs.Run", params: dict, data: dict) -> str:
    """Content hash of everything the executed notebook of ``run`` depends on."""
    modules = runs.helper_modules(run.source)
    helpers = {name: file_digest(path) for name, path in modules.items()}
    inputs = {name: file_digest(name) for name in run.inputs}
    extra = colophon.commit() if "helpers.pipeline.colophon" in modules else ""
    return digest(run.source.read_text(encoding="utf-8"), params, run.overrides, data, helpers, inputs, extra)


def cache_id(run: "runs.Run") -> str:
    return run.doc.replace("/", "_")


def is_current(cache: Path, run, key: str) -> bool:
    entry = cache / cache_id(run)
    return (entry / "key").is_file() and (entry / "key").read_text() == key and (entry / "notebook.ipynb").is_file()


def restore(cache: Path, run, target: Path, tables: Path) -> None:
    entry = cache / cache_id(run)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(entry / "notebook.ipynb", target)
    if (entry / "tables").exists():
        shutil.copytree(entry / "tables", tables, dirs_exist_ok=True)


def store(cache: Path, run, key: str, target: Path, tables: Path) -> None:
    entry = cache / cache_id(run)
    fresh = cache / f".{cache_id(run)}.new"
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir(parents=True)
    shutil.copy2(target, fresh / "notebook.ipynb")
    if tables.exists():
        shutil.copytree(tables, fresh / "tables")
    (fresh / "key").write_text(key)
    if entry.exists():
        shutil.rmtree(entry)
    fresh.rename(entry)
