"""Kernels forked from a warm process.

A new kernel spends most of a short page's time importing: Python, IPython and ipykernel, numpy, pandas,
matplotlib, scipy and statsmodels cost about 1.5 CPU seconds before the first cell, and a build starts one
kernel per page. While a build executes its pages (:func:`zygote`), one process (the *zygote*) imports
them once; each page's kernel is then forked from it. The kernel is the same ipykernel with the command
line, environment and working directory that jupyter_client would give a new process, in a session of its
own; only the imported modules are shared, as they were when the zygote imported them (no page has run in
it). ``bench/kernels.py`` prints what this saves; ``MG_FORK_KERNELS=0`` turns it off.

What is imported up front is third-party code read once, never the project's helpers (a page imports those
itself, from the sources the build's cache keys on). matplotlib's backend is chosen from ``MPLBACKEND`` at
import, so the zygote sets the inline backend that ipykernel would set; the inline backend module itself is
left for the kernel to import (it hooks into IPython when it is imported).

jupyter_client sees the forked kernel as it sees a new process (:class:`Provisioner`): it signals it, polls
it and waits for it. The zygote reaps its kernels and tells each one's exit code and peak memory to the
worker that asked for it; a worker that goes away takes its kernel with it, and the zygote, when the build
ends, ends every kernel still running. Where a fork cannot be made (not Linux, another kernel command, no
zygote running), the kernel starts as a new process, as before.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from jupyter_client.provisioning import LocalProvisioner

from helpers import paths

ADDRESS_ENV = "MG_KERNEL_ZYGOTE"  # the zygote's socket, for the build's worker processes
FORK_ENV = "MG_FORK_KERNELS"  # "0": every kernel a new process
INLINE = "module://matplotlib_inline.backend_inline"  # the backend ipykernel gives matplotlib
PRELOAD = ("numpy", "pandas", "matplotlib", "matplotlib.pyplot", "IPython", "ipykernel.kernelapp",
           "ipykernel.ipkernel", "scipy.special", "scipy.stats", "scipy.optimize", "scipy.linalg",
           "statsmodels.regression.linear_model", "statsmodels.discrete.discrete_model",
           "statsmodels.duration.hazard_regression", "statsmodels.imputation.mice",
           "statsmodels.nonparametric.smoothers_lowess", "statsmodels.stats.multitest",
           "statsmodels.stats.contingency_tables")
LAUNCHER = ("-m", "ipykernel_launcher")  # the kernel command (after the interpreter) that can be forked


def forkable() -> bool:
    """Kernels are forked on Linux only (fork after imports is unsafe with macOS's system libraries), and
    not when ``MG_FORK_KERNELS=0`` (each kernel then starts as a new process: to compare, or to rule the
    zygote out when a kernel misbehaves)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and os.environ.get(FORK_ENV, "1") != "0"


@contextlib.contextmanager
def zygote(env: dict[str, str]):
    """While the block runs, the kernels that :mod:`helpers.pipeline.execute` starts in this process and in
    processes started from it are forked from one warm process whose environment is ``env`` (the kernels'
    environment: the variables read at import, such as the BLAS threads, the hash seed and matplotlib's
    backend, must be the kernels'). Afterwards every kernel it forked has ended. Does nothing where kernels
    cannot be forked."""
    if not forkable():
        yield
        return
    folder = tempfile.mkdtemp(prefix="mg-zygote-")
    # The socket listens before the zygote starts, so a worker may connect at once; the zygote answers
    # once its imports are done.
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(os.path.join(folder, "socket"))
    listener.listen(64)
    process = subprocess.Popen([sys.executable, "-m", "helpers.pipeline.kernels", str(listener.fileno())],
                               pass_fds=[listener.fileno()], stdin=subprocess.PIPE, cwd=paths.ROOT,
                               env={"MPLBACKEND": INLINE, **env},
                               # Ctrl-C in the terminal reaches the build, which then ends the zygote, and
                               # not the zygote itself, as it does not reach a kernel started as a process.
                               start_new_session=True)
    before = os.environ.get(ADDRESS_ENV)
    os.environ[ADDRESS_ENV] = listener.getsockname()
    listener.close()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ADDRESS_ENV, None)
        else:
            os.environ[ADDRESS_ENV] = before
        process.stdin.close()  # the zygote ends its kernels, waits for them, and exits
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


