"""Where independent pieces of work run: local processes, a Dask cluster on this machine, or a remote one.

:func:`mapper` gives a ``map(function, items) -> list`` for a ``with`` block; the list is in the order of
``items`` whichever runner computed it, so work that draws its randomness from its item (a seed) gives
the same result everywhere (``helpers.stats.imputation.multiple_imputation_cox`` takes such a map).

- ``scheduler=None``: local worker processes (a loky process pool, as joblib uses, ``workers`` of them,
  default all cores), shut down after the block; or, where :data:`IN_PROCESS_ENV` is ``1`` (the build's
  kernels: the build already runs one notebook per core), a plain loop in this process;
- ``scheduler="local"``: a ``dask.distributed.LocalCluster`` of processes listening on 127.0.0.1 only,
  started for the block and closed after it;
- ``scheduler="tcp://host:port"``: an existing Dask scheduler. Nothing answering within 5 seconds is an
  :class:`~helpers.errors.InputError` with one message, never a hang. With ``data_kind == "real"`` a
  scheduler that is not on this machine (127.x, localhost, ::1) is refused before any connection unless
  ``allow_patient_data`` is ``True`` (the parameter ``dask_allow_patient_data: true``): the work sent to
  the workers carries the patients' records.

Functions and items are sent to other processes by pickling (cloudpickle for functions): a function
should be importable there, e.g. a module-level function of ``helpers`` or a ``functools.partial`` of one.
"""

import ipaddress
from contextlib import contextmanager
from urllib.parse import urlsplit

from helpers.errors import InputError

CONNECT_TIMEOUT = "5s"
# Each worker process computes with one BLAS thread, as Dask's nanny starts its workers: the parallelism is
# across processes, and OpenBLAS threads on small matrices only wait for each other (on a shared two-core
# machine one imputation took ten times the CPU time with them).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
WORKER_TIMEOUT = 30  # seconds to wait for a connected scheduler to have at least one worker
# The build runs one notebook per core, and sets this variable to "1" in its kernels
# (helpers.pipeline.execute): there, local worker processes would only compete with the other kernels for
# the cores, and each costs seconds of CPU to start (it imports numpy, pandas, scipy and the helpers). With
# no scheduler given, the map is then a plain loop in the notebook's own process; the results are the same
# (each item carries its own seed; tests/test_distributed.py). A Dask cluster ('local' or an address) is
# started or used as asked.
IN_PROCESS_ENV = "MG_MAP_IN_PROCESS"


def _in_process() -> bool:
    import os

    return os.environ.get(IN_PROCESS_ENV, "").strip() == "1"


def is_local_address(address: str) -> bool:
    """Whether a scheduler address (``tcp://host:port``) points at this machine: 127.x, localhost or ::1."""
    host = (urlsplit(address if "://" in address else f"tcp://{address}").hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_address(scheduler: str) -> str:
    address = scheduler if "://" in scheduler else f"tcp://{scheduler}"
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise InputError(
            f"dask_scheduler: '{scheduler}' is not a scheduler address; give none (local processes), "
            "'local' (a Dask cluster on this machine) or an address such as tcp://10.0.0.5:8786"
        )
    return address


def _refuse_patient_data(address: str, allow_patient_data, data_kind: str) -> None:
    if data_kind == "real" and allow_patient_data is not True and not is_local_address(address):
        raise InputError(
            f"dask_scheduler: {address} is not on this machine, and with data_kind: real the work sent to its "
            "workers carries patient records; refusing to send them. If that cluster may hold the patient data, "
            "set dask_allow_patient_data: true in the parameters file; otherwise leave dask_scheduler empty or "
            "set it to 'local'."
        )


def _dask_map(client):
    def run(function, items):
        futures = client.map(function, list(items), pure=False)
        return client.gather(futures)

    return run


@contextmanager
def _plain_loop():
    from helpers.stats._common import local_map

    yield local_map


@contextmanager
def _local_processes(workers):
    # loky's executor (joblib's) rather than concurrent.futures': functions travel by cloudpickle, as to
    # Dask workers, and the workers start cleanly from a notebook. Its own pool, shut down after the block.
    import os

    from joblib.externals.loky import ProcessPoolExecutor

    executor = ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, env=ONE_THREAD)
    try:
        yield lambda function, items: list(executor.map(function, items))
    finally:
        executor.shutdown(wait=True)


