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


def sweep_label(cuts) -> str:
    """The folder of one run of the cut-point sweep, under its tables: 'sweep/1.7-2.2'."""
    return f"{cuts[0]:g}-{cuts[1]:g}"
