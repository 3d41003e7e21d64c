"""Benchmark of reading and validating the cohort file (``validate.load_cohort``) at registry scale.

    .venv/bin/python bench/validate.py                      # 10^5 and 10^6 patients
    .venv/bin/python bench/validate.py --sizes 1000000 --repeat 3

The cohort is the synthetic one resampled to n patients (``bench/build.py``'s registry cohort: new
identifiers, follow-up jittered and recorded to 0.001 year). Each run is a fresh process: the build's own
check (the file read as text, the dictionary's pandera schemas, units and the checks across columns), then
what a build's kernel does instead (``MG_VALIDATED_COHORTS`` set: the validated frame the build kept, read
from its pickle). Wall and CPU seconds and the peak memory are printed with the load: on a shared machine
the CPU seconds are the steadier figure, and the smallest of the repeats the fairest.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from build import load, registry_cohort  # noqa: E402  (bench/build.py)

PROBE = """
import os, resource, sys, time
from helpers.pipeline import validate
wall, cpu = time.perf_counter(), time.process_time()
cohort = validate.load_cohort(sys.argv[1])
print(time.perf_counter() - wall, time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
      len(cohort))
"""


def measure(path: Path, kept: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of ``load_cohort(path)`` in a fresh process; with
    ``kept``, as a build's kernel runs it (the build's folder of validated frames)."""
    env = {**os.environ}
    env.pop("MG_VALIDATED_COHORTS", None)
    if kept is not None:
        env["MG_VALIDATED_COHORTS"] = str(kept)
    result = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, env=env, cwd=ROOT,
                            check=True)
    wall, cpu, peak, _ = result.stdout.split()
    return float(wall), float(cpu), float(peak)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measure (default %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mg-bench-validate-") as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"cohort_{n}.csv"
            registry_cohort(n, path)
            kept = Path(tmp) / f"kept_{n}"
            kept.mkdir()
            print(f"n = {n:,} ({path.stat().st_size / 1e6:.0f} MB of CSV)")
            for label, folder in (("the build validates the file", None), ("a kernel reads the build's copy", kept)):
                if folder is not None:
                    measure(path, kept)  # the build's check, which keeps the validated frame there
                for _ in range(args.repeat):
                    wall, cpu, peak = measure(path, folder)
                    print(f"  {label:<34} wall {wall:6.1f} s  CPU {cpu:6.1f} s  peak {peak:6.0f} MB  ({load()})",
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
