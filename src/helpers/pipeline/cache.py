"""The build cache: a run's executed notebook and tables, kept under a key of everything they depend on.

A run's inputs (:func:`manifest`) are its notebook source, each parameter and override, the SHA-256 of the
data files, of its declared inputs, of the exercise files it reads (:func:`runs.exercise_files`) and of
every ``helpers`` module it imports (:func:`runs.helper_modules`), and the pinned packages with the
versions installed (:func:`packages`). Its key is the hash of that manifest. When the key matches, the build
restores the run from ``_build/cache``; when it does not, the manifest kept beside the cached result says
which inputs changed (:func:`changes`), and the build log names them.
"""

import hashlib
import importlib.metadata
import json
import platform
import shutil
import tomllib
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


def installed_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def packages() -> dict:
    """Each pinned dependency of ``pyproject.toml`` with its pin and the version installed, and Python's.

    A run's result depends on the libraries that computed it: a new pin, or another version installed
    under the same pin, executes every run again.
    """
    with open(paths.PYPROJECT, "rb") as fh:
        pins = tomllib.load(fh)["project"]["dependencies"]
    found = {"package python": platform.python_version()}
    for pin in pins:
        name = pin.split("==")[0].split(">")[0].split("<")[0].split("[")[0].strip()
        found[f"package {name}"] = f"pinned {pin.strip()}, installed {installed_version(name)}"
    return found


def data_digests(params: dict) -> dict:
    """What every run shares: digests of its data (the cohort, the cell-culture file, the dictionary, the
    published numbers, the shipped cohort and cell-culture files, which the exercises run on) and the pinned
    packages installed."""
    reference = [paths.DICTIONARY, paths.SHIPPED_DIGESTS, paths.DATA / "cohort.csv", paths.DATA / "vsmc.csv",
                 *sorted(paths.PUBLISHED.glob("*"))]
    return {
        "data cohort_csv": file_digest(paths.resolve(params["cohort_csv"])),
        "data vsmc_csv": file_digest(paths.resolve(params["vsmc_csv"])) if params["vsmc_csv"] else None,
        **{f"data {paths.shown(p)}": file_digest(p) for p in reference},
        **packages(),
    }


def manifest(run: "runs.Run", params: dict, data: dict) -> dict:
    """Every input of ``run``, named, with its digest or value: the cache key is the hash of this."""
    modules = runs.helper_modules(run.source)
    found = {f"notebook {run.doc}": file_digest(run.source)}
    found |= {f"parameter {k}": json.dumps(v, sort_keys=True, default=str) for k, v in params.items()}
    found |= {f"override {k}": json.dumps(v, sort_keys=True, default=str) for k, v in run.overrides.items()}
    found |= data
    found |= {f"helper {name}": file_digest(path) for name, path in modules.items()}
    found |= {f"input {name}": file_digest(name) for name in run.inputs}
    found |= {f"exercise {paths.shown(p)}": file_digest(p) for p in runs.exercise_files(run.source)}
    if "helpers.pipeline.colophon" in modules:
        found["git commit"] = colophon.commit()
    return found


def key_of(inputs: dict) -> str:
    return digest(inputs)


def run_key(run: "runs.Run", params: dict, data: dict) -> str:
    """Content hash of everything the executed notebook of ``run`` depends on."""
    return key_of(manifest(run, params, data))


def changes(cache: Path, run, inputs: dict) -> list[str]:
    """The inputs of ``run`` that differ from those of its cached result (empty when it is current)."""
    entry = cache / cache_id(run)
    if not (entry / "notebook.ipynb").is_file():
        return ["not in the cache"]
    if (entry / "key").read_text() == key_of(inputs):
        return []
    if not (entry / "inputs.json").is_file():
        return ["cached by an older build"]
    before = json.loads((entry / "inputs.json").read_text(encoding="utf-8"))
    return sorted(name for name in {*before, *inputs} if before.get(name) != inputs.get(name))


def outdated(cache: Path, planned: list, params: dict, data: dict) -> dict[str, list[str]]:
    """Of the ``planned`` runs, those whose cached result is not current, each with the inputs that changed:
    the runs a build executes."""
    return {run.doc: found for run in planned if (found := changes(cache, run, manifest(run, params, data)))}


def described(changed: list[str], shown: int = 4) -> str:
    """The changed inputs, as the build log says them."""
    more = f" and {len(changed) - shown} more" if len(changed) > shown else ""
    return ", ".join(changed[:shown]) + more


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


def store(cache: Path, run, key: str, target: Path, tables: Path, inputs: dict | None = None) -> None:
    entry = cache / cache_id(run)
    fresh = cache / f".{cache_id(run)}.new"
    if fresh.exists():
        shutil.rmtree(fresh)
    fresh.mkdir(parents=True)
    shutil.copy2(target, fresh / "notebook.ipynb")
    if tables.exists():
        shutil.copytree(tables, fresh / "tables")
    (fresh / "key").write_text(key)
    if inputs is not None:
        (fresh / "inputs.json").write_text(json.dumps(inputs, indent=1, sort_keys=True), encoding="utf-8")
    if entry.exists():
        shutil.rmtree(entry)
    fresh.rename(entry)
