"""Run fuzz cases in a forked worker process, each operation under a time budget.

A hang in C code (a backtracking regex in `re`) cannot be interrupted from Python inside the same
process, so cases run in a child: the parent waits on a pipe, and when one step of a case takes longer
than the budget it asks the child for its Python stack (faulthandler on SIGUSR1, which works while the
child is stuck in C), kills it, reports a hang and forks a fresh worker for the next case. The child's
address space is capped, so a memory bomb becomes a MemoryError (reported like any other exception)
instead of swapping the machine.

The budget counts the worker's CPU time, not the clock: on a shared machine (a long run at `nice` beside
other jobs) a step that needs one CPU second can take fifteen on the clock, and that is not a hang. A
step that blocks without using CPU (a FIFO read, a lock, a sleep) is caught by a wall-clock cap of
WALL_FACTOR budgets. Verdicts do not depend on the machine's speed for ordinary inputs: a normal step
takes milliseconds of CPU, the budget is 10 s, and the pathological inputs this catches grow
exponentially or worse.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

STEP_BUDGET_S = 10.0  # issue 11: "0 hangs > 10 s"
MEMORY_CAP_BYTES = 3 * 1024 ** 3  # address space a case may add
SETUP_TIMEOUT_S = 300.0
WALL_FACTOR = 6  # a step may take this many budgets on the clock while it used less than one budget of CPU
_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime: fields 14 and 15 of stat(5)
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Outcome:
    """What one case produced: its findings (dicts, see findings.py), or how the worker died."""

    result: Any = None
    hung_step: str | None = None  # the step that exceeded the budget
    hang_stack: str = ""
    hang_cpu: tuple[float, float] | None = None  # (CPU seconds, clock seconds) of the step when it was stopped
    died: str | None = None  # the worker vanished (signal, os._exit) during `died_step`
    steps: list[str] = field(default_factory=list)
    step_seconds: list[tuple[str, float]] = field(default_factory=list)  # finished steps and how long each took
    seconds: float = 0.0


def _mapped_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _die_with_parent() -> None:
    """Linux: the kernel kills the worker when its parent goes (Ctrl-C or kill of a fuzz run), even mid-case."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(conn, setup: Callable[[], None] | None, stack_file: str) -> None:
    import faulthandler

    _die_with_parent()

    try:  # on top of what the forked process already maps (a test runner's threads and libraries)
        cap = _mapped_bytes() + MEMORY_CAP_BYTES
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        pass
    stack = open(stack_file, "w")
    faulthandler.register(signal.SIGUSR1, file=stack, all_threads=True)
    if setup is not None:
        try:
            setup()
        except BaseException as e:  # noqa: BLE001 - reported to the parent instead of hanging it
            import traceback

            conn.send(("setup-error: " + "".join(traceback.format_exception(e)), None))
            return
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, args = msg

        def step(name: str) -> None:
            conn.send(("step", name))

        try:
            conn.send(("done", fn(step, *args)))
        except BaseException as e:  # the case function reports its own findings; this is a bug in the harness
            import traceback

            conn.send(("harness-error", "".join(traceback.format_exception(e))))


class Watchdog:
    """A persistent worker: `run(fn, *args)` calls fn(step, *args) in the child; fn calls step(name) before
    each operation, and each operation gets `budget` seconds."""

    def __init__(self, setup: Callable[[], None] | None = None, budget: float = STEP_BUDGET_S):
        self.setup = setup
        self.budget = budget
        self._ctx = mp.get_context("fork")
        self._proc = None
        self._conn = None
        self._stack_file = tempfile.NamedTemporaryFile(prefix="ncfuzz-stack-", suffix=".txt", delete=False).name

    def _start(self) -> None:
        """A fresh worker, set up and warmed before any case's budget starts counting."""
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_child, args=(child, self.setup, self._stack_file), daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        if not parent.poll(SETUP_TIMEOUT_S):
            self._kill()
            raise RuntimeError(f"fuzz worker not ready after {SETUP_TIMEOUT_S} s")
        kind, _ = parent.recv()
        if kind != "ready":
            raise RuntimeError(f"fuzz worker setup failed: {kind}")

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.join()
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def _stack(self) -> str:
        """The child's Python stack right now (faulthandler writes it from its signal handler)."""
        try:
            size = os.path.getsize(self._stack_file)
            os.kill(self._proc.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and os.path.getsize(self._stack_file) == size:
                time.sleep(0.02)
            time.sleep(0.05)
            with open(self._stack_file) as f:
                f.seek(size)
                stack = f.read()
            # Below the worker's loop come the frames it inherited from the parent at fork time: noise.
            cut = stack.find(" in _child\n")
            return stack[:cut + len(" in _child\n")] if cut >= 0 else stack
        except (OSError, ProcessLookupError):
            return ""

    def run(self, fn: Callable[..., Any], *args: Any) -> Outcome:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        out = Outcome()
        start = time.monotonic()
        self._conn.send((fn, args))
        step_started = time.monotonic()
        step_cpu = cpu_seconds(self._proc.pid)
        current = "start"
        while True:
            wall = time.monotonic() - step_started
            left = self.budget - wall
            if left <= 0:  # over budget on the clock: a hang only if it also used a budget of CPU, or blocks
                cpu = cpu_seconds(self._proc.pid) - step_cpu
                if cpu >= self.budget or wall >= self.budget * WALL_FACTOR:
                    out.hung_step = current
                    out.hang_stack = self._stack()
                    out.hang_cpu = (round(cpu, 1), round(wall, 1))
                    self._kill()
                    break
                left = max(min(self.budget - cpu, self.budget * WALL_FACTOR - wall, 1.0), 0.05)
            try:
                ready = self._conn.poll(left)
            except (OSError, EOFError):
                ready = True
            if not ready:
                continue
            try:
                kind, value = self._conn.recv()
            except (EOFError, OSError):
                self._proc.join(1)
                code = self._proc.exitcode
                out.died = f"worker died during {current} (exit code {code})"
                self._kill()
                break
            if kind == "step":
                if out.steps:
                    out.step_seconds.append((current, time.monotonic() - step_started))
                current = value
                out.steps.append(value)
                step_started = time.monotonic()
                step_cpu = cpu_seconds(self._proc.pid)
            elif kind == "done":
                if out.steps:
                    out.step_seconds.append((current, time.monotonic() - step_started))
                out.result = value
                break
            else:
                raise RuntimeError(f"fuzz harness error in the worker:\n{value}")
        out.seconds = time.monotonic() - start
        return out

    def close(self) -> None:
        if self._conn is not None and self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()
        try:
            os.unlink(self._stack_file)
        except OSError:
            pass

    def __enter__(self) -> "Watchdog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
