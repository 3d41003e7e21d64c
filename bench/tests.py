"""Benchmark of the test suite: its wall time and CPU time, and where they go (by test, file and worker).

    .venv/bin/python bench/tests.py            # the whole suite, as `make test` runs it
    .venv/bin/python bench/tests.py -k book    # any pytest arguments narrow it
    .venv/bin/python bench/tests.py -m "not book and not slow"    # the fast tier, as `make test-fast` runs it

Tests never time themselves; this script runs pytest once and prints the figures. Each test's wall and CPU
seconds (setup, call and teardown; CPU of the worker and of every process it waited for: a build, its
kernels, R, the browser) are recorded by tests/conftest.py when ``MG_BENCH_CPU`` names a file. On a
machine shared with other work, wall time says as much about the neighbours as about the suite: reason
from CPU seconds. The suite runs in one worker per core (pytest-xdist), so the suite's wall time is at
least its CPU time divided by the cores; the busy time of each worker shows how evenly the work is dealt.
The book tests share one build (the session fixture ``built`` in tests/conftest.py), which counts to the
first test that asks for it. The kernels of the builds and notebooks that tests run are forked from one
zygote started for the whole run (tests/conftest.py); their CPU is in the suite's total but in no test's,
and the last line gives it, with pytest's controller and the compile step, as the CPU outside the tests.
"""

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 180.0  # seconds, `make test` with the environment installed
FAST_TARGET = 60.0  # seconds, `make test-fast` (-m "not book and not slow")


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _run(argv: list[str]) -> tuple[subprocess.CompletedProcess, float, float, list[dict]]:
    """pytest with ``argv``: its result, wall seconds, CPU seconds and each test's record."""
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as folder:
        log = Path(folder) / "tests.jsonl"
        env = {**os.environ, "MG_BENCH_CPU": str(log)}
        cpu, started = _children_cpu(), time.perf_counter()
        # As `make test` does first: the project's bytecode (see COMPILE in the Makefile).
        subprocess.run([sys.executable, "-m", "compileall", "-q", "src", "tests", "_ext"], cwd=ROOT, check=True)
        result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *argv],
                                capture_output=True, text=True, cwd=ROOT, env=env)
        wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
        records = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    return result, wall, cpu, records


def main(argv: list[str]) -> int:
    result, wall, cpu, records = _run(argv)
    cores = os.cpu_count() or 1
    target = FAST_TARGET if any("not book" in a and "not slow" in a for a in argv) else TARGET
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()[-300:]
    print(f"test suite: {wall:6.1f} s wall   target < {target:.0f} s   ({summary})")
    print(f"            {cpu:6.1f} s CPU (user + system, every process)   {cpu / cores:6.1f} s on {cores} cores "
          "if perfectly shared: the wall time's floor")
    for line in re.findall(r"^(?:FAILED|ERROR) .*$", result.stdout, re.MULTILINE):
        print(f"  {line}")
    by_file, by_worker = defaultdict(lambda: [0.0, 0.0, 0]), defaultdict(lambda: [0.0, 0.0, 0])
    for r in records:
        for table, key in ((by_file, r["test"].split("::")[0]), (by_worker, r["worker"])):
            table[key][0] += r["cpu"]
            table[key][1] += r["wall"]
            table[key][2] += 1
    print("slowest tests (CPU s, wall s; a shared fixture counts to the first test that uses it):")
    for r in sorted(records, key=lambda r: -r["cpu"])[:15]:
        print(f"  {r['cpu']:6.1f}  {r['wall']:6.1f}  {r['test']}")
    print("by file (CPU s, wall s, tests):")
    for name, (c, w, n) in sorted(by_file.items(), key=lambda item: -item[1][0]):
        print(f"  {c:6.1f}  {w:6.1f}  {n:4d}  {name}")
    print("by worker (CPU s, busy wall s, tests):")
    for name, (c, w, n) in sorted(by_worker.items()):
        print(f"  {c:6.1f}  {w:6.1f}  {n:4d}  {name}")
    inside = sum(r["cpu"] for r in records)
    print(f"outside the tests: {cpu - inside:6.1f} CPU s (the compile step, pytest's controller and the kernels "
          "forked from the run's zygote for builds and notebooks)")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
