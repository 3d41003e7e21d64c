"""Executing one notebook with papermill, into a staging folder, never over its source; and the chapters
as ``.ipynb`` files for plain papermill (``make notebooks``).

The notebook is converted from its jupytext text file in memory; papermill injects ``params_file`` and
``overrides`` (nothing else), and the run's tables go to the folder named by ``MG_TABLES_DIR``. For a
user's own papermill run, :func:`export` writes each chapter into a build folder (never beside its
``.md``) with a parameters cell generated from the schema (:func:`helpers.pipeline.params.parameters_cell`).
"""

import functools
import logging
import os
import resource
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import jupytext
import nbformat

from helpers import paths
from helpers.pipeline import distributed
from helpers.errors import BuildError  # noqa: F401  (raised here; importable from here as before)


# Run in each kernel before the notebook's first cell (IPython's exec_lines: no output, no cell).
QUIET_TORNADO = "import logging; logging.getLogger('tornado').setLevel(logging.CRITICAL)"


def execute(source: Path, target: Path, params_file: str, overrides: dict, tables: Path) -> float:
    """Execute ``source`` into ``target`` with the run's parameters file and overrides; return the seconds.

    Runs in a worker process of its own: the kernel inherits ``MG_TABLES_DIR`` from it.
    """
    import papermill
    from nbclient.exceptions import DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    _worker_settings(tables)
    notebook = jupytext.read(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    # IPC sockets rather than TCP: the kernel is local, and nothing then listens on a network port. Each
    # kernel's sockets live in a private temporary folder (never in the source tree, never shared).
    sockets = tempfile.mkdtemp(prefix="mg-kernel-")
    kernel = _kernel_manager(os.path.join(sockets, "kernel"))
    peak_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stopped, running = False, {}
    try:
        _RUNNING.append(source)
        if _STOP:  # the build stopped while this worker took up the run
            raise Stopped()
        papermill.execute_notebook(
            notebook, str(target), parameters={"params_file": params_file, "overrides": overrides},
            cwd=str(paths.ROOT), progress_bar=False, kernel_name="python3", language="python", km=kernel,
            extra_arguments=[f"--IPKernelApp.exec_lines={QUIET_TORNADO}"],
            # Written once, when the run ends or fails (papermill then writes the partly executed copy), not
            # after every cell: nobody watches the file while it runs.
            request_save_on_cell_execute=False,
            on_cell_execute=lambda cell, cell_index: running.update(cell=cell),
        )
    except PapermillExecutionError as exc:
        raise BuildError(
            f"{paths.shown(source)} failed in cell {failed_cell(target)}: {exc.ename}: {exc.evalue.strip()} "
            f"The partly executed copy is {paths.shown(target)}; the last good book is untouched."
        ) from None
    except RuntimeError as exc:  # nbclient's DeadKernelError, or its words for a kernel lost while it started
        if not isinstance(exc, DeadKernelError) and not str(exc).startswith("Kernel "):
            raise
        when = (f"while it ran cell {_cell_of(notebook, running.get('cell'))}" if isinstance(exc, DeadKernelError)
                else f"before its first cell ({exc})")
        raise BuildError(f"{paths.shown(source)}: {_death(kernel, peak_before)} {when}; the last good book is "
                         "untouched.") from None
    except Stopped:
        stopped = True
        raise
    finally:
        _RUNNING.clear()
        _stop(kernel, now=stopped)
        shutil.rmtree(sockets, ignore_errors=True)
    _hide_injected_cell(target)
    return time.perf_counter() - started


@functools.cache
def _manager_class():
    """jupyter_client's KernelManager, whose start holds back a stop until the kernel has started.

    nbclient calls ``start_kernel`` inside its event loop, so jupyter_client runs the start in a thread of
    its own while this (main) thread waits; a SIGTERM raised here then (:func:`stop_on_sigterm`) left that
    thread to launch the kernel after this one had found no kernel to kill and removed the sockets folder:
    the kernel failed to bind and printed a traceback on the build's stderr. Held back, the stop is raised
    once the kernel exists, and :func:`_stop` kills it.
    """
    from jupyter_client.manager import KernelManager

    class Manager(KernelManager):
        def start_kernel(self, **kwargs):
            _STARTING.append(True)
            try:
                return super().start_kernel(**kwargs)
            finally:
                _STARTING.clear()
                if _STOP and _RUNNING:
                    raise Stopped()

    return Manager


def _kernel_manager(sockets: str):
    """The manager of a page's kernel, its sockets named ``sockets``-1, -2, ..."""
    from helpers.pipeline import kernels

    # nbclient waits for a cell's messages and checks every second that the kernel lives, both on one event
    # loop: it needs the asynchronous client. KernelManager's own (blocking) client waited for the next
    # message inside that loop, so a kernel killed mid-cell (the out-of-memory killer) hung the build forever.
    kernel = _manager_class()(kernel_name="python3", transport="ipc", ip=sockets, kernel_id=str(uuid.uuid4()),
                              client_class="jupyter_client.asynchronous.AsyncKernelClient")
    # Forked from the build's warm process when one runs, else started as a new process (helpers.pipeline.kernels).
    kernel.provisioner = kernels.Provisioner(kernel_id=kernel.kernel_id, kernel_spec=kernel.kernel_spec, parent=kernel)
    return kernel


def _worker_settings(tables: Path) -> None:
    """The logging and environment of the process that runs a kernel (the kernel inherits the variables)."""
    # While a kernel shuts down, a zmq stream may still run a callback on its closed socket ('Socket
    # operation on non-socket'); tornado logs that race with a traceback, in the kernel (whose tornado
    # logger ipykernel points at the real stderr) and in this client. It says nothing about the notebook
    # (its own errors come back as PapermillExecutionError below), so both keep it off stderr.
    logging.getLogger("tornado").setLevel(logging.CRITICAL)
    # A kernel that died is told in the BuildError below, once: nbclient's own log line would repeat it.
    logging.getLogger("papermill").addFilter(_NOT_KERNEL_DIED)
    # nbclient's task for the cell fails with the same DeadKernelError; when nobody awaits it any more asyncio
    # logs it with its traceback at garbage collection ("Task exception was never retrieved"), sometimes.
    logging.getLogger("asyncio").addFilter(_NOT_KERNEL_DIED)
    os.environ[paths.TABLES_ENV] = str(tables)
    for name, value in KERNEL_DEFAULTS.items():
        os.environ.setdefault(name, value)


# The environment of every kernel, where the user has not set these variables (the build's warm process,
# helpers.pipeline.kernels, starts with them too: they are read when a library is imported or Python starts).
KERNEL_DEFAULTS = {
    # The build runs one notebook per core: a kernel's BLAS threads would only compete with the other
    # kernels (a Cox fit then costs twice the CPU).
    **{name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")},
    # For the same reason a page's repeated work (imputations, the sweep's refits) runs in its kernel's own
    # process, not in worker processes of its own, unless a Dask scheduler is named (helpers.pipeline.distributed).
    distributed.IN_PROCESS_ENV: "1",
    # The cache relies on a run giving the same tables every time: string hashing, and so the order of a
    # set of strings, is fixed in every kernel (and the processes it starts) rather than drawn per process.
    "PYTHONHASHSEED": "0",
}


def kernel_environment() -> dict[str, str]:
    """This process's environment with :data:`KERNEL_DEFAULTS` where unset: what a kernel starts with."""
    return {**KERNEL_DEFAULTS, **os.environ}


class Stopped(BaseException):
    """Raised in a worker whose run the build has stopped (another page failed): see :func:`stop_on_sigterm`."""


_RUNNING = []  # the notebook this process executes, if any
_STOP = []  # the build has stopped this worker
_STARTING = []  # its kernel is being started (in jupyter_client's thread): a stop waits until it has


def stop_on_sigterm() -> None:
    """In a build's worker process: SIGTERM stops the notebook it executes at once, its kernel killed and its
    files removed (ending the worker would leave the kernel to notice by itself that its parent is gone,
    with a warning on stderr). A worker between runs only takes note (it may hold the lock of the pool's
    queue while it waits): a run it takes up afterwards (one queued before the build stopped) stops at once,
    and the worker ends when the pool sends it no more. A stop that lands while the kernel starts is raised
    once it has started (:func:`_kernel_manager`)."""
    def stop(signum, frame):
        _STOP.append(signum)
        if _RUNNING and not _STARTING:
            raise Stopped()
    signal.signal(signal.SIGTERM, stop)


def _death(kernel, peak_before: int) -> str:
    """How the kernel ended: its signal or exit code, and its peak memory when this process can tell it (the
    largest of its children so far: known when the kernel's peak is above every earlier kernel's)."""
    process = getattr(kernel.provisioner, "process", None)
    code = process.poll() if process is not None else None
    # A kernel forked by the build's warm process tells its own peak (helpers.pipeline.kernels.Forked).
    own = getattr(process, "peak_kb", None)
    peak = own or resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux
    memory = f"its peak memory {peak / 1024 ** 2:.1f} GB" if own or peak > peak_before else ""
    if code is None:
        return "its kernel stopped answering"
    if getattr(process, "lost", False):
        return "its kernel ended with the process it was forked from (helpers.pipeline.kernels)"
    if code == -signal.SIGKILL:  # never sent by the build to a kernel that runs a cell
        return f"its kernel was killed by the system (SIGKILL; out of memory? {memory or 'peak memory unknown'})"
    ended = f"stopped by signal {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return f"its kernel {ended}" + (f" ({memory})" if memory else "")


def _cell_of(notebook, cell) -> str:
    """The number (1-based, counting code cells, as :func:`failed_cell`) and first line of a cell of the
    executed copy, found in the source notebook by its id ('?' if it cannot be)."""
    code = [c for c in notebook.cells if c.cell_type == "code"]
    number = next((n for n, c in enumerate(code, start=1) if cell is not None and c.get("id") == cell.get("id")), None)
    if number is None:
        return "?"
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return f"{number} ({first!r})"


class _NotKernelDied(logging.Filter):
    """Drops a log record about a dead kernel: its message, or the exception it carries."""

    def filter(self, record):
        exception = record.exc_info[1] if record.exc_info else None
        return "Kernel died" not in record.getMessage() and "Kernel died" not in str(exception or "")


_NOT_KERNEL_DIED = _NotKernelDied()


def _stop(kernel, now: bool = False) -> None:
    """Ask the kernel to shut down and wait for it (SIGTERM, then SIGKILL, only if it does not exit in time).

    jupyter_client's ``shutdown_kernel`` interrupts the kernel first: a SIGINT that lands while the kernel
    handles a message (papermill's last ``kernel_info`` request) made it print "[IPKernelApp] ERROR |
    KeyboardInterrupt caught in kernel." on the build's stderr. The run is over, so there is nothing to
    interrupt: a shutdown request alone stops it cleanly. ``now``: the run was stopped, its kernel is
    killed at once (with any process it started: its process group).
    """
    if not kernel.has_kernel:
        return
    try:
        if now:
            kernel.signal_kernel(signal.SIGKILL)
        elif kernel.is_alive():  # a dead kernel's sockets may be closed already
            kernel.request_shutdown()
        kernel.finish_shutdown()
    finally:
        kernel.cleanup_resources()


def _hide_injected_cell(target: Path) -> None:
    """papermill's injected cell is kept out of the HTML: the colophon shows the run's parameters."""
    nb = nbformat.read(target, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, target)


def failed_cell(target: Path) -> str:
    """The number (1-based, counting code cells) and first line of the cell where execution stopped."""
    try:
        nb = nbformat.read(target, as_version=4)
    except (OSError, ValueError):
        return "?"
    code = [c for c in nb.cells if c.cell_type == "code" and "injected-parameters" not in c.metadata.get("tags", [])]
    for number, cell in enumerate(code, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            return f"{number} ({first!r})"
    return "?"


def export(folder: Path) -> list[Path]:
    """Write every chapter of ``notebooks/`` as ``folder/<chapter>.ipynb`` for plain papermill, its
    parameters cell generated from the schema: ``papermill 03_hazards.ipynb out.ipynb -p cohort_csv mine.csv
    -p mg_unit mmol/L`` (or ``-f my-params.yml``). Returns the files written."""
    from helpers.pipeline import params

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(paths.NOTEBOOKS.glob("*.md")):
        notebook = jupytext.read(source)
        for cell in notebook.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = params.parameters_cell()
        target = folder / f"{source.stem}.ipynb"
        nbformat.write(notebook, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    """``python -m helpers.pipeline.execute [FOLDER]``: the chapters as .ipynb for papermill (default
    ``_build/ipynb``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m helpers.pipeline.execute", description=export.__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(paths.BUILD / "ipynb"))
    for path in export(Path(parser.parse_args(argv).folder).resolve()):
        print(paths.shown(path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
