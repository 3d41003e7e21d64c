"""Runners for independent work (helpers.pipeline.distributed): local processes and a Dask cluster give
the same multiple-imputation result as a plain loop; a dead address fails fast; patient data stay home."""

import os
import socket
import time

import numpy as np
import pandas as pd
import pytest

from helpers.errors import InputError
from helpers.pipeline import distributed as runner
from helpers.stats import imputation
from imputation_data import COVARIATES, MARKERS, cohort_with_missing_markers

pytest.importorskip("distributed", reason="dask.distributed is not installed")


def _mi(data, map=None):
    return imputation.multiple_imputation_cox(data, "time", "status", COVARIATES, MARKERS, imputations=4, seed=8,
                                              map=map)


@pytest.fixture(scope="module")
def data():
    return cohort_with_missing_markers(n=300, seed=21)


@pytest.fixture(scope="module")
def plain(data):
    return _mi(data)


def _same(a, b):
    assert list(a.table["term"]) == list(b.table["term"])
    numbers = a.table.columns.drop("term")
    np.testing.assert_allclose(a.table[numbers].to_numpy(float), b.table[numbers].to_numpy(float), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.estimates.to_numpy(), b.estimates.to_numpy(), rtol=0, atol=1e-12)
    assert (a.n, a.n_missing, a.events, a.imputations) == (b.n, b.n_missing, b.events, b.imputations)


@pytest.fixture(scope="module")
def cluster_map():
    """One Dask LocalCluster (processes on 127.0.0.1) for the tests of this module: starting one is slow."""
    with runner.mapper("local", allow_patient_data=False, data_kind="synthetic") as map:
        yield map


@pytest.fixture(scope="module")
def process_map():
    # Worker processes, whatever an earlier test of this worker left in the environment (a notebook executed
    # in-process sets IN_PROCESS_ENV, as a build's kernel does).
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(runner.IN_PROCESS_ENV, raising=False)
        with runner.mapper(None, allow_patient_data=False, data_kind="synthetic", workers=2) as map:
            yield map


def test_local_dask_cluster_gives_the_local_result(data, plain, cluster_map):
    assert plain.n_missing > 0
    assert cluster_map(abs, [-3, 2, -1, 0, -5]) == [3, 2, 1, 0, 5]  # in the order of the items
    _same(_mi(data, map=cluster_map), plain)


def test_local_processes_give_the_local_result(data, plain, process_map):
    here = os.getpid()
    assert here not in process_map(lambda _: os.getpid(), range(4))  # other processes
    _same(_mi(data, map=process_map), plain)


def test_in_a_build_kernel_the_work_runs_in_the_kernels_own_process(data, plain, monkeypatch):
    from joblib.externals import loky

    def no_processes(*args, **kwargs):
        raise AssertionError("started worker processes")

    monkeypatch.setattr(loky, "ProcessPoolExecutor", no_processes)
    monkeypatch.setenv(runner.IN_PROCESS_ENV, "1")
    with runner.mapper(None, allow_patient_data=False, data_kind="synthetic") as map:
        assert map(lambda _: os.getpid(), range(3)) == [os.getpid()] * 3
        _same(_mi(data, map=map), plain)
    assert runner.describe(None).startswith("this notebook's own process")
    monkeypatch.setenv(runner.IN_PROCESS_ENV, "0")
    with pytest.raises(AssertionError, match="started worker processes"):
        with runner.mapper(None, allow_patient_data=False, data_kind="synthetic"):
            pass
    assert runner.describe(None, workers=2) == "local worker processes (2 at once)"


def _closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_fails_fast_with_one_message(monkeypatch):
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT", "1s")  # the mechanism, without waiting the book's 5 s
    address = f"tcp://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(InputError, match="no Dask scheduler answered at " + address) as err:
        with runner.mapper(address, allow_patient_data=False, data_kind="real"):
            pass
    assert time.monotonic() - start < 15
    assert err.value.__cause__ is None and "\n" not in str(err.value)


