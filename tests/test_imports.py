"""What a notebook's kernel imports: the pages that need no test statistic, no regression of statsmodels and
no file check do not load scipy.stats, statsmodels or pandera (about two CPU seconds per kernel, fourteen
kernels per build); and the tail areas that replace scipy.stats there are scipy.stats' own numbers."""

import json
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.rates import confint_poisson

from helpers import paths
from helpers.stats._common import Z95, chi2_sf, normal_sf
from helpers.stats.survival import garwood_interval

HEAVY = ("scipy.stats", "statsmodels", "pandera", "seaborn", "pingouin")
# The first cells of chapters 1, 4 and 6 and of the colophon and disclosure pages, and what they call there.
LIGHT_PAGES = """
from myst_nb import glue
from helpers import survival
from helpers.analysis import cohort, derive, models, subgroups
from helpers.report import figures, model_tables, outputs, published, formatting, disclosure
from helpers.pipeline import colophon, params as params_mod, validate
params = params_mod.load("params/default.yml", {})
outputs.banner(params)
"""


def _loaded(code: str) -> list[str]:
    probe = code + f"\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=paths.ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_light_pages_do_not_import_the_heavy_libraries():
    assert _loaded(LIGHT_PAGES) == []


def test_the_probe_sees_a_heavy_import():
    # The check above can fail: a page that runs a trend test loads scipy.stats and statsmodels.
    assert _loaded("from helpers import tables\ntables.linear_by_linear([1, 2, 2, 3], [0, 1, 0, 1])") == [
        "scipy.stats", "statsmodels"]


def test_normal_tail_and_quantile_are_scipy_stats_bit_for_bit():
    z = np.concatenate([np.random.default_rng(0).normal(0, 4, 20_000), [0.0, -0.0, np.inf, -np.inf, np.nan, 40.0]])
    assert np.array_equal(normal_sf(z), stats.norm.sf(z), equal_nan=True)
    assert normal_sf(1.5) == stats.norm.sf(1.5)
    assert Z95 == float(stats.norm.ppf(0.975))


@pytest.mark.parametrize("df", [1, 2, 3, 7, 12, 0, 0.5])
def test_chi_square_tail_is_scipy_stats_bit_for_bit(df):
    x = np.concatenate([np.random.default_rng(1).exponential(5, 20_000), [0.0, -0.0, -1e-12, -3.0, np.inf, np.nan, 1e4]])
    assert np.array_equal(chi2_sf(x, df), stats.chi2.sf(x, df), equal_nan=True)
    for value in (0.0, 3.2, np.nan, -1.0):
        assert np.array_equal(chi2_sf(value, df), stats.chi2.sf(value, df), equal_nan=True)


def test_garwood_limits_are_statsmodels_exact_c_bit_for_bit():
    rng = np.random.default_rng(2)
    for events in [0, 1, 2, 3, 5, 10, 47, 300, *rng.integers(0, 5000, 200)]:
        exposure = float(rng.uniform(0.001, 50.0))
        low, high = confint_poisson(int(events), exposure, method="exact-c")
        assert garwood_interval(int(events), exposure) == (float(low), float(high))
