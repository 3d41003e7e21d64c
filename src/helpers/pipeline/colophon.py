"""Provenance of a build: the commit, the parameters, the SHA-256 of every input file and package versions."""

import hashlib
import platform
import subprocess
from importlib import metadata

import pandas as pd

from helpers import paths

PACKAGES = (
    "jupyter-book", "myst-nb", "sphinx", "jupytext", "papermill", "ipykernel", "pandas", "numpy", "scipy",
    "statsmodels", "seaborn", "matplotlib", "pingouin", "pandera", "pyyaml", "joblib", "dask",
    "distributed",
)


def sha256(path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(paths.resolve(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def commit() -> str:
    """The git commit of the working tree, with '+ uncommitted changes' when it differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes" if dirty else "")


def input_files(params: dict) -> pd.DataFrame:
    """Each input file the parameters name, with its SHA-256; the data dictionary and published counts too."""
    rows = []
    for key in ("cohort_csv", "vsmc_csv"):
        if params.get(key):
            rows.append({"Input": key, "File": paths.shown(params[key]), "SHA-256": sha256(params[key])})
    for path in [paths.DICTIONARY, *sorted(paths.PUBLISHED.glob("*.csv"))]:
        rows.append({"Input": "reference", "File": paths.shown(path), "SHA-256": sha256(path)})
    return pd.DataFrame(rows)


def package_versions() -> pd.DataFrame:
    """Python and the versions of the packages the book is built with."""
    rows = [{"Package": "python", "Version": platform.python_version()}]
    for name in PACKAGES:
        try:
            rows.append({"Package": name, "Version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"Package": name, "Version": "not installed"})
    return pd.DataFrame(rows)
