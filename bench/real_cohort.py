"""Benchmark: a cold build, in real mode, of a real-shaped cohort of 20,000 patients.

    .venv/bin/python bench/real_cohort.py            # 20,000 patients
    .venv/bin/python bench/real_cohort.py --n 5000   # another size

The cohort comes from the seeded generator of the tests (tests/cohorts.py: the synthetic cohort resampled,
Mg in mmol/L, columns shuffled, an extra column, no PWV columns), so it runs as real data: disclosure
control, model outputs withheld where they rest on small cells. The build runs cold (--no-cache) in a
fresh process into a temporary folder; the script prints the wall time and each notebook's time.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import cohorts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory(prefix="mg-bench-real-") as tmp:
        folder = Path(tmp)
        shape = cohorts.Shape(20260, n=n, mg_unit="mmol/L", shuffle_columns=True, extra_columns=1,
                              drop_optional=("pwv_baseline", "pwv_year4"))
        cohorts.make(shape).to_csv(folder / "cohort.csv", index=False)
        params = folder / "params.yml"  # every other parameter at its default (20 imputations, the 5 × 5 sweep)
        params.write_text(f"cohort_csv: {folder / 'cohort.csv'}\nvsmc_csv: null\ndata_kind: real\nmg_unit: mmol/L\n",
                          encoding="utf-8")
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--params", str(params),
                                 "--out", str(folder / "out"), "--no-cache"], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(result.stdout[-3000:] + result.stderr[-3000:])
        print(f"real-mode cold build of {n:,} patients: {wall:.1f} s wall")
        for page, seconds in re.findall(r"executed (\S+) in ([\d.]+) s", result.stdout):
            print(f"  {page:<28} {float(seconds):6.1f} s")


if __name__ == "__main__":
    main()
