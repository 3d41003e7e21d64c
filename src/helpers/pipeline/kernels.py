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
it and waits for it. Signals go through the zygote, which sends them only to a kernel it has not reaped (its
pid cannot belong to another process yet). The zygote reaps its kernels and tells each one's exit code and
peak memory to the worker that asked for it; a worker that goes away takes its kernel with it, and when
the build ends (or its process disappears) the zygote ends every kernel still running. Where a fork cannot
be made or would differ from a new process (not Linux, another kernel command or interpreter, a variable
read at import set otherwise, no zygote answering), the kernel starts as a new process, as before.
"""

from __future__ import annotations

import contextlib
import gc
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
# Read when Python starts or a preloaded library is imported: a request that sets one otherwise than the
# zygote (or runs in another folder: ./matplotlibrc) gets a new process.
AT_IMPORT = ("PYTHONPATH", "PYTHONHASHSEED", "PYTHONWARNINGS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
             "MKL_NUM_THREADS", "MPLBACKEND", "MPLCONFIGDIR")


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
    cannot be forked or the zygote cannot be started (each kernel is then a new process), or where a zygote
    serves this process already (one started by its caller for many builds: the test suite's, say)."""
    started = _start(env) if forkable() and not os.environ.get(ADDRESS_ENV) else None
    if started is None:
        yield
        return
    process, address, folder = started
    before = os.environ.get(ADDRESS_ENV)
    os.environ[ADDRESS_ENV] = address
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


def _start(env: dict[str, str]):
    """The zygote's process, socket address and folder; None if it cannot be started (a socket path too long
    for the system under a deep TMPDIR, say)."""
    folder = tempfile.mkdtemp(prefix="mg-zygote-")
    try:
        # The socket listens before the zygote starts, so a worker may connect at once; the zygote answers
        # once its imports are done.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(os.path.join(folder, "socket"))
            listener.listen(64)
            process = subprocess.Popen(
                [sys.executable, "-m", "helpers.pipeline.kernels", str(listener.fileno()), str(os.getpid())],
                pass_fds=[listener.fileno()], stdin=subprocess.PIPE, cwd=paths.ROOT, env={"MPLBACKEND": INLINE, **env},
                # Ctrl-C in the terminal reaches the build, which then ends the zygote, and not the zygote
                # itself, as it does not reach a kernel started as a process.
                start_new_session=True)
            return process, listener.getsockname(), folder
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return None


class Provisioner(LocalProvisioner):
    """jupyter_client's local provisioner, whose kernel is forked by the zygote when one runs
    (:data:`ADDRESS_ENV`) and the command is ipykernel's on this interpreter; else a new process."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        address = os.environ.get(ADDRESS_ENV)
        # The kernel's own builds (if a page started one) would have zygotes of their own.
        env = {k: v for k, v in (kwargs.get("env") or os.environ).items() if k != ADDRESS_ENV}
        kwargs["env"] = env
        if not address or not forkable() or tuple(cmd[1:3]) != LAUNCHER or cmd[0] != sys.executable:
            return await super().launch_kernel(cmd, **kwargs)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        try:
            self.process = Forked(address, cmd[3:], env, cwd)
        except (OSError, ValueError):  # no zygote, or it refused: a new process, as jupyter_client starts one
            return await super().launch_kernel(cmd, **kwargs)
        # No process group for jupyter_client to signal: each signal goes to the zygote (Forked.send_signal),
        # which sends it to the kernel's group while the kernel is its unreaped child.
        self.pid, self.pgid = self.process.pid, None
        self.cwd = cwd
        return self.connection_info


class Forked:
    """A kernel forked by the zygote, as a :class:`subprocess.Popen` looks to jupyter_client: ``pid``,
    ``returncode``, ``poll``, ``wait``, ``send_signal``, ``kill``, ``terminate``. ``peak_kb`` is the kernel's
    peak resident memory once it has ended (kB, as ``getrusage`` gives it on Linux); ``lost``: the zygote
    went away (taking the kernel with it) before it could tell how the kernel ended."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, arguments: list[str], env: dict[str, str], cwd: str):
        self.returncode: int | None = None
        self.peak_kb: int | None = None
        self.lost = False
        self._buffer = b""
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._socket.settimeout(10)
            self._socket.connect(address)
            self._socket.sendall(json.dumps({"arguments": arguments, "env": env, "cwd": cwd}).encode() + b"\n")
            # The zygote answers once its imports are done (about two seconds after the build starts).
            answer = self._line(timeout=120)
        except BaseException:
            self._abandon()
            raise
        if answer is None or "pid" not in answer:
            self._socket.close()
            raise ValueError(f"the zygote did not fork a kernel: {answer}")
        self.pid: int = answer["pid"]

    def _abandon(self) -> None:
        """Interrupted while the zygote forked (an exception in the thread that waits for the pid): the kernel,
        if one was forked, is killed and reaped before the caller removes the kernel's sockets folder, where
        it would otherwise fail to bind and print a traceback. (A build's stop, SIGTERM, lands in the worker's
        main thread, not here: it is held back until the kernel has started, ``execute._manager_class``.)"""
        with contextlib.suppress(Exception):
            answer = self._line(timeout=10)
            if answer is not None and "pid" in answer:
                self._socket.sendall(json.dumps({"signal": int(signal.SIGKILL)}).encode() + b"\n")
                self._line(timeout=10)  # its end, once reaped
        self._socket.close()

    def _line(self, timeout: float | None) -> dict | None:
        """The zygote's next message, or None if none came within ``timeout`` seconds."""
        while b"\n" not in self._buffer:
            self._socket.settimeout(timeout)
            try:
                chunk = self._socket.recv(4096)
            except (TimeoutError, BlockingIOError):  # (BlockingIOError: timeout 0)
                return None
            if not chunk:  # the zygote is gone, and its kernels with it
                return {"returncode": -signal.SIGKILL, "peak_kb": None, "lost": True}
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _ended(self, message: dict) -> int:
        self.returncode, self.peak_kb = message["returncode"], message.get("peak_kb")
        self.lost = message.get("lost", False)
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
        """Ask the zygote to signal the kernel's process group (nothing if the kernel has ended)."""
        if self.poll() is None:
            with contextlib.suppress(OSError):  # the zygote is gone, and the kernel with it
                self._socket.sendall(json.dumps({"signal": int(signum)}).encode() + b"\n")

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