def test_real_data_are_not_sent_to_another_machine(monkeypatch):
    import distributed

    def no_connection(*args, **kwargs):
        raise AssertionError("tried to connect")

    monkeypatch.setattr(distributed, "Client", no_connection)
    for allow in (False, None, "true", 1):  # only True itself allows it
        with pytest.raises(InputError, match="dask_allow_patient_data: true") as err:
            with runner.mapper("tcp://10.20.30.40:8786", allow_patient_data=allow, data_kind="real"):
                pass
        assert "10.20.30.40" in str(err.value)
        # The build's check before any notebook runs refuses the same, with the same message.
        with pytest.raises(InputError, match="dask_allow_patient_data: true"):
            runner.check_scheduler("tcp://10.20.30.40:8786", allow, "real")
    for local in (None, "", "local"):
        runner.check_scheduler(local, False, "real")  # nothing to check, nothing started


def test_what_may_connect(monkeypatch):
    import distributed

    calls = []

    def refused(address, **kwargs):
        calls.append((address, kwargs["timeout"]))
        raise OSError("refused")

    monkeypatch.setattr(distributed, "Client", refused)
    cases = [("tcp://10.20.30.40:8786", True, "real"), ("tcp://10.20.30.40:8786", False, "synthetic"),
             ("tcp://127.0.0.2:8786", False, "real"), ("tcp://localhost:8786", False, "real"),
             ("tcp://[::1]:8786", False, "real"), ("127.0.0.1:8786", False, "real")]
    for address, allow, kind in cases:
        with pytest.raises(InputError, match="no Dask scheduler answered"):
            with runner.mapper(address, allow_patient_data=allow, data_kind=kind):
                pass
    assert [c[1] for c in calls] == ["5s"] * len(cases)
    assert calls[-1][0] == "tcp://127.0.0.1:8786"


def test_local_addresses():
    for address in ["tcp://127.0.0.1:8786", "tcp://127.1.2.3:1", "tcp://localhost:8786", "tcp://[::1]:8786", "127.0.0.1:8786"]:
        assert runner.is_local_address(address), address
    for address in ["tcp://10.0.0.5:8786", "tcp://192.168.1.2:8786", "tcp://scheduler.example.org:8786", "tcp://[2001:db8::1]:8786"]:
        assert not runner.is_local_address(address), address


@pytest.mark.parametrize("scheduler", ["tcp://host-without-port", "tcp://:8786", "tcp://10.0.0.5:notaport"])
def test_malformed_address(scheduler):
    with pytest.raises(InputError, match="not a scheduler address"):
        with runner.mapper(scheduler, allow_patient_data=False, data_kind="synthetic"):
            pass


def test_simulation_gives_the_same_replicates_locally_and_on_a_local_cluster(cluster_map, process_map):
    from helpers.analysis import simulation

    plain = simulation.run(3, seed=11)
    assert len(plain) == 3 * 2 * 2  # replicates × designs × terms
    pd.testing.assert_frame_equal(simulation.run(3, seed=11, map=cluster_map), plain, check_exact=True)
    pd.testing.assert_frame_equal(simulation.run(3, seed=11, map=process_map), plain, check_exact=True)
    assert simulation.run(3, seed=12)["coef"].tolist() != plain["coef"].tolist()  # the seed matters


def test_bootstrap_of_standardized_risks_is_the_same_on_every_runner(cluster_map, process_map):
    from helpers.analysis import beyond
    from helpers.pipeline import params, validate

    analysed = validate.cohorts(params.load())[1]
    plain = beyond.bootstrap_risks(analysed, [3], [1.8, 2.2], replicates=2, seed=9)
    for map in (cluster_map, process_map):
        pd.testing.assert_frame_equal(beyond.bootstrap_risks(analysed, [3], [1.8, 2.2], replicates=2, seed=9, map=map),
                                      plain, check_exact=True)
