"""Benchmark of the test suite: its wall time and where it goes (the slowest tests, by file and phase).

    .venv/bin/python bench/tests.py            # the whole suite, as `make test` runs it
    .venv/bin/python bench/tests.py -k book    # any pytest arguments narrow it
    .venv/bin/python bench/tests.py -m "not book and not slow"    # the fast tier, as `make test-fast` runs it

Tests never time themselves; this script runs pytest once with ``--durations`` and prints the figures.
The suite runs in one worker per core (pytest-xdist, as `make test` runs it), so the per-test times add
up to more than the wall time. The book tests share one build (the session fixture ``built`` in
tests/conftest.py), which shows up as the setup time of the first test that asks for it.
"""

import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 180.0  # seconds, `make test` with the environment installed
FAST_TARGET = 60.0  # seconds, `make test-fast` (-m "not book and not slow")


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=0",
                             "--durations-min=0.5", *argv], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    timings = [(float(s), phase, test) for s, phase, test in
               re.findall(r"^([\d.]+)s (setup|call|teardown)\s+(\S+)", result.stdout, re.MULTILINE)]
    by_file = defaultdict(float)
    for seconds, _, test in timings:
        by_file[test.split("::")[0]] += seconds
    target = FAST_TARGET if any("not book" in a and "not slow" in a for a in argv) else TARGET
    print(f"test suite: {wall:6.1f} s wall   target < {target:.0f} s   ({result.stdout.strip().splitlines()[-1]})")
    for line in re.findall(r"^(?:FAILED|ERROR) .*$", result.stdout, re.MULTILINE):
        print(f"  {line}")
    print("slowest tests:")
    for seconds, phase, test in sorted(timings, reverse=True)[:15]:
        print(f"  {seconds:6.1f} s  {phase:<8} {test}")
    print("by file (tests over 0.5 s):")
    for name, seconds in sorted(by_file.items(), key=lambda item: -item[1]):
        print(f"  {seconds:6.1f} s  {name}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
