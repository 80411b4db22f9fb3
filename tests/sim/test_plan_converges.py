"""Plan -> deliver into the device simulator -> plan again is empty, with no dangling reference and no
window after any single command (see sim/harness.py), on every platform netchange has a driver for:

- over every corpus config, each change `sim.changes` derives from what that config holds;
- over generated configs (hypothesis), one test per platform and kind of change, so a failure names both;
- over the bundled construct cases (tests/render/cases.py) on the fleet's hosts, and a follow-up edit.

Short by default (fixed seed, a few hundred examples in all); NETCHANGE_SIM_LONG=1 runs many more and
lets hypothesis shrink each failure to a minimal config and change.
"""

from __future__ import annotations

import random
import sys

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sim import simulator
from sim.changes import Candidate, candidates, junos_candidates
from sim.conftest import LONG, ROOT, corpus_files, planned_platforms
from sim.generate import Spec, commands, running_config, specs
from sim.harness import host_for, run_change

PLATFORMS = planned_platforms()
KINDS = ("prefix_list_edit", "prefix_list_add", "prefix_list_remove", "route_map_set", "route_map_add", "binding_switch",
         "filter_replace")


def changes_for(platform: str, sim, seed: object) -> list[Candidate]:
    rng = random.Random(str(seed))
    if platform == "juniper_junos":
        return junos_candidates(sim, rng)
    facts = sim.bgp_facts()
    return candidates(sim.view(), platform, rng, neighbors=facts[1] if facts and facts[0] > 0 else None)


def check(platform: str, running: str, cands: list[Candidate], sim, label: str, strategy: str = "in_place") -> None:
    failures = []
    for c in cands:
        run = run_change(platform, running, c.change, host_for(platform, sim, attachments=c.attachments), strategy=strategy)
        if run.problems:
            failures.append(f"--- {label}: {c.what}\n{run.report()}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------- the corpus

def corpus_cases() -> list:
    out = []
    for platform in PLATFORMS:
        for f in corpus_files(platform):
            for strategy in ("in_place", "versioned"):
                out.append(pytest.param(platform, f, strategy, id=f"{platform}/{f.name}/{strategy}"))
    return out


@pytest.mark.parametrize("platform, path, strategy", corpus_cases() or [pytest.param(None, None, None, marks=pytest.mark.skip("no corpus"))])
def test_corpus_changes_converge_without_windows(platform, path, strategy):
    text = path.read_text(errors="surrogateescape")
    sim = simulator(platform, text)
    running = sim.show() if platform == "juniper_junos" else text  # netchange reads Junos as `display set`
    cands = changes_for(platform, sim, path.name)
    if not cands:
        pytest.skip(f"{path.name}: holds nothing a change can touch (no prefix-list, bound route-map, neighbor or ACL)")
    check(platform, running, cands, sim, f"{platform} {path.name} ({strategy})", strategy)


# ---------------------------------------------------------------- generated configs

PROFILE = dict(max_examples=200 if LONG else 8, derandomize=True, deadline=None, database=None,
               suppress_health_check=list(HealthCheck),
               phases=list(Phase) if LONG else [Phase.explicit, Phase.generate], report_multiple_bugs=False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_generated_changes_converge_without_windows(platform, kind):
    if kind == "filter_replace" and platform == "frr":
        pytest.skip("FRR carries no traffic filters (its driver refuses them)")

    @settings(**PROFILE)
    @given(spec=specs(), seed=st.integers(0, 2**16))
    def prop(spec: Spec, seed: int):
        text = running_config(platform, spec)
        sim = simulator(platform, text)
        mine = [c for c in changes_for(platform, sim, seed) if c.what.startswith(kind)]
        if mine:
            check(platform, text, mine[:1], sim, f"{platform} generated config:\n{text}")

    prop()


# ---------------------------------------------------------------- the construct cases on the fleet's hosts

sys.path.insert(0, str(ROOT / "tests"))
from render.cases import CASES  # noqa: E402

from pipeline.inventory import Inventory  # noqa: E402

from pipeline.model import ObjectStore  # noqa: E402

FLEET = Inventory(ROOT / "tests" / "fixtures" / "fleet")
STORE = ObjectStore.load(ROOT / "policies" / "objects")
HOSTS = {h.platform.value: h for h in FLEET.hosts.values() if h.platform.value in PLATFORMS}


def base_config(host) -> str:
    """The host as its inventory describes it: BGP neighbors, the attachment interfaces, no policy yet."""
    bgp = host.data.bgp
    spec = Spec(asn=bgp.asn if bgp else 65000, prefix_lists={}, route_maps={},
                neighbors={str(n.address): (n.remote_as, None, None) for n in (bgp.neighbors if bgp else ())})
    cmds = commands(host.platform.value, spec)
    sim = simulator(host.platform.value, _interfaces(host))
    for _ in sim.push(cmds, "base"):
        pass
    return sim.show()


def _interfaces(host) -> str:
    out = []
    for att in host.data.firewall.attachments.values():
        if att.interface:
            if host.platform.value == "juniper_junos":
                name, _, unit = att.interface.partition(".")
                out.append(f"set interfaces {name} unit {unit or 0} family inet address 203.0.113.1/24")
            else:
                out.append(f"interface {att.interface}\n description attachment\n")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("platform", sorted(HOSTS))
def test_construct_cases_converge_then_follow_up_edits_too(platform, case):
    host = HOSTS[platform]
    running = base_config(host)
    first = run_change(platform, running, CASES[case], host, STORE)
    if first.refused:
        pytest.skip(f"{platform} refuses {case}: {first.refused}")
    assert not first.problems, first.report()
    sim = simulator(platform, first.final)
    follow = changes_for(platform, sim, case)
    failures = []
    for c in follow:
        run = run_change(platform, first.final, c.change, host_for(platform, sim, attachments=dict(c.attachments)))
        if run.problems:
            failures.append(f"--- after {case}: {c.what}\n{run.report()}")
    assert not failures, "\n".join(failures)