# The zygote's side.

class _Zygote:
    """The zygote's state: its listening socket, the kernels it forked (pid -> the connection of the worker
    that asked) and what each connection has sent and not yet been read."""

    def __init__(self, listener: socket.socket, parent: int):
        self.listener, self.parent = listener, parent
        self.kernels: dict[int, socket.socket] = {}
        self.pending: dict[int, bytes] = {}
        self.cwd = os.getcwd()
        self.at_import = {name: os.environ.get(name) for name in AT_IMPORT}
        self.selector = selectors.DefaultSelector()
        self.wake_read, self.wake_write = os.pipe()

    def serve(self) -> None:
        """Fork a kernel for each request until standard input closes or the build's process is gone; report
        each kernel's end to the worker that asked for it. One event that fails never ends the zygote: its
        worker falls back to a new process or sees its kernel end."""
        for fd in (self.wake_read, self.wake_write):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wake_write)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a kernel ended: the wake-up pipe tells the loop below
        for item, what in ((self.listener, "accept"), (sys.stdin, "stop"), (self.wake_read, "reap")):
            self.selector.register(item, selectors.EVENT_READ, what)
        while True:
            events = self.selector.select(timeout=1.0)
            if os.getppid() != self.parent:  # the build was killed
                return self.end_all()
            for key, _ in events:
                if key.data == "stop":
                    return self.end_all()
                with contextlib.suppress(Exception):
                    if key.data == "accept":
                        self.fork(self.listener.accept()[0])
                    elif key.data == "reap":
                        with contextlib.suppress(BlockingIOError):
                            os.read(self.wake_read, 4096)
                        self.reap()
                    elif self.kernels.get(key.data) is key.fileobj:  # (not a kernel reaped earlier in this batch)
                        self.message(key.data, key.fileobj)

    def refusal(self, request: dict) -> str:
        """Why a new process would differ from a kernel forked here ('' if it would not)."""
        if os.path.realpath(request["cwd"]) != os.path.realpath(self.cwd):
            return f"working directory {request['cwd']}"
        env = {**request["env"], "MPLBACKEND": request["env"].get("MPLBACKEND", INLINE)}  # ipykernel's default
        return ", ".join(n for n in AT_IMPORT if env.get(n) != self.at_import[n])

    def fork(self, connection: socket.socket) -> None:
        """Fork a kernel for the request on ``connection`` and tell the worker its pid (or why not)."""
        connection.settimeout(10)
        with connection.makefile("rb") as reader:
            request = json.loads(reader.readline())
        refused = self.refusal(request)
        if refused:
            connection.sendall(json.dumps({"refused": refused}).encode() + b"\n")
            connection.close()
            return
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if not pid:
            self.become_kernel(connection, request)
        self.kernels[pid] = connection  # reaped and reported whatever happens next
        try:
            connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        except OSError:  # the worker gave up waiting: its kernel must not run
            os.kill(pid, signal.SIGKILL)
            return
        connection.setblocking(False)
        self.selector.register(connection, selectors.EVENT_READ, pid)

    def become_kernel(self, connection: socket.socket, request: dict):
        """In the forked process: the kernel, then exit as a kernel process exits."""
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for item in (connection, self.listener, *self.kernels.values()):
                item.close()
            self.selector.close()
            os.close(self.wake_read)
            os.close(self.wake_write)
            os.setsid()
            code = _kernel(request)
        except BaseException:  # never back into the zygote's loop
            traceback.print_exc()
            os._exit(1)
        # The kernel has ended: the process exits as a kernel process does (its threads joined, its exit
        # functions run), from here up through the zygote's frames, none of which catches SystemExit.
        sys.exit(code)

    def message(self, pid: int, connection: socket.socket) -> None:
        """A worker wrote: a signal for its kernel, or nothing (it went away: its kernel is killed)."""
        try:
            data = connection.recv(4096)
        except BlockingIOError:
            return
        if not data:
            self.selector.unregister(connection)
            self.signal(pid, signal.SIGKILL)
            return
        lines = (self.pending.pop(pid, b"") + data).split(b"\n")
        self.pending[pid] = lines.pop()
        for line in lines:
            self.signal(pid, json.loads(line)["signal"])

    def signal(self, pid: int, signum: int) -> None:
        """Signal an unreaped kernel's process group (the kernel alone if it has not made its group yet)."""
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def reap(self) -> None:
        """Collect every kernel that has ended and tell its worker."""
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if not pid:
                return
            self.report(pid, status, usage)

    def report(self, pid: int, status: int, usage) -> None:
        """Tell a kernel's worker how it ended: its exit code (negative: the signal) and peak memory (kB)."""
        connection = self.kernels.pop(pid, None)
        self.pending.pop(pid, None)
        if connection is None:
            return
        with contextlib.suppress(KeyError, ValueError):  # unregistered already if its worker went away
            self.selector.unregister(connection)
        with contextlib.suppress(OSError):  # the worker may be gone
            connection.setblocking(True)
            connection.sendall(json.dumps({"returncode": os.waitstatus_to_exitcode(status),
                                           "peak_kb": usage.ru_maxrss}).encode() + b"\n")
        connection.close()

    def end_all(self) -> None:
        """The build has ended: kill each kernel still running (with its process group), wait for it and
        tell its worker."""
        for pid in list(self.kernels):
            self.signal(pid, signal.SIGKILL)
        for pid in list(self.kernels):
            with contextlib.suppress(ChildProcessError):
                _, status, usage = os.wait4(pid, 0)
                self.report(pid, status, usage)