@contextmanager
def _local_cluster(workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(processes=True, host="127.0.0.1", n_workers=workers or 2, threads_per_worker=1,
                           dashboard_address=None)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield _dask_map(client)
        finally:
            client.close()
    finally:
        cluster.close()


@contextmanager
def _connected(address):
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError):
        raise InputError(
            f"dask_scheduler: no Dask scheduler answered at {address} within {CONNECT_TIMEOUT}. Start one there "
            f"(`dask scheduler`, then `dask worker {address}`), or leave dask_scheduler empty for local "
            "processes, or set it to 'local'."
        ) from None
    try:
        yield client
    finally:
        client.close()


@contextmanager
def _remote(address):
    with _connected(address) as client:
        try:
            client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        except (OSError, TimeoutError):
            raise InputError(
                f"dask_scheduler: the Dask scheduler at {address} has had no worker for {WORKER_TIMEOUT} s; "
                f"start one with `dask worker {address}`."
            ) from None
        yield _dask_map(client)


def check_scheduler(scheduler: str | None, allow_patient_data: bool, data_kind: str) -> None:
    """Raise the :class:`~helpers.errors.InputError` :func:`mapper` would raise for these settings, without
    starting any worker: a malformed address, patient data refused, or no scheduler answering (an existing
    scheduler is connected to, then left)."""
    if scheduler is None or str(scheduler).strip().lower() in ("", "local"):
        return
    address = _check_address(str(scheduler).strip())
    _refuse_patient_data(address, allow_patient_data, data_kind)
    with _connected(address):
        pass


def describe(scheduler: str | None, workers=None) -> str:
    """Where :func:`mapper` with these settings runs the work, in words a page can print."""
    import os

    if (scheduler is None or str(scheduler).strip() == "") and _in_process():
        return "this notebook's own process, one after another (the build already runs one notebook per core)"
    if scheduler is None or str(scheduler).strip() == "":
        return f"local worker processes ({workers or os.cpu_count() or 1} at once)"
    if str(scheduler).strip().lower() == "local":
        return f"a Dask cluster started on this machine for the page ({workers or 2} workers on 127.0.0.1)"
    return f"the Dask cluster whose scheduler is at {_check_address(str(scheduler).strip())}"


@contextmanager
def mapper(scheduler: str | None, allow_patient_data: bool, data_kind: str, workers=None):
    """A ``map(function, items) -> list`` (in the order of ``items``) for the length of a ``with`` block.

    ``scheduler``: ``None`` (or empty) for local processes (a plain loop in this process where
    :data:`IN_PROCESS_ENV` is ``1``), ``"local"`` for a Dask ``LocalCluster`` on
    127.0.0.1, or a scheduler address ``tcp://host:port``. ``workers``: the number of local processes or
    LocalCluster workers (default: all cores for processes, 2 for the cluster; ignored for an address).
    ``allow_patient_data`` must be ``True`` for ``data_kind == "real"`` to go to a scheduler that is not
    on this machine. Raises :class:`~helpers.errors.InputError` with one message for an address that is
    malformed, refused, or does not answer within 5 seconds.
    """
    if scheduler is None or str(scheduler).strip() == "":
        runner = _plain_loop() if _in_process() else _local_processes(workers)
    elif str(scheduler).strip().lower() == "local":
        runner = _local_cluster(workers)
    else:
        address = _check_address(str(scheduler).strip())
        _refuse_patient_data(address, allow_patient_data, data_kind)
        runner = _remote(address)
    with runner as run:
        yield run
