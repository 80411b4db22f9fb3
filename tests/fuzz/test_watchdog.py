"""The watchdog turns what no in-process check can see into findings: a step stuck in Python or in C, a
worker that dies, a memory bomb. Each condition is forced (an endless loop, a regex with exponential
backtracking, os._exit, an 8 GB allocation), so no verdict depends on the machine's speed."""

from __future__ import annotations

import os
import re
import time

from .watchdog import Watchdog


def spin_forever(step):
    step("spin")
    while True:
        pass


def backtrack_in_c(step):
    step("regex")
    return bool(re.match(r"^(a+)+$", "a" * 64 + "!"))  # 2^64 paths: inside _sre, no bytecode boundary


def die(step):
    step("die")
    os._exit(3)


def allocate(step):
    step("allocate")
    try:
        bytearray(8 * 1024 ** 3)
    except MemoryError:
        return "MemoryError"
    return "allocated"


def block(step, seconds):
    step("block")
    time.sleep(seconds)  # no CPU: what a descheduled worker on a busy machine, or a FIFO read, looks like
    return "woke"


def quick(step, x):
    step("quick")
    return x * 2


def test_a_step_stuck_in_python_is_a_hang_with_its_stack_and_the_next_case_runs():
    with Watchdog(budget=1.0) as w:
        out = w.run(spin_forever)
        assert out.hung_step == "spin"
        assert "spin_forever" in out.hang_stack
        assert w.run(quick, 21).result == 42  # a fresh worker took over


def test_a_regex_backtracking_inside_c_is_interrupted():
    with Watchdog(budget=1.0) as w:
        out = w.run(backtrack_in_c)
        assert out.hung_step == "regex"
        assert "backtrack_in_c" in out.hang_stack
        assert out.seconds < 30


def test_a_dying_worker_is_reported_and_replaced():
    with Watchdog(budget=5.0) as w:
        out = w.run(die)
        assert out.died and "die" in out.died and "exit code 3" in out.died
        assert w.run(quick, 1).result == 2


def test_memory_is_capped_so_a_bomb_is_an_exception_not_a_swapping_machine():
    with Watchdog(budget=10.0) as w:
        assert w.run(allocate).result == "MemoryError"


def test_step_durations_are_recorded():
    with Watchdog(budget=5.0) as w:
        out = w.run(quick, 1)
        assert [s for s, _ in out.step_seconds] == ["quick"]


def test_the_budget_is_cpu_time_so_a_slow_clock_is_not_a_hang():
    with Watchdog(budget=0.5) as w:  # 2 s on the clock, 0 s of CPU: a busy machine, not a hang
        out = w.run(block, 2.0)
        assert out.hung_step is None and out.result == "woke"


def test_a_step_blocked_beyond_the_wall_cap_is_a_hang():
    with Watchdog(budget=0.5) as w:  # blocks for good: stopped at WALL_FACTOR budgets on the clock
        out = w.run(block, 3600)
        assert out.hung_step == "block" and out.hang_cpu[1] >= 3.0 and out.seconds < 30
