"""Kernels forked from the build's warm process (helpers.pipeline.kernels) are the kernels a new process
would be: the same working directory, environment, path, backend and hash seed, a session of their own, a
figure shown inline, numpy's unseeded draws their own; only the parent differs (the zygote, not the process
that asked). When the build ends, or the process that asked goes away, the kernel ends; with no zygote to
ask, the kernel starts as a new process. (The build's killed-kernel test runs its pages through the zygote:
tests/test_build.py.)"""

import contextlib
import json
import os
import signal
import time
from pathlib import Path

import nbformat
import pytest

from helpers import paths
from helpers.pipeline import execute, kernels

pytestmark = pytest.mark.skipif(not kernels.forkable(), reason="kernels are forked on Linux only")

PROBE = ('---\njupytext:\n  text_representation:\n    extension: .md\n    format_name: myst\nkernelspec:\n'
         '  display_name: Python 3\n  language: python\n  name: python3\n---\n\n```{code-cell} ipython3\n'
         ':tags: [parameters]\nparams_file = ""\noverrides = {}\n```\n\n```{code-cell} ipython3\n'
         'import json, os, sys\nimport matplotlib.pyplot as plt\nimport numpy as np\n'
         'print(json.dumps({"cwd": os.getcwd(), "path": sys.path, "env": dict(os.environ), "argv": sys.argv[1:],\n'
         '    "backend": plt.get_backend(), "hash": hash("magnesium"), "leader": os.getsid(0) == os.getpid(),\n'
         '    "parent": os.getppid(), "draw": np.random.random()}))\n```\n\n'
         '```{code-cell} ipython3\nplt.plot([1, 2], [2, 1])\nplt.show()\n```\n')


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """Run the probe page through execute() as a build's worker does; return what its kernel printed and
    whether it showed a figure. execute() sets the kernel's variables in this process: restored after."""
    for name in (*execute.KERNEL_DEFAULTS, paths.TABLES_ENV, kernels.ADDRESS_ENV, kernels.FORK_ENV):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    source = tmp_path / "probe.md"
    source.write_text(PROBE, encoding="utf-8")

    def run(name: str) -> dict:
        target = tmp_path / f"{name}.ipynb"
        execute.execute(source, target, "params/default.yml", {}, tmp_path / "tables")
        cells = [c for c in nbformat.read(target, as_version=4).cells if c.cell_type == "code"]
        facts = json.loads(next(o["text"] for o in cells[-2].outputs if o.get("name") == "stdout"))
        facts["figure"] = any("image/png" in o.get("data", {}) for o in cells[-1].outputs)
        return facts

    return run


def _without_parent(facts: dict) -> dict:
    """What must be equal between a forked kernel and a new one: all but the parent, the variable that names
    it (JPY_PARENT_PID), and the draw."""
    env = {k: v for k, v in facts["env"].items() if k != "JPY_PARENT_PID"}
    argv = [a for a in facts["argv"] if not a.endswith(".json")]  # the connection file: one per kernel
    return {**{k: v for k, v in facts.items() if k not in ("parent", "draw", "env", "argv")}, "env": env, "argv": argv}


def test_a_forked_kernel_is_the_kernel_a_new_process_would_be(probe, monkeypatch):
    new = probe("new")
    with kernels.zygote(execute.kernel_environment()):
        forked, again = probe("forked"), probe("again")
        # A variable read at import set otherwise than in the zygote: the kernel is a new process.
        monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
        refused = probe("refused")
    assert new["parent"] == os.getpid() and forked["parent"] not in (os.getpid(), new["parent"])
    assert refused["parent"] == os.getpid() and refused["env"]["OPENBLAS_NUM_THREADS"] == "2"
    assert _without_parent(forked) == _without_parent(new) == _without_parent(again)
    assert new["figure"] and new["leader"] and new["backend"] == "module://matplotlib_inline.backend_inline"
    assert new["env"]["PYTHONHASHSEED"] == "0" and new["env"]["OPENBLAS_NUM_THREADS"] == "1"
    assert new["env"][paths.TABLES_ENV] and new["cwd"] == str(paths.ROOT)
    assert forked["draw"] != again["draw"]  # each kernel seeds numpy's global generator, as a new process does


def test_with_no_zygote_to_answer_the_kernel_starts_as_a_new_process(probe, monkeypatch, tmp_path):
    monkeypatch.setenv(kernels.ADDRESS_ENV, str(tmp_path / "gone"))
    facts = probe("fallback")
    assert facts["parent"] == os.getpid() and facts["figure"]
    monkeypatch.delenv(kernels.ADDRESS_ENV)
    monkeypatch.setenv(kernels.FORK_ENV, "0")  # turned off: no zygote starts
    with kernels.zygote(execute.kernel_environment()):
        assert kernels.ADDRESS_ENV not in os.environ


def _kernel(address: str, sockets) -> kernels.Forked:
    """A kernel forked by the zygote at ``address``, its sockets named ``sockets``-1, -2, ..."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(transport="ipc", ip=str(sockets))
    manager.write_connection_file()
    return kernels.Forked(address, ["-f", manager.connection_file], execute.kernel_environment(), str(paths.ROOT))


def _gone(pid: int, within: float = 60.0) -> bool:
    """Whether process ``pid`` no longer exists (reaped, not a zombie) within ``within`` seconds (a guard
    against a hang, not a timing)."""
    ends = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() >= ends:
            return False
        time.sleep(0.05)


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
    return found


def test_the_zygote_ends_its_kernels_when_the_build_ends_and_when_their_worker_goes_away(tmp_path, monkeypatch):
    monkeypatch.delenv(kernels.ADDRESS_ENV, raising=False)  # a zygote of its own, not the test run's
    with kernels.zygote(execute.kernel_environment()):
        address = os.environ[kernels.ADDRESS_ENV]
        zygote = next(iter(_children(os.getpid()) & {int(p.parent.name) for p in Path("/proc").glob("[0-9]*/cmdline")
                                                     if b"helpers.pipeline.kernels" in p.read_bytes()}))
        orphan, running = _kernel(address, tmp_path / "a"), _kernel(address, tmp_path / "b")
        assert _children(zygote) == {orphan.pid, running.pid}
        orphan._socket.close()  # its worker went away without waiting for it
        assert _gone(orphan.pid)
        assert running.poll() is None
        # The thread that asked is interrupted while the zygote forks its kernel (before it has read the pid):
        # the kernel is gone before the worker removes its sockets folder. (A build's stop while a kernel
        # starts: tests/test_build.py.)
        wait = kernels.Forked._line

        def stopped(self, timeout):
            monkeypatch.setattr(kernels.Forked, "_line", wait)
            ends = time.monotonic() + 60
            while _children(zygote) == {running.pid} and time.monotonic() < ends:  # until it has forked
                time.sleep(0.01)
            raise KeyboardInterrupt
        monkeypatch.setattr(kernels.Forked, "_line", stopped)
        with pytest.raises(KeyboardInterrupt):
            _kernel(address, tmp_path / "c")
        assert _children(zygote) == {running.pid}
    assert running.wait(timeout=60) == -signal.SIGKILL and running.peak_kb > 0
    assert _gone(running.pid, within=0)  # reaped by the zygote before it exited
