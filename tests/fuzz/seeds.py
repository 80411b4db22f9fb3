"""Hand-written fuzz inputs: one per kind of failure the adversarial review of issue 11 found.

They run first in every short run (tests/fuzz/test_fuzz.py) through the same invariants as the generated
cases, so each bug class is covered on every CI run whatever the random generator happens to draw. They
are inputs, not expectations: the harness decides pass or fail exactly as for a generated case.
"""

from __future__ import annotations

import json

from .running import nft_ruleset
from .suite import Case

ALL = ["r1", "fw1", "ios1", "eos1", "cx1", "junos1", "nx1"]
INJECTION = "fe80::1%x\nno router bgp 65001\nrouter bgp 65001"


def _yaml(doc: dict) -> str:
    from .suite import dump_yaml

    return dump_yaml(doc)


def _change(routing=None, firewall=None, verify=None, hosts=ALL, **extra) -> str:
    doc = {"id": "CHG-11", "title": "issue 11 seed", "requested_by": "fuzz@example.net", "targets": {"hosts": list(hosts)}, **extra}
    for key, value in (("routing", routing), ("firewall", firewall), ("verify", verify)):
        if value:
            doc[key] = value
    return _yaml(doc)


R1_RUNNING = """ip prefix-list PL-A seq 10 permit 198.51.100.0/24
route-map RM-USER permit 10
 match ip address prefix-list PL-A
exit
route-map RM-IN permit 10
exit
router bgp 65001
 address-family ipv4 unicast
  neighbor 198.51.100.2 route-map RM-IN in
  neighbor 198.51.100.6 route-map RM-USER out
 exit-address-family
exit
"""

_PL = {"name": "PL-A", "entries": [{"seq": 10, "action": "permit", "prefix": "198.51.100.0/24"}]}


def _routes(path_len: int) -> str:
    path = " ".join(["65002"] * path_len)
    return json.dumps({"receivedRoutes": {f"203.0.113.{i * 16}/28": {"path": path, "nextHop": "198.51.100.2"} for i in range(4)}})


def _nft_with_foreign() -> str:
    from pipeline.inventory import Attachment
    from pipeline.model import ConcreteFilter, DevicePolicy, Rule, ServiceSpec

    p = DevicePolicy()
    for name in ("F1", "OTHER"):
        p.filters[name] = ConcreteFilter(name=name, attachments=(Attachment(hook="forward"),), rules=(
            Rule(name="ssh", family="ipv4", specs=(ServiceSpec(protocol="tcp", destination_ports=(22,)),), action="accept"),))
    return nft_ruleset(p, {"lo-accept", "ct-state", "named-set", "policy-drop", "other-table"})


def seed_cases() -> dict[str, Case]:
    # A device list of 1,000 entries the change cuts to one: ~1,000 edit ops (and as many in the rollback), so a
    # planner that is quadratic in the list size shows, while the change file itself stays tiny.
    running = "".join(f"ip prefix-list PL-BIG seq {5 * (i + 1)} permit 198.18.{i // 128}.{(i % 128) * 2}/32\n" for i in range(1000))
    cases = {
        # 1. an IPv6 scope id carrying commands in a next-hop: validates clean, renders as commands
        "next-hop-scope-id": {"change": _change(routing={"prefix_lists": [_PL], "route_maps": [
            {"name": "RM-IN", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"},
                                           "set": {"next_hop": INJECTION}}]}]}), "snapshots": {"r1": R1_RUNNING}},
        # 2. the same in a neighbor address: reaches `show bgp ... neighbors <addr>` sent during plan
        "neighbor-scope-id": {"change": _change(hosts=["r1"], routing={"bindings": [
            {"neighbor": INJECTION, "afi": "ipv6", "direction": "in", "route_map": "RM-IN"}]}), "snapshots": {"r1": R1_RUNNING}},
        # 3. and in a verify route prefix: reaches `show bgp ... <prefix> json` in the post-check
        "verify-prefix-scope-id": {"change": _change(hosts=["r1"], routing={"prefix_lists": [_PL]},
                                                     verify={"routes": [{"device": "r1", "prefix": "fe80::%x\nexit/64"}]}),
                                   "snapshots": {"r1": R1_RUNNING}},
        # 4. a name with a trailing newline: `route-map RM1` / ` permit 10`
        "trailing-newline-name": {"change": _change(routing={"route_maps": [
            {"name": "RM1\n", "entries": [{"seq": 10, "action": "permit"}]}]}), "snapshots": {"r1": R1_RUNNING}},
        # 5. a catastrophic AS-path regex, bound inbound, over received routes with long AS paths (impact preview)
        "catastrophic-as-path-regex": {"change": _change(hosts=["r1"], routing={
            "as_path_lists": [{"name": "AS-A", "entries": [{"seq": 10, "action": "permit", "regex": "^([0-9]+ ?)+x$"}]}],
            "route_maps": [{"name": "RM-IN", "entries": [{"seq": 10, "action": "permit", "match": {"as_path": "AS-A"}}]}],
            "bindings": [{"neighbor": "198.51.100.2", "afi": "ipv4", "direction": "in", "route_map": "RM-IN"}]}),
            "snapshots": {"r1": R1_RUNNING}, "routes": {"r1": {"198.51.100.2_ipv4": _routes(30)}}},
        # 6. one term of 60 sources x 60 destinations x 60 ports (validate's shadowing analysis)
        "term-60x60x60": {"change": _change(hosts=["fw1"], firewall={"filters": [{"name": "F1", "attach": ["server-edge"], "terms": [{
            "name": "big", "action": "accept", "protocols": ["tcp"],
            "sources": [f"198.18.{i}.0/24" for i in range(60)], "destinations": [f"203.0.113.{i}" for i in range(60)],
            "destination_ports": list(range(1000, 1060))}]}]})},
        # 7. a 1,000-entry prefix-list cut to one entry (plan time must be linear in the list size)
        "prefix-list-1000": {"change": _change(hosts=["r1"], routing={"prefix_lists": [
            {"name": "PL-BIG", "entries": [{"seq": 5, "action": "permit", "prefix": "198.18.0.0/31"}]}]}), "snapshots": {"r1": running}},
        # 8. a firewall with rules and chains the model does not hold; the change touches one chain
        "nft-untouched-chains": {"change": _change(hosts=["fw1"], firewall={"filters": [{"name": "F1", "attach": ["server-edge"], "terms": [
            {"name": "web", "action": "accept", "protocols": ["tcp"], "destination_ports": [443]}]}]}),
            "snapshots": {"fw1": _nft_with_foreign()}},
        # 9. removing a prefix-list an untouched, bound route-map matches, and a route-map a neighbor is bound to
        "delete-in-use": {"change": _change(hosts=["r1"], routing={"prefix_lists": [{"name": "PL-A", "state": "absent"}],
                                                                   "route_maps": [{"name": "RM-IN", "state": "absent"}]}),
                          "snapshots": {"r1": R1_RUNNING}},
        # 10. a term referring to a network object 3,000 objects deep (harness.make_project)
        "deep-network-object": {"change": _change(hosts=["fw1", "ios1"], firewall={"filters": [{"name": "F1", "attach": ["server-edge"], "terms": [
            {"name": "deep", "action": "accept", "sources": ["DEEP-0"], "protocols": ["tcp"]}]}]})},
    }
    return {name: Case("change", {"snapshots": {}, "routes": {}, "plan_format": "json", **data}) for name, data in cases.items()}
