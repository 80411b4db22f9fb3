"""Lists a platform rewrites whole (Junos prefix-lists, NX-OS/EOS community lists: no addressable seq) that a
change both adds to and removes from are printed as one rewrite ending in the intended list. Found by the
fuzz suite: each entry op printed its own rewrite, and the removal's (built from the list before the
change) came last, so the plan ended with `delete policy-options prefix-list PL-V6`: the new list gone,
its route-maps dangling (and the rollback likewise deleted the list it had just restored)."""

from __future__ import annotations

import re

import pytest

from pipeline.drivers import get_driver
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device

RUNNING = {
    "junos1": "set policy-options prefix-list PL-V6 2001:db8:24a4:8200::/56\n"
              "set policy-options policy-statement RM-OUT term 20 from prefix-list PL-V6\n"
              "set policy-options policy-statement RM-OUT term 20 then accept\n"
              "set protocols bgp group AS65002 neighbor 2001:db8:12::2 export RM-OUT\n",
    "nx1": "ip community-list standard CL-A seq 1 permit 65001:5\n"
           "route-map RM-X permit 10\n  match community CL-A\n",
}
CHANGES = {
    "junos1": {"prefix_lists": [{"name": "PL-V6", "afi": "ipv6", "entries": [
        {"seq": 508, "action": "permit", "prefix": "2001:db8:1180::/49"}]}]},
    "nx1": {"community_lists": [{"name": "CL-A", "kind": "standard", "entries": [  # the long run's NX-OS case
        {"seq": 10, "action": "permit", "communities": ["65001:77"]}]}]},
}


def _noseq(line: str) -> str:
    return re.sub(r" seq \d+", "", line)


def _plan(fleet, host):
    ch = ChangeRequest.model_validate({"id": "CHG-9", "title": "t", "requested_by": "x", "targets": {"hosts": [host]},
                                       "routing": CHANGES[host]})
    h = fleet.hosts[host]
    return plan_device(h, get_driver(h.platform), RUNNING[host], ch, ObjectStore())


@pytest.mark.parametrize("host, name, last_set, last_old", [
    ("junos1", "PL-V6", "set policy-options prefix-list PL-V6 2001:db8:1180::/49",
     "set policy-options prefix-list PL-V6 2001:db8:24a4:8200::/56"),
    ("nx1", "CL-A", "ip community-list standard CL-A seq 10 permit 65001:77",
     "ip community-list standard CL-A seq 1 permit 65001:5"),
])
def test_add_and_remove_print_one_rewrite_ending_in_the_intended_list(fleet, host, name, last_set, last_old):
    """Sequence numbers of a list rewritten whole are the printer's (NX-OS numbers the rewrite 5, 10, ...):
    compared without them, as the planner compares such lists (parsers/canonical.py)."""
    p = _plan(fleet, host)
    mine = [c for c in p.commands if name in c and "route-map" not in c and "policy-statement" not in c]
    assert len([c for c in mine if c.startswith(("delete", "no "))]) == 1, mine
    assert _noseq(mine[-1]) == _noseq(last_set), mine
    undo = [c for c in p.rollback_commands if name in c and "policy-statement" not in c]
    assert _noseq(undo[-1]) == _noseq(last_old), undo
