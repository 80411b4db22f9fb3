"""Where netchange's chains sit against a host's own nftables tables (inventory `firewall.nftables`), checked on
real nft in a throwaway namespace: jumped to first from the host's `policy drop` chain (its verdict is final,
the host's rules stay as they are and keep their order), or in netchange's own table at a priority (the plan
says which host chains still judge what netchange accepts). Every plan applies, reads back and plans empty."""

from __future__ import annotations

import json

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.inventory import Firewall, NftPlacement
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device

from .test_nft_check import netns_fixture, nft  # noqa: F401  (fixture `netns`: a scratch namespace; skipped without root)

HOST_TABLE = """\
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "lo" accept comment "host's own"
    counter comment "dropped by policy"
  }
  chain input {
    type filter hook input priority filter; policy accept;
  }
}
"""


def host_with(fleet, **placement):
    fw1 = fleet.hosts["fw1"]
    firewall = Firewall(attachments=fw1.data.firewall.attachments, nftables=NftPlacement.model_validate(placement))
    return fw1.model_copy(update={"data": fw1.data.model_copy(update={"firewall": firewall})})


def change(*filters, state: str = "present") -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-9300", "title": "t", "requested_by": "tests", "targets": {"hosts": ["fw1"]},
                                         "firewall": {"filters": [{"name": f, "state": state, "attach": ["server-edge"] if state == "present" else [],
                                                                   "terms": [{"name": "replies", "connection_state": ["established", "related"],
                                                                              "action": "accept"},
                                                                             {"name": "web", "protocols": ["tcp"], "destination_ports": [8080],
                                                                              "action": "accept"}] if state == "present" else []}
                                                                  for f in filters]}})


def listed(ns: str) -> str:
    return nft(ns, "-j", "list", "ruleset").stdout


def rules_of(ns: str, table: str, chain: str) -> list[str]:
    doc = json.loads(nft(ns, "-j", "list", "chain", "inet", table, chain).stdout)
    from pipeline.parsers.nft_text import rule_text

    return [rule_text(i["rule"]) for i in doc["nftables"] if "rule" in i]


def apply_plan(ns: str, host, store, chg: ChangeRequest):
    plan = plan_device(host, get_driver("nftables"), listed(ns), chg, store)
    text = "\n".join(plan.commands) + "\n"
    assert nft(ns, "-c", "-f", "-", stdin=text).returncode == 0, text
    done = nft(ns, "-f", "-", stdin=text)
    assert done.returncode == 0, done.stderr + text
    return plan


def test_jumped_to_first_from_the_hosts_policy_drop_chain(netns, fleet, store):
    assert nft(netns, "-f", "-", stdin=HOST_TABLE).returncode == 0
    host = host_with(fleet, jump_from={"table": "filter", "chains": {"forward": "forward"}})
    own = rules_of(netns, "filter", "forward")
    plan = apply_plan(netns, host, store, change("STATEFUL"))
    assert "add chain inet filter STATEFUL" in plan.commands and "insert rule inet filter forward jump STATEFUL" in plan.commands
    assert not any("inet netchange" in c for c in plan.commands if not c.startswith("#"))
    assert any(c.startswith("# placement: hook forward: netchange's chains sit in the host's table inet filter")
               and "policy drop" in c for c in plan.commands)
    assert rules_of(netns, "filter", "forward") == ["jump STATEFUL", *own]  # first, the host's rules as they were
    # a second filter goes right after netchange's first jump, before the host's own rules
    apply_plan(netns, host, store, change("STATEFUL", "OTHER"))
    assert rules_of(netns, "filter", "forward") == ["jump STATEFUL", "jump OTHER", *own]
    running = get_driver("nftables").parse(listed(netns))
    assert running.filters["STATEFUL"].rules[0].states == ("established", "related")
    assert [a.hook for a in running.filters["STATEFUL"].attachments] == ["forward"]
    assert plan_device(host, get_driver("nftables"), listed(netns), change("STATEFUL", "OTHER"), store).ops == []
    # removing one: its jump (by handle) and its chain; the host's rules and the other filter stay
    apply_plan(netns, host, store, change("OTHER", state="absent"))
    assert rules_of(netns, "filter", "forward") == ["jump STATEFUL", *own]
    assert "OTHER" not in get_driver("nftables").parse(listed(netns)).filters


def test_a_missing_host_chain_is_refused_with_what_the_host_has(netns, fleet, store):
    assert nft(netns, "-f", "-", stdin=HOST_TABLE).returncode == 0
    host = host_with(fleet, jump_from={"table": "filter", "chains": {"forward": "input"}})
    with pytest.raises(UnsupportedConstruct, match="has no base chain input of hook forward .its hook is input"):
        plan_device(host, get_driver("nftables"), listed(netns), change("STATEFUL"), store)
    host = host_with(fleet, jump_from={"table": "nosuch", "chains": {"forward": "forward"}})
    with pytest.raises(UnsupportedConstruct, match="table inet nosuch has no base chain forward"):
        plan_device(host, get_driver("nftables"), listed(netns), change("STATEFUL"), store)


def test_own_table_at_a_priority_and_the_plan_says_what_still_judges_accepts(netns, fleet, store):
    assert nft(netns, "-f", "-", stdin=HOST_TABLE).returncode == 0
    host = host_with(fleet, priority=-10)
    plan = apply_plan(netns, host, store, change("STATEFUL"))
    assert "add chain inet netchange hook-forward { type filter hook forward priority -10; }" in plan.commands
    warn = [c for c in plan.commands if "the host's chain inet filter forward (priority 0, policy drop) runs after" in c]
    assert warn and "set firewall.nftables.jump_from" in warn[0]
    chain = json.loads(nft(netns, "-j", "list", "chain", "inet", "netchange", "hook-forward").stdout)["nftables"][1]["chain"]
    assert chain["prio"] == -10
    assert plan_device(host, get_driver("nftables"), listed(netns), change("STATEFUL"), store).ops == []
    # the inventory now says another priority: a base chain's priority cannot be edited in place
    with pytest.raises(UnsupportedConstruct, match="has priority -10 on the host, the inventory says 5"):
        plan_device(host_with(fleet, priority=5), get_driver("nftables"), listed(netns), change("STATEFUL", "OTHER"), store)


def test_a_filter_in_netchanges_table_is_not_silently_moved_into_the_hosts(netns, fleet, store):
    assert nft(netns, "-f", "-", stdin=HOST_TABLE).returncode == 0
    apply_plan(netns, fleet.hosts["fw1"], store, change("STATEFUL"))
    moved = host_with(fleet, jump_from={"table": "filter", "chains": {"forward": "forward"}})
    c = change("STATEFUL")
    c = c.model_copy(update={"firewall": c.firewall.model_copy(update={"filters": (c.firewall.filters[0].model_copy(
        update={"terms": c.firewall.filters[0].terms[:1]}),)})})
    with pytest.raises(UnsupportedConstruct, match="its chain is in table inet netchange, but the inventory places"):
        plan_device(moved, get_driver("nftables"), listed(netns), c, store)