class Provisioner(LocalProvisioner):
    """jupyter_client's local provisioner, whose kernel is forked by the zygote when one runs
    (:data:`ADDRESS_ENV`) and the command is ipykernel's on this interpreter; else a new process."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        address = os.environ.get(ADDRESS_ENV)
        # The kernel's own builds (if a page started one) would have zygotes of their own.
        env = {k: v for k, v in (kwargs.get("env") or os.environ).items() if k != ADDRESS_ENV}
        kwargs["env"] = env
        if not address or not forkable() or tuple(cmd[1:3]) != LAUNCHER or not _same_interpreter(cmd[0]):
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            self.process = Forked(address, cmd[3:], env, cwd)
        except (OSError, ValueError):  # the zygote is gone: a new process, as jupyter_client starts one
            return await super().launch_kernel(cmd, **kwargs)
        # The kernel leads a process group of its own (it calls setsid first): jupyter_client signals the
        # group, and falls back to the process when the group does not exist yet.
        self.pid = self.pgid = self.process.pid
        self.cwd = cwd
        return self.connection_info


def _same_interpreter(executable: str) -> bool:
    found = shutil.which(executable)
    return found is not None and os.path.realpath(found) == os.path.realpath(sys.executable)


class Forked:
    """A kernel forked by the zygote, as a :class:`subprocess.Popen` looks to jupyter_client: ``pid``,
    ``returncode``, ``poll``, ``wait``, ``send_signal``, ``kill``, ``terminate``. ``peak_kb`` is the kernel's
    peak resident memory once it has ended (kB, as ``getrusage`` gives it on Linux)."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, arguments: list[str], env: dict[str, str], cwd: str):
        self.returncode: int | None = None
        self.peak_kb: int | None = None
        self._buffer = b""
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.connect(address)
            self._socket.sendall(json.dumps({"arguments": arguments, "env": env, "cwd": cwd}).encode() + b"\n")
            # The zygote answers once its imports are done (about two seconds after the build starts).
            answer = self._line(timeout=120)
        except BaseException:
            self._socket.close()
            raise
        if answer is None or "pid" not in answer:
            self._socket.close()
            raise ValueError(f"the zygote did not fork a kernel: {answer}")
        self.pid: int = answer["pid"]

    def _line(self, timeout: float | None) -> dict | None:
        """The zygote's next message, or None if none came within ``timeout`` seconds. A closed socket (the
        zygote ended, and with it its kernels) reads as the kernel killed."""
        while b"\n" not in self._buffer:
            self._socket.settimeout(timeout)
            try:
                chunk = self._socket.recv(4096)
            except (TimeoutError, BlockingIOError):  # (BlockingIOError: timeout 0)
                return None
            if not chunk:
                return {"returncode": -signal.SIGKILL, "peak_kb": None}
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _ended(self, message: dict) -> int:
        self.returncode, self.peak_kb = message["returncode"], message.get("peak_kb")
        self._socket.close()
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            message = self._line(timeout=0)
            if message is not None:
                return self._ended(message)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            message = self._line(timeout=timeout)
            if message is None:
                raise subprocess.TimeoutExpired("kernel", timeout)
            self._ended(message)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # never a pid the zygote has reaped (it may be another process's by now)
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


# The zygote's side.

def _serve(listener: socket.socket) -> None:
    """Import :data:`PRELOAD`, then fork a kernel for each request until standard input closes; report each
    kernel's end to the worker that asked for it."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):  # a library missing here is imported (or not) by the page itself
            importlib.import_module(name)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a kernel ended: the wake-up pipe tells the loop below
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    kernels: dict[int, socket.socket] = {}
    own = [listener, selector, wake_read, wake_write]
    while True:
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:
                _end_all(kernels)
                return
            if key.fileobj is listener:
                connection = listener.accept()[0]
                pid = _fork(connection, [*own, *kernels.values()])
                if pid:
                    kernels[pid] = connection
                    selector.register(connection, selectors.EVENT_READ, pid)
            elif key.fileobj == wake_read:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 4096)
                _reap(kernels, selector)
            else:  # the worker closed its end without waiting for the kernel: it went away
                selector.unregister(key.fileobj)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(key.data, signal.SIGKILL)


def _fork(connection: socket.socket, inherited: list) -> int:
    """Fork a kernel for the request on ``connection``; in the zygote, tell the worker its pid and return
    it (0 if the request could not be read)."""
    reader = connection.makefile("rb")
    try:
        request = json.loads(reader.readline())
    except ValueError:
        connection.close()
        return 0
    finally:
        reader.close()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        return pid
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for item in [connection, *inherited]:
            os.close(item) if isinstance(item, int) else item.close()
        os.setsid()
        code = _kernel(request)
    except BaseException:  # never back into the zygote's loop
        traceback.print_exc()
        os._exit(1)
    # The kernel has ended: the process exits as a kernel process does (its threads joined, its exit
    # functions run), from here up through the zygote's frames, none of which catches SystemExit.
    sys.exit(code)


def _kernel(request: dict) -> int:
    """In the forked process: become the kernel that ``python -m ipykernel_launcher <arguments>`` would
    be in ``cwd`` with ``env``; return its exit code once it has shut down."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # jupyter_client gives a kernel no input either
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if sys.path and Path(sys.path[0] or ".").resolve() == Path.cwd():  # as ipykernel_launcher does
        del sys.path[0]
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["arguments"]]
    # A new process draws its own seed for numpy's global generator (Python's random module reseeds itself
    # after a fork): a page that draws without a seed (a strip plot's jitter) draws as it would have.
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel import kernelapp

    # The kernel exits when its parent does. Its parent is this zygote; the parent ipykernel would watch,
    # JPY_PARENT_PID, was read from the zygote's environment when ipykernel was imported.
    arguments = [*request["arguments"], f"--IPKernelApp.parent_handle={os.getppid()}"]
    try:
        kernelapp.launch_new_instance(argv=arguments)
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    return 0


def _reap(kernels: dict[int, socket.socket], selector) -> None:
    """Collect every kernel that has ended and tell its worker."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            return
        connection = kernels.pop(pid, None)
        if connection is not None:
            with contextlib.suppress(KeyError):  # unregistered already if its worker went away
                selector.unregister(connection)
            _report(connection, status, usage)


def _end_all(kernels: dict[int, socket.socket]) -> None:
    """The build has ended: kill each kernel still running (with its process group), wait for it and tell
    its worker."""
    for pid in kernels:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    for pid, connection in kernels.items():
        with contextlib.suppress(ChildProcessError):
            _report(connection, *os.wait4(pid, 0)[1:])


def _report(connection: socket.socket, status: int, usage) -> None:
    """Tell a kernel's worker how it ended: its exit code (negative: the signal) and peak memory (kB)."""
    with contextlib.suppress(OSError):  # the worker may be gone
        connection.sendall(json.dumps({"returncode": os.waitstatus_to_exitcode(status),
                                       "peak_kb": usage.ru_maxrss}).encode() + b"\n")
    connection.close()


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
