"""Benchmark of forked kernels (helpers.pipeline.kernels): the shipped book's pages executed cold twice, each
kernel forked from the build's warm process, then each started as a new process (``MG_FORK_KERNELS=0``).

    .venv/bin/python bench/kernels.py                 # every page
    .venv/bin/python bench/kernels.py --only colophon disclosure intro   # some pages (3 or more fork)

Each build runs in a fresh process into a temporary folder, with --no-cache; it prints the build's wall time
and the CPU seconds of the build and every process it waited for (its workers, the zygote, the kernels,
jupyter-book), and the load averages, since on a shared machine a figure means little without them.
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _build(only: list[str], fork: bool) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(prefix="bench-kernels-") as out:
        argv = [sys.executable, "-m", "helpers.pipeline.build", "--out", out, "--no-cache"]
        argv += ["--only", *only] if only else []
        env = {**os.environ, "MG_FORK_KERNELS": "1" if fork else "0"}
        cpu, started = _cpu(), time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env)
        wall, cpu = time.perf_counter() - started, _cpu() - cpu
    if result.returncode:
        sys.exit(result.stderr)
    ran = next((ln for ln in result.stdout.splitlines() if ln.startswith("ran ")), "")
    return wall, cpu, ran


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[], help="words naming the pages to execute (mg-book --only)")
    args = parser.parse_args(argv)
    print(f"load averages {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for fork in (True, False):
        wall, cpu, ran = _build(args.only, fork)
        print(f"{'forked kernels' if fork else 'new processes ':15s} {wall:6.1f} s wall  {cpu:6.1f} CPU s   ({ran})")
    print(f"load averages {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
