"""JunOS running configuration (`show configuration`, hierarchical or `| display set`) -> DevicePolicy.

The text is first reduced to set-lines and an ordered statement tree (junos_setlines), then mapped:
firewall filters and their interface attachments (junos_firewall), policy-options and BGP bindings
(junos_policy). Whatever cannot be modelled is listed in `DevicePolicy.skipped`, attributed to the object it
sits in (inactive statements too); parse never raises on configuration content.
"""

from __future__ import annotations

from ..model.policy import DevicePolicy
from .junos_firewall import FirewallMapper
from .junos_policy import JunosLayout, PolicyMapper, firewall_uses
from .junos_setlines import Node, parse_text
from .notes import Notes

# Top-level statements whose content could change the modelled objects but is not expanded.
_GROUP_SENSITIVE = ("firewall", "policy-options", "protocols", "interfaces", "routing-instances")


def parse(text: str) -> DevicePolicy:
    parsed = parse_text(text)
    notes = Notes(parsed.notes)
    _note_groups(parsed.tree, notes)
    policy = PolicyMapper(parsed.tree, notes)
    policy.run()
    filters = FirewallMapper(parsed.tree, policy.static_prefixes(), notes).filters()
    return DevicePolicy(filters=filters, prefix_lists=policy.prefix_lists, community_lists=policy.community_lists,
                        as_path_lists=policy.as_path_lists, route_maps=policy.route_maps, bindings=policy.bindings,
                        skipped=notes, device=JunosLayout(bgp_groups=policy.bgp_groups, list_refs=policy.list_refs),
                        uses=policy.uses + firewall_uses(parsed.tree), peer_groups=policy.peer_groups)


def _note_groups(tree: Node, notes: list[str]) -> None:
    """Configuration groups are inherited at commit time; we read the configuration as written."""
    for group in tree.keys("groups"):
        hit = [k for k in tree.keys("groups", group) if k in _GROUP_SENSITIVE]
        if hit:
            notes.append(f"groups {group}: not expanded ({', '.join(hit)} inherited through apply-groups are not modelled)")
    if tree.has("apply-groups"):
        notes.append(f"apply-groups {' '.join(tree.keys('apply-groups'))}: not expanded")


__all__ = ["parse"]
