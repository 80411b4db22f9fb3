"""The planner's work grows linearly with the size of a touched list.

Counted, not timed: the number of Python function calls (sys.setprofile) while planning an edit of
every entry of an n-entry prefix-list, for n and 4n. Linear work gives a ratio near 4; the old planner
(dependency edges between every addition and removal, a full list sort per replayed op, the whole list
re-validated and rescanned per printed entry) gave about 16. Benchmark: benchmarks/plan_list_edit.py.
"""

from __future__ import annotations

import ipaddress
import sys

from pipeline.drivers import get_driver
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device


def _pfx(i: int) -> str:
    return str(ipaddress.ip_network((int(ipaddress.ip_address("198.18.0.0")) + i * 4, 30)))


def _case(n: int) -> tuple[str, ChangeRequest]:
    text = "".join(f"ip prefix-list PL-BIG seq {i + 1} permit {_pfx(i)}\n" for i in range(n))
    text += ("route-map RM-BIG permit 10\n match ip address prefix-list PL-BIG\nrouter bgp 65001\n"
             " neighbor 198.51.100.2 remote-as 65002\n address-family ipv4 unicast\n"
             "  neighbor 198.51.100.2 route-map RM-BIG in\n exit-address-family\n")
    entries = [{"seq": i + 1, "action": "deny", "prefix": _pfx(i)} for i in range(n)]  # every entry modified
    entries.append({"seq": n + 1, "action": "permit", "prefix": "203.0.113.0/24"})  # one added
    change = ChangeRequest.model_validate({"id": "CHG-9", "title": "t", "requested_by": "x", "targets": {"hosts": ["r1"]},
                                           "routing": {"prefix_lists": [{"name": "PL-BIG", "afi": "ipv4", "entries": entries}]}})
    return text, change


def _calls(fleet, n: int) -> int:
    host = fleet.hosts["r1"]
    text, change = _case(n)
    count = 0

    def prof(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(prof)
    try:
        plan = plan_device(host, get_driver(host.platform), text, change, ObjectStore())
    finally:
        sys.setprofile(None)
    assert len(plan.commands) == n + 1 and len(plan.rollback_commands) >= n  # the edit really is planned
    return count


def test_planning_a_list_edit_is_linear_in_the_list_size(fleet):
    _calls(fleet, 20)  # warm up: templates compiled, caches filled
    small, large = _calls(fleet, 150), _calls(fleet, 600)
    assert large / small < 6, f"{small} calls for 150 entries, {large} for 600: not linear"
