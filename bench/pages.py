"""Profile the book's pages in one process on a registry-sized cohort: each code cell's seconds, slowest first.

The cohort is the one ``bench/build.py`` builds (the synthetic cohort resampled to n patients, follow-up
jittered and recorded to 0.001 year). Each chapter's code cells run in order in a plain namespace, as the
kernel would run them (no kernel, no HTML), so a cell's time is its own: this is where to look for the
dominant cost of a page before making it faster.

    .venv/bin/python bench/pages.py --patients 1000000 --only 08_beyond
    .venv/bin/python bench/pages.py --patients 100000 --profile 08_beyond     # cProfile of the slowest cell

BLAS runs with one thread, as in the build.
"""

import argparse
import ast
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import jupytext  # noqa: E402
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import ROOT, registry_cohort  # noqa: E402


def notebook_file(page: str) -> Path:
    """A page's notebook: a chapter (``notebooks/03_hazards.md``) or a book page (``book/sweep.md``)."""
    found = [p for p in (ROOT / "notebooks" / f"{page}.md", ROOT / "book" / f"{page}.md") if p.is_file()]
    if not found:
        raise SystemExit(f"no page {page!r} in notebooks/ or book/")
    return found[0]


def cells(page: str) -> list[str]:
    notebook = jupytext.read(notebook_file(page))
    return [c.source for c in notebook.cells if c.cell_type == "code" and "parameters" not in c.metadata.get("tags", [])]


def statements(page: str):
    """(cell number, first line, code) of every top-level statement of ``page``'s code cells, in order."""
    for number, source in enumerate(cells(page), start=1):
        tree = ast.parse(source.replace("%matplotlib", "# %matplotlib"))
        for node in tree.body:
            line = ast.get_source_segment(source, node).splitlines()[0]
            yield number, line, compile(ast.Module([node], []), f"{page}[{number}]", "exec")


def run_page(page: str, params_file: Path, profile: bool = False) -> list[tuple[float, int, str]]:
    """(seconds, cell number, first line) of every top-level statement of ``page``'s code cells."""
    namespace = {"__name__": "__main__", "params_file": str(params_file), "overrides": {}}
    timings = []
    for number, source, code in statements(page):
        profiler = cProfile.Profile() if profile else None
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        exec(code, namespace)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
        timings.append((seconds, number, source))
        if profiler and seconds > 5:
            print(f"--- {page} cell {number} ({source}): {seconds:.1f} s")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        plt.close("all")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", default=None,
                        help="page names (e.g. 08_beyond, sweep); default every page the build executes")
    parser.add_argument("--profile", action="store_true", help="print cProfile of every cell slower than 5 s")
    args = parser.parse_args()
    from helpers.pipeline import runs

    pages = args.only or [Path(r.doc).name for r in runs.plan()[0]]
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["MG_TABLES_DIR"] = str(tmp / "tables")
        (tmp / "validated").mkdir()
        os.environ["MG_VALIDATED_COHORTS"] = str(tmp / "validated")  # validated once, as in a build
        data = tmp / "cohort.csv"
        times = registry_cohort(args.patients, data)
        params = tmp / "params.yml"
        params.write_text(f"cohort_csv: {data}\n")
        print(f"n = {args.patients:,} ({times:,} distinct event times)", flush=True)
        for page in pages:
            start = time.perf_counter()
            timings = run_page(page, params, args.profile)
            print(f"{page}: {time.perf_counter() - start:.1f} s", flush=True)
            for seconds, number, first in sorted(timings, reverse=True)[:8]:
                print(f"  cell {number:>3} {seconds:8.1f} s  {first[:90]}", flush=True)


if __name__ == "__main__":
    main()