def _kernel(request: dict) -> int:
    """In the forked process: become the kernel that ``python -m ipykernel_launcher <arguments>`` would
    be in ``cwd`` with ``env``; return its exit code once it has shut down."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # jupyter_client gives a kernel no input either
    os.close(null)
    os.chdir(request["cwd"])
    os.environ.clear()
    # The kernel exits when its parent does. Its parent is this zygote; the parent ipykernel would watch,
    # JPY_PARENT_PID, was read from the zygote's environment when ipykernel was imported.
    os.environ.update({**request["env"], "JPY_PARENT_PID": str(os.getppid())})
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["arguments"]]
    # A new process draws its own seed for numpy's global generator (Python's random module reseeds itself
    # after a fork): a page that draws from it without a seed draws as it would have in a new process.
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    from ipykernel import kernelapp

    try:
        kernelapp.launch_new_instance(argv=[*request["arguments"], f"--IPKernelApp.parent_handle={os.getppid()}"])
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 1
    return 0


def _preload() -> None:
    """Import :data:`PRELOAD` as a new kernel would: without this folder first on ``sys.path`` (as
    ipykernel_launcher removes it). A library that fails to import here is left for the page to import
    (or not); what is imported is then frozen, so the kernels share its memory rather than copying it."""
    if sys.path and os.path.realpath(sys.path[0] or ".") == os.path.realpath(os.getcwd()):
        del sys.path[0]
    for name in PRELOAD:
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    gc.freeze()


if __name__ == "__main__":
    _preload()
    _Zygote(socket.socket(fileno=int(sys.argv[1])), parent=int(sys.argv[2])).serve()
