"""Real nftables (a throwaway `ncu-*` network namespace): a plan of one chain, applied with `nft -c -f` then
`nft -f`, and its rollback leave everything else in the ruleset byte-identical in `nft -j list ruleset`:
rules the model cannot express, the named set, base chains with `policy drop` and rules of their own, and
another table. The corpus rulesets are put through the same: a plan touching one chain either is refused
(naming what it cannot model) or changes nothing but that chain and the jumps to it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from pipeline.deploy.device import PushResult
from pipeline.deploy.restore import restore
from pipeline.drivers import get_driver
from pipeline.model.change import ChangeRequest
from pipeline.parsers.nft_load import NftLoadError, load_into
from pipeline.plan.planner import UnmodelledConfig, plan_device
from corpus import CORPUS as CORPUS_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = CORPUS_ROOT / "nftables"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "nft needs root (CAP_NET_ADMIN) in a network namespace"
    if not shutil.which("nft") or not shutil.which("ip"):
        return "nftables or iproute2 not installed"
    return None


@pytest.fixture
def netns():
    reason = _why_not()
    if reason:
        print(f"skipping real-nft checks: {reason}")
        pytest.skip(reason)
    ns = f"ncu-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def nft(ns: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", ns, "nft", *args], input=stdin, capture_output=True, text=True, timeout=60)


def listed(ns: str) -> str:
    p = nft(ns, "-j", "list", "ruleset")
    assert p.returncode == 0, p.stderr
    return p.stdout


def items(text: str) -> list[str]:
    """Every object of `nft -j list ruleset` as canonical JSON (byte-comparable)."""
    return [json.dumps(i, sort_keys=True) for i in json.loads(text)["nftables"] if "metainfo" not in i]


def apply(ns: str, commands: list[str]) -> None:
    """As deploy pushes a ruleset file: `nft -c -f`, then `nft -f` (pipeline/deploy/device.py)."""
    text = "\n".join(commands) + "\n"
    check = nft(ns, "-c", "-f", "-", stdin=text)
    assert check.returncode == 0, check.stderr + text
    done = nft(ns, "-f", "-", stdin=text)
    assert done.returncode == 0, done.stderr + text


def change(**sections) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-7002", "title": "t", "requested_by": "tests",
                                         "targets": {"hosts": ["fw1"]}, **sections})


def fw_filter(name: str, port: int, attach: tuple[str, ...] = ("server-edge",)) -> dict:
    return {"name": name, "attach": list(attach), "terms": [
        {"name": "svc", "destinations": ["203.0.113.0/26"], "protocols": ["tcp"], "destination_ports": [port],
         "action": "accept", "counter": True}]}


class NsSession:
    """What restore() needs of a DeviceSession, on a namespace instead of SSH."""

    def __init__(self, ns: str, host):
        self.ns, self.host, self.driver = ns, host, get_driver("nftables")

    def fetch(self) -> str:
        return listed(self.ns)

    def push(self, commands: list[str], tag: str) -> PushResult:
        apply(self.ns, commands)
        return PushResult(sent=list(commands))

    def run(self, command: str) -> str:
        return ""


def _rule_of(item: str, chain: str) -> bool:
    i = json.loads(item)
    return "rule" in i and i["rule"]["chain"] == chain and i["rule"]["table"] == "netchange"


def _without_handle(item: str) -> str:
    i = json.loads(item)
    next(iter(i.values())).pop("handle", None)
    return json.dumps(i, sort_keys=True)


def test_fixture_json_is_what_nft_lists_for_the_fixture_text(netns):
    apply(netns, [(FIXTURES / "fw-unmodelled.nft").read_text()])
    parse = get_driver("nftables").parse
    fresh, committed = parse(listed(netns)), parse((FIXTURES / "fw-unmodelled.json").read_text())
    assert list(fresh.items()) == list(committed.items()) and fresh.skipped == committed.skipped


def test_plan_and_rollback_of_one_chain_leave_the_rest_of_the_ruleset_byte_identical(netns, fleet, store):
    host = fleet.hosts["fw1"]
    driver = get_driver("nftables")
    apply(netns, [(FIXTURES / "fw-unmodelled.nft").read_text()])
    before_text = listed(netns)
    before = items(before_text)
    original = driver.parse(before_text)

    chg = change(firewall={"filters": [fw_filter("SERVER-EDGE", 8443), fw_filter("NEW-EDGE", 22)]})
    plan = plan_device(host, driver, before_text, chg, store)
    apply(netns, plan.commands)
    after_text = listed(netns)
    after = items(after_text)

    # Everything but SERVER-EDGE's rules is still there, byte for byte (handles, counters, policies, set).
    kept = [i for i in before if not _rule_of(i, "SERVER-EDGE")]
    assert [i for i in kept if i not in after] == []
    new = [json.loads(i) for i in after if i not in before]
    assert all(("rule" in i and i["rule"]["chain"] in ("SERVER-EDGE", "NEW-EDGE", "hook-forward"))
               or ("chain" in i and i["chain"]["name"] == "NEW-EDGE") for i in new), new
    forward = [i["rule"]["expr"] for i in map(json.loads, after) if "rule" in i and i["rule"]["chain"] == "hook-forward"]
    assert [e[-1] for e in forward] == [{"accept": None}, {"jump": {"target": "WEB"}}, {"jump": {"target": "SERVER-EDGE"}},
                                        {"jump": {"target": "NEW-EDGE"}}, {"drop": None}]
    assert '"policy": "drop"' in after_text.replace('"policy":"drop"', '"policy": "drop"')
    assert plan_device(host, driver, after_text, chg, store).empty  # the device holds the change

    # Rollback: the recorded state comes back; what the change never touched keeps even its handles.
    restore(NsSession(netns, host), original, refresh=False)
    rolled = items(listed(netns))
    assert [i for i in kept if i not in rolled] == []
    assert sorted(_without_handle(i) for i in rolled) == sorted(_without_handle(i) for i in before)


def test_a_plan_touching_the_chain_with_unmodelled_rules_sends_nothing(netns, fleet, store):
    apply(netns, [(FIXTURES / "fw-unmodelled.nft").read_text()])
    with pytest.raises(UnmodelledConfig) as e:
        plan_device(fleet.hosts["fw1"], get_driver("nftables"), listed(netns),
                    change(firewall={"filters": [fw_filter("WEB", 80)]}), store)
    assert len(e.value.plan.refused) == 3 and e.value.plan.commands == []  # iifname, limit, @set (test_unmodelled)


# --- the corpus ---------------------------------------------------------------------------------------------

CORPUS_FILES = sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []


def _managed(text: str, closing_drops: bool) -> str:
    """The corpus ruleset with its first inet table renamed to netchange's (its chains, sets and base chains
    become what a plan edits around); with `closing_drops`, its regular chains end in netchange's closing
    drop as the driver writes it, so that they are modelled whole and a plan rewrites them."""
    text = re.sub(r"^table inet \S+", "table inet netchange", text, count=1, flags=re.M)
    if not closing_drops:
        return text
    out, depth, in_table, chain = [], 0, False, None
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        if depth == 0:
            in_table = code.startswith("table inet netchange")
        if in_table and depth == 1 and re.match(r"\s*chain \S+ \{", code):
            chain = []
        if chain is not None and re.search(r"\btype \w+ hook\b", code):
            chain = None  # a base chain: left as it is
        depth += code.count("{") - code.count("}")
        if chain is not None and depth == 1:  # the chain's closing brace
            out.append('\t\tcounter drop comment "netchange-implicit-deny"')
            chain = None
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("closing_drops", [False, True], ids=["as-published", "closing-drops"])
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_plans_touch_one_chain_and_nothing_else(path, closing_drops, netns, fleet, store):
    host = fleet.hosts["fw1"]
    driver = get_driver("nftables")
    try:
        load_into(netns, _managed(path.read_text(), closing_drops))
    except NftLoadError as e:
        pytest.skip(f"{path.name}: this kernel/nft refuses it: {e}")
    base_text = listed(netns)
    running = driver.parse(base_text)
    chains = [n for n, c in (running.device.chains.items() if running.device else []) if not c.base]
    checked = refused = 0
    for name in [*chains, "NC-CORPUS-NEW"]:
        nft(netns, "flush", "ruleset")
        load_into(netns, _managed(path.read_text(), closing_drops))
        before_text = listed(netns)
        before = items(before_text)
        chg = change(firewall={"filters": [fw_filter(name, 8443, attach=())]})
        try:
            plan = plan_device(host, driver, before_text, chg, store)
        except UnmodelledConfig as e:
            refused += 1
            notes = driver.parse(before_text).unmodelled_in({("filter", name)})
            assert notes and [r["note"] for r in e.plan.refused] == [str(n) for n in notes]
            continue
        except Exception as e:  # a chain name the model refuses (not an Identifier) is no plan at all
            assert "name" in str(e) or "must start with a letter" in str(e), e
            continue
        apply(netns, plan.commands)
        after = items(listed(netns))
        # all that may differ: this chain's rules, this chain, and jumps to it in netchange's base chains
        def about(i: str, name: str = name) -> bool:
            o = json.loads(i)
            if "rule" in o and o["rule"]["table"] == "netchange":
                return o["rule"]["chain"] == name or o["rule"]["expr"][-1] == {"jump": {"target": name}}
            return "chain" in o and o["chain"]["name"] == name or "table" in o and o["table"]["name"] == "netchange"
        assert [i for i in before if i not in after and not about(i)] == [], name
        assert [i for i in after if i not in before and not about(i)] == [], name
        checked += 1
    print(f"{path.name}: {checked} chain plan(s) applied, {refused} refused for unmodelled rules")
    assert checked >= 1
