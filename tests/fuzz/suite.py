"""The fuzz session shared by the short run (pytest, tests/fuzz/test_fuzz.py) and the long run
(`python -m tests.fuzz --long`): case strategies, execution under the watchdog, findings, reproducers."""

from __future__ import annotations

import io
import json
import re
import shutil
import tempfile
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from .changes import Gen, change_doc
from .findings import SLOW_S, Tally, crash_finding, hang_finding
from .harness import FLEET, new_project, run_change_case, run_config_case, worker_setup, write_case
from .watchdog import STEP_BUDGET_S, Watchdog


def dump_yaml(doc) -> str:
    """A change document as YAML (ruamel escapes control characters); JSON when ruamel cannot say it."""
    from ruamel.yaml import YAML

    y = YAML()
    y.default_flow_style = False
    y.width = 4096
    buf = io.StringIO()
    try:
        y.dump(doc, buf)
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - e.g. values ruamel cannot represent; JSON is YAML too
        return json.dumps(doc)


class Case:
    """One fuzz input. The short repr keeps hypothesis' falsifying-example line readable (the whole case
    is saved to disk on failure); not a dataclass, which hypothesis would print field by field."""

    def __init__(self, kind: str, data: dict):
        self.kind = kind  # "change" | "config"
        self.data = data

    def __repr__(self) -> str:
        first = self.data.get("change", "").splitlines()[:1] if self.kind == "change" else [self.data.get("platform"), self.data.get("seed")]
        return f"Case({self.kind}, {first!r}, …)"


def build_change_case(rnd) -> Case:
    from .running import fleet_state

    g = Gen(rnd)
    doc = change_doc(g)
    state = fleet_state(g, _inventory())
    fmt = "json" if g.chance(90) else g.pick(["text", "markdown"])
    return Case("change", {"change": dump_yaml(doc), "snapshots": state["snapshots"], "routes": state["routes"], "plan_format": fmt})


def build_config_case(platform: str, rnd) -> Case:
    from .configs import config_case

    return Case("config", config_case(Gen(rnd), platform))


def change_cases():
    """Hypothesis strategy: one change request and the fleet's running configs."""
    return st.randoms(use_true_random=True).map(build_change_case)


def config_cases(platform: str):
    """Hypothesis strategy: one mutated running config of `platform` and a small change."""
    return st.randoms(use_true_random=True).map(partial(build_config_case, platform))


_INV = []


def _inventory():
    if not _INV:
        from pipeline.inventory import Inventory

        _INV.append(Inventory(FLEET))
    return _INV[0]


def short_settings(examples: int) -> settings:
    """CI: derandomized (the same cases on every run), no shrinking (a hang would be retried many times)."""
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck), print_blob=False)


def long_settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=False, database=None, deadline=None, phases=(Phase.generate,),
                    suppress_health_check=list(HealthCheck), print_blob=False)


class FuzzFailure(AssertionError):
    pass


class Session:
    """A throw-away project, one watchdog worker, a tally of findings and a folder of reproducers."""

    def __init__(self, out_dir: Path | None = None, budget: float = STEP_BUDGET_S, keep: int = 3):
        self.project = new_project()
        self.watchdog = Watchdog(setup=partial(worker_setup, self.project), budget=budget)
        self.tally = Tally(keep=keep)
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="ncfuzz-findings-"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.seconds = 0.0

    def execute(self, case: Case) -> list[dict]:
        fn = run_change_case if case.kind == "change" else run_config_case
        o = self.watchdog.run(fn, case.data)
        self.seconds += o.seconds
        findings = list(o.result or [])
        if o.hung_step:
            findings.append(hang_finding(o.hung_step, o.hang_stack, o.hang_cpu))
        if o.died:
            findings.append(crash_finding(o.steps[-1] if o.steps else "start", o.died))
        findings = _merge(findings)
        if case.kind == "config":
            platform = case.data["platform"]
            for f in findings:  # which platform's config: part of the signature
                if f"[{platform}]" not in f["signature"]:
                    f["signature"] += f" [{platform} config]"
        ref = None
        slow = any(secs > SLOW_S for _, secs in o.step_seconds)
        if (findings and any(self.tally.counts[f["signature"]] < self.tally.keep for f in findings)) or (slow and len(self.tally.slow) < 10):
            ref = str(self.save(case, findings))
        for step, secs in o.step_seconds:
            self.tally.add_timing(step, secs, ref)
        self.tally.add_case(findings, ref)
        return findings

    def save(self, case: Case, findings: list[dict]) -> Path:
        d = self.out_dir / f"{case.kind}-{self.tally.cases + 1:06d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "case.json").write_text(json.dumps({"kind": case.kind, "data": case.data}, indent=1))
        (d / "findings.json").write_text(json.dumps(findings, indent=1))
        if case.kind == "change":
            write_case(d / "files", case.data)
        else:
            (d / "files").mkdir(exist_ok=True)
            ext = "json" if case.data["platform"] == "nftables" else "cfg"
            (d / "files" / f"running.{ext}").write_text(case.data["text"], encoding="utf-8", errors="surrogateescape")
            if case.data.get("change"):
                (d / "files" / "CHG-1.yaml").write_text(case.data["change"])
        return d

    def check(self, case: Case) -> None:
        """The short run: any finding fails, with what it is and how to replay it."""
        findings = self.execute(case)
        if findings:
            raise FuzzFailure(describe(findings, self.tally.examples))

    def close(self) -> None:
        self.watchdog.close()
        shutil.rmtree(self.project.parent, ignore_errors=True)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _merge(findings: list[dict]) -> list[dict]:
    """One finding per signature (e.g. the same stray line in a plan's commands and its rollback)."""
    out: dict[str, dict] = {}
    for f in findings:
        if f["signature"] in out:
            first = out[f["signature"]]
            if f["detail"] and f["detail"] not in first["detail"] and first["detail"].count("\n") < 12:
                first["detail"] += "\n" + f["detail"]
        else:
            out[f["signature"]] = dict(f)
    return list(out.values())


def describe(findings: list[dict], examples: dict | None = None) -> str:
    out = []
    for f in findings:
        ref = next((e["case"] for e in (examples or {}).get(f["signature"], []) if e.get("case")), None)
        detail = re.sub(r"\n", "\n      ", f["detail"].strip())
        out.append(f"- {f['signature']}\n      {detail}" + (f"\n      replay: python -m tests.fuzz --replay {ref}" if ref else ""))
    return "fuzz findings:\n" + "\n".join(out)
