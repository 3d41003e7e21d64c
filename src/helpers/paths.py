"""Where things are. Paths are written down here and nowhere else."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DICTIONARY = DATA / "dictionary.csv"
PUBLISHED = DATA / "published"
NOTEBOOKS = ROOT / "notebooks"
BOOK = ROOT / "book"
PARAMS = ROOT / "params"
DEFAULT_PARAMS = PARAMS / "default.yml"
BUILD = ROOT / "_build"
CONFIG = ROOT / "_config.yml"
TOC = ROOT / "_toc.yml"
PYPROJECT = ROOT / "pyproject.toml"  # the pinned dependencies
EXERCISES = PARAMS / "exercises"  # one parameters file per exercise that changes a setting
SHIPPED_DIGESTS = DATA / "SHA256SUMS"  # SHA-256 of the shipped synthetic files (written by `make data`)
TABLES_ENV = "MG_TABLES_DIR"  # where a run writes its tables; the build sets it for each notebook


def shipped_synthetic_digests() -> set[str]:
    """SHA-256 digests of the shipped synthetic input files."""
    if not SHIPPED_DIGESTS.is_file():
        return set()
    return {line.split()[0] for line in SHIPPED_DIGESTS.read_text(encoding="utf-8").splitlines() if line.strip()}


def tables_dir() -> Path:
    """The folder a run writes its tables to: the build's choice (``MG_TABLES_DIR``), else ``_build/tables``."""
    import os

    return resolve(os.environ.get(TABLES_ENV) or BUILD / "tables")


def resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path; a relative one is read from the repository root."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def shown(path: str | Path) -> str:
    """Return ``path`` as it should be shown to a reader: relative to the repository root when inside it."""
    path = resolve(path)
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)
