"""What a fuzz case can find, and how findings are grouped for a report.

A finding is a plain dict (it crosses the worker's pipe): `kind` is one of

* `traceback` — an exception other than the NetchangeError family escaped an entry point (or validate
  reported an internal-error finding NC900, which is a caught traceback);
* `hang` — one operation exceeded the per-step budget (the worker's stack at that moment is attached);
* `crash` — the worker process died (signal, interpreter abort);
* `stray` — a rendered or planned line that belongs to no object the change names (or a command sent to a
  device that is not one clean line);
* `in-use` — a plan removes an object the device keeps using (a binding or an untouched route-map);
* `exit` — an entry point returned an exit code outside 0/1/2, or output that is not what it promises.

`signature` groups findings of one root cause: the step, the exception type and the innermost frame of
the project's code, or the checker's reason with names and numbers blanked out.
"""

from __future__ import annotations

import re
import traceback
from collections import Counter, defaultdict
from types import TracebackType

_NUMBERS = re.compile(r"\d+")
SLOW_S = 5.0  # reported in the long run's summary (a step over the budget is a hang, a failure)


def _project_frame(tb: TracebackType | None) -> str:
    """file:function of the innermost frame inside pipeline/ (else the innermost frame at all)."""
    frames = traceback.extract_tb(tb)
    ours = [f for f in frames if "/pipeline/" in f.filename.replace("\\", "/")]
    f = (ours or frames or [None])[-1]
    if f is None:
        return "?"
    path = f.filename.replace("\\", "/")
    path = path[path.index("pipeline/"):] if "pipeline/" in path else path.rsplit("/", 1)[-1]
    return f"{path}:{f.name}"


def traceback_finding(step: str, exc: BaseException) -> dict:
    where = _project_frame(exc.__traceback__)
    frames = traceback.extract_tb(exc.__traceback__)
    # From the first frame of the project's code below its CLI wrapper: the harness, typer and click frames say nothing.
    start = next((i for i, f in enumerate(frames) if "/pipeline/" in f.filename.replace("\\", "/")
                  and not f.filename.replace("\\", "/").endswith("pipeline/cli.py")), 0)
    text = ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames[start:]))
            + "".join(traceback.format_exception_only(type(exc), exc)))
    return {"kind": "traceback", "step": step, "signature": f"traceback {_step_kind(step)} {type(exc).__name__} at {where}",
            "detail": text[-4000:]}


def finding(kind: str, step: str, reason: str, detail: str = "") -> dict:
    """`reason` is generic (it forms the signature); `detail` carries the concrete line or value."""
    return {"kind": kind, "step": step, "signature": f"{kind} {_step_kind(step)} {reason}", "detail": detail[-4000:]}


def hang_finding(step: str, stack: str, cpu_wall: tuple[float, float] | None = None) -> dict:
    where = _innermost_pipeline_frame(stack)
    took = f"stopped after {cpu_wall[0]} s of CPU, {cpu_wall[1]} s on the clock\n" if cpu_wall else ""
    return {"kind": "hang", "step": step, "signature": f"hang {_step_kind(step)} at {where}", "detail": took + stack[-4000:]}


def crash_finding(step: str, what: str) -> dict:
    return {"kind": "crash", "step": step, "signature": f"crash {_step_kind(step)}", "detail": what}


def _step_kind(step: str) -> str:
    """`render ios1` -> `render[cisco_ios]` is done by the caller; here numbers are blanked."""
    return _NUMBERS.sub("N", step)


def _innermost_pipeline_frame(stack: str) -> str:
    """faulthandler prints the innermost frame first: `File "…/pipeline/plan/impact.py", line 70 in _as_path_permits`."""
    for line in stack.splitlines():
        m = re.search(r'File "([^"]*pipeline/[^"]+)", line \d+ in (\S+)', line)
        if m:
            path = m.group(1)
            return f"{path[path.index('pipeline/'):]}:{m.group(2)}"
    return "?"


class Tally:
    """Findings grouped by signature: counts, and the first few cases of each (for reproduction)."""

    def __init__(self, keep: int = 3):
        self.keep = keep
        self.counts: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.examples: dict[str, list[dict]] = defaultdict(list)
        self.cases = 0
        self.failed_cases = 0
        self.steps: dict[str, list[float]] = {}  # step kind -> [count, total seconds, max seconds]
        self.slow: list[dict] = []  # steps over SLOW_S that finished within the budget (not failures)

    def add_case(self, findings: list[dict], case_ref: str | None = None) -> None:
        self.cases += 1
        if findings:
            self.failed_cases += 1
        for sig in dict.fromkeys(f["signature"] for f in findings):
            f = next(x for x in findings if x["signature"] == sig)
            self.counts[sig] += 1
            self.kinds[f["kind"]] += 1
            if len(self.examples[sig]) < self.keep:
                self.examples[sig].append({**f, "case": case_ref})

    def add_timing(self, step: str, seconds: float, case_ref: str | None = None) -> None:
        kind = re.sub(r"\[.*\]", "", step)
        st = self.steps.setdefault(kind, [0, 0.0, 0.0])
        st[0] += 1
        st[1] += seconds
        st[2] = max(st[2], seconds)
        if seconds > SLOW_S and len(self.slow) < 50:
            self.slow.append({"step": step, "seconds": round(seconds, 2), "case": case_ref})

    def as_dict(self) -> dict:
        return {"cases": self.cases, "failed_cases": self.failed_cases, "by_kind": dict(self.kinds),
                "steps": {k: {"count": int(n), "mean_ms": round(1000 * t / n, 1), "max_s": round(m, 2)}
                          for k, (n, t, m) in sorted(self.steps.items())},
                "slow_steps": self.slow,
                "by_signature": [{"signature": s, "cases": n, "examples": self.examples[s]}
                                 for s, n in self.counts.most_common()]}
