"""Rendered nftables rulesets pass `nft -c -f` (in a throwaway `ncr-*` namespace), apply twice, and read
back through the nftables parser into the rendered filters."""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import uuid

import pytest

from pipeline.drivers import get_driver
from pipeline.model.resolve import resolve

from .cases import CASES
from .conftest import EXAMPLES, render_change


def nft_normal(f):
    """Rules as nft keeps them: the kernel merges adjacent prefixes of a set (two /24s read back as one /23)."""
    def collapse(nets):
        return tuple(ipaddress.collapse_addresses(nets))

    return [(r.name, r.family, r.action, collapse(r.sources), collapse(r.destinations), collapse(r.source_excludes),
             collapse(r.destination_excludes), r.specs, r.states, r.tcp_flags, r.fragment, r.dscp, r.hop_limit, r.log,
             r.log_rate, r.counter) for r in f.rules]


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "nft -c needs root (CAP_NET_ADMIN)"
    if not shutil.which("nft") or not shutil.which("ip"):
        return "nftables or iproute2 not installed"
    return None


@pytest.fixture(name="netns")
def netns_fixture():
    reason = _why_not()
    if reason:
        print(f"skipping nft checks: {reason}")
        pytest.skip(reason)
    ns = f"ncr-nft-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def nft(ns: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", *args], input=stdin, capture_output=True, text=True, timeout=30)


def rulesets(fleet, store) -> dict[str, str]:
    out = {ex: render_change(EXAMPLES / f"{ex}.yaml", "fw1", fleet, store) for ex in NFT_EXAMPLES}
    out.update({case: render_change(CASES[case], "fw1", fleet, store) for case in NFT_CASES})
    return out


def test_a_bad_ruleset_is_refused(netns):
    assert nft(netns, "-c", "-f", "-", stdin="table inet netchange {\n\tchain X {\n\t\tip saddr nonsense accept\n\t}\n}\n").returncode != 0


NFT_CASES = ("filters", "matches", "stateful")  # every match the model has (tests/render/cases.py)
NFT_EXAMPLES = ("CHG-1001", "CHG-1005")


@pytest.mark.parametrize("name", [*NFT_EXAMPLES, *NFT_CASES])
def test_ruleset_checks_applies_twice_and_reads_back(name, netns, fleet, store):
    text = rulesets(fleet, store)[name]
    check = nft(netns, "-c", "-f", "-", stdin=text)
    assert check.returncode == 0, check.stderr
    for _ in range(2):  # re-applying refills the same chains (and appends a second, inert jump to each)
        applied = nft(netns, "-f", "-", stdin=text)
        assert applied.returncode == 0 and get_driver("nftables").error_in(applied.stderr) is None, applied.stderr
    listed = nft(netns, "-j", "list", "ruleset")
    from pipeline.parsers.nftables import parse

    parsed = parse(listed.stdout)
    change = CASES.get(name)
    if change is None:
        from pipeline.project import load_change

        change = load_change(EXAMPLES / f"{name}.yaml")[0]
    for d in resolve(change, store, fleet.hosts["fw1"]):
        got = parsed.get(d.kind, d.key)
        assert got is not None, (d.key, parsed.skipped)
        assert nft_normal(got) == nft_normal(d.obj)
        assert got.attachments == d.obj.attachments


@pytest.mark.parametrize("name", [*NFT_EXAMPLES, *NFT_CASES])
def test_once_applied_the_change_plans_empty(name, netns, fleet, store):
    """nft merges adjacent prefixes and sorts set elements: the planner must not read that as a difference,
    or every deploy to a firewall would fail its barrier and every plan would show a phantom diff."""
    from pipeline.plan.planner import plan_device
    from pipeline.project import load_change

    applied = nft(netns, "-f", "-", stdin=rulesets(fleet, store)[name])
    assert applied.returncode == 0, applied.stderr
    listed = nft(netns, "-j", "list", "ruleset").stdout
    change = load_change(EXAMPLES / f"{name}.yaml")[0] if name in NFT_EXAMPLES else CASES[name]
    host = fleet.hosts["fw1"]
    plan = plan_device(host, get_driver("nftables"), listed, change, store)
    assert plan.ops == [], plan.ops



def _nft_features() -> list[str]:
    from .test_term_capabilities import FEATURES

    return sorted(f for f, (_, refused) in FEATURES.items() if "nftables" not in refused)


@pytest.mark.parametrize("feature", _nft_features())
def test_every_single_match_passes_nft_check_and_plans_empty(feature, netns, fleet, store):
    """Each match on its own (tests/render/test_term_capabilities.py), as nftables renders it: real nft accepts
    it, and what nft then lists is the change (no phantom diff, no dropped match)."""
    from pipeline.plan.planner import plan_device

    from .test_term_capabilities import one_term

    change = one_term(feature)
    text = render_change(change, "fw1", fleet, store)
    check = nft(netns, "-c", "-f", "-", stdin=text)
    assert check.returncode == 0, f"{check.stderr}\n{text}"
    applied = nft(netns, "-f", "-", stdin=text)
    assert applied.returncode == 0, applied.stderr
    listed = nft(netns, "-j", "list", "ruleset").stdout
    plan = plan_device(fleet.hosts["fw1"], get_driver("nftables"), listed, change, store)
    assert plan.ops == [], plan.ops
