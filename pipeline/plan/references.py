"""Reference safety: a plan never deletes or empties an object the device still uses.

An object is *gone* when the device has it (even empty: a route-map matching an empty prefix-list denies
every route, one matching a missing list matches every route on IOS) and the change removes it (`state:
absent`), or when it had entries (rules, for a filter) and the change leaves it empty; an empty prefix-list
or route-map does not exist on FRR, and the consequences of a dangling reference are silent and
platform-dependent: on IOS a route-map entry matching a missing prefix-list matches every route, on FRR a
neighbor bound to a missing route-map is denied everything, and an interface whose ACL is gone passes all traffic.

Users of a gone object, after the change (so a change that also removes or rebinds the user is fine):

* a neighbor binding (neighbor, address family, direction) naming a gone route-map;
* a route-map with entries whose match (or `set comm-list ... delete`) names a gone list, bound or not;
* a gone filter's attachments (interface + direction, nftables hook) that no filter of the intended
  policy takes over, unless the change names them in the absent filter's `attach` (it means to detach);
* a line that names it and decides no modelled binding (`DevicePolicy.uses`: `redistribute ... route-map`,
  a VRF neighbor's binding, `neighbor X prefix-list P in`, a Junos firewall term's prefix-list, a policy
  expression);
* a line the parser kept but could not model (`DevicePolicy.skipped`: a route-map clause) that names it.

Plans read route-maps and `router bgp` always, and a removed list or filter is named in the plan's focus,
so its attachments and every modelled user are parsed (see pipeline/parsers/focus.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..errors import NetchangeError
from ..inventory import Attachment, Host
from ..model.change import ChangeRequest
from ..model.policy import ConcreteFilter, DevicePolicy, Kind

_LISTS: tuple[Kind, ...] = ("prefix_list", "community_list", "as_path_list")
_WORDS = {"prefix_list": "prefix-list", "community_list": "community-list", "as_path_list": "as-path list",
          "route_map": "route-map", "filter": "filter"}
# How parsers label notes about an object itself (its own unmodelled lines are not a use of it).
_NOTE_LABELS = {"prefix_list": {"prefix-list", "ipv6-prefix-list"},
                "community_list": {"community-list", "large-community-list", "extcommunity-list"},
                "as_path_list": {"as-path-list", "as-path"}, "route_map": {"route-map", "policy-statement"},
                "filter": {"filter", "access-list", "acl"}}


class ObjectInUse(NetchangeError):
    """The change deletes or empties an object something on the device still uses."""


@dataclass(frozen=True)
class Use:
    kind: str
    name: str
    how: str  # "removes" | "empties"
    user: str  # who still uses it, for a person

    def __str__(self) -> str:
        return f"{self.how} {_WORDS[self.kind]} {self.name}, still used by {self.user}"


def _live(kind: str, obj: Any) -> bool:
    if obj is None:
        return False
    return bool(obj.rules) if kind == "filter" else bool(getattr(obj, "entries", ()))


def gone(view: DevicePolicy, intended: DevicePolicy, touched: set[tuple[Kind, object]]) -> dict[tuple[str, str], str]:
    """(kind, name) -> "removes" | "empties", for every touched object live before and not after."""
    out: dict[tuple[str, str], str] = {}
    for kind, key in touched:
        if kind == "binding":
            continue
        before, after = view.get(kind, key), intended.get(kind, key)
        if before is not None and after is None:
            # also an empty one: a route-map matching an empty prefix-list denies every route, one matching a
            # missing list (IOS, EOS) every route
            out[(kind, str(key))] = "removes"
        elif _live(kind, before) and not _live(kind, after):
            out[(kind, str(key))] = "empties"
    return out


def _bound_to(intended: DevicePolicy, rm: str) -> list[str]:
    return [f"{b.neighbor} {b.afi} {b.direction}" for b in intended.bindings.values() if b.route_map == rm]


def _route_map_users(intended: DevicePolicy, lost: dict[tuple[str, str], str]) -> list[Use]:
    out = []
    for rm in intended.route_maps.values():
        if not rm.entries or ("route_map", rm.name) in lost:
            continue
        for e in rm.entries:
            for ref in e.references():
                if ref in lost:
                    bound = _bound_to(intended, rm.name)
                    where = f"bound to {', '.join(bound)}" if bound else "not bound"
                    out.append(Use(ref[0], ref[1], lost[ref], f"route-map {rm.name} entry {e.seq} ({where})"))
    return out


def _binding_users(intended: DevicePolicy, lost: dict[tuple[str, str], str]) -> list[Use]:
    return [Use("route_map", b.route_map, lost[("route_map", b.route_map)],
                f"the binding of neighbor {b.neighbor} {b.afi} {b.direction}")
            for b in intended.bindings.values() if b.route_map and ("route_map", b.route_map) in lost]


def _points(atts: Iterable[Attachment], canonical: Callable[[str, Any], Any] | None) -> list[Attachment]:
    """Attachments as the platform keeps them (Junos: `ge-0/0/1` is `ge-0/0/1.0`)."""
    if not atts:
        return []
    f = ConcreteFilter(name="points", attachments=tuple(atts))
    return list((canonical("filter", f) if canonical else f).attachments)


def _describe(a: Attachment) -> str:
    return f"hook {a.hook}" + (f" ({a.interface} {a.direction})" if a.interface else "") if a.hook else f"{a.interface} {a.direction}"


def _filter_users(view: DevicePolicy, intended: DevicePolicy, lost: dict[tuple[str, str], str], change: ChangeRequest,
                  host: Host, canonical: Callable[[str, Any], Any] | None) -> list[Use]:
    taken = {a for f in intended.filters.values() if _live("filter", f) for a in _points(f.attachments, canonical)}
    points = host.data.firewall.attachments
    detached = {a for f in change.firewall.filters if f.state == "absent"
                for a in _points([points[n] for n in f.attach if n in points], canonical)}
    out = []
    for (kind, name), how in lost.items():
        if kind != "filter":
            continue
        left = [a for a in _points(view.filters[name].attachments, canonical) if a not in taken and a not in detached]
        if left:
            out.append(Use(kind, name, how, "its attachment to " + ", ".join(_describe(a) for a in left)
                           + " (the traffic there would no longer be filtered)"))
    return out


_NOTE = re.compile(r"^(?P<subject>[^:]*):.*'(?P<line>[^']*)'\s*$")


def _line_users(view: DevicePolicy, lost: dict[tuple[str, str], str]) -> list[Use]:
    """Device lines naming a gone object that no binding of the model stands for (those are checked as bindings)."""
    return [Use(u.kind, u.name, lost[(u.kind, u.name)], f"the line '{' '.join(u.line)}'" if u.line else u.who)
            for u in view.uses if not u.covers and (u.kind, u.name) in lost]


def _unmodelled_users(view: DevicePolicy, lost: dict[tuple[str, str], str]) -> list[Use]:
    """Lines the parser kept but could not model that name a gone object (as a whole word)."""
    out = []
    seen = {" ".join(u.line) for u in view.uses}  # already reported by _line_users
    for note in view.skipped:
        m = _NOTE.match(note)
        if not m or m.group("line").strip() in seen:
            continue
        subject = m.group("subject").split()
        for (kind, name), how in lost.items():
            # the name as a whole word, or a version of it (`NAME.ncN`, versioned strategy)
            if not re.search(rf"(?<![\w.-]){re.escape(name)}(?:\.nc\d+)?(?![\w.-])", m.group("line")):
                continue
            if len(subject) >= 2 and subject[0] in _NOTE_LABELS[kind] and subject[1].strip("'\"") == name:
                continue  # a note about the object itself
            out.append(Use(kind, name, how, f"a line netchange does not model: '{m.group('line')}'"))
    return out


def users_of_gone(host: Host, change: ChangeRequest, view: DevicePolicy, intended: DevicePolicy,
                  touched: set[tuple[Kind, object]], canonical: Callable[[str, Any], Any] | None = None) -> list[Use]:
    """Every use the change would leave dangling (empty when the change is reference-safe)."""
    lost = gone(view, intended, touched)
    if not lost:
        return []
    uses = _binding_users(intended, lost) + _route_map_users(intended, lost)
    uses += _filter_users(view, intended, lost, change, host, canonical) + _line_users(view, lost)
    uses += _unmodelled_users(view, lost)
    return list(dict.fromkeys(uses))


def refuse_dangling(host: Host, change: ChangeRequest, view: DevicePolicy, intended: DevicePolicy,
                    touched: set[tuple[Kind, object]], canonical: Callable[[str, Any], Any] | None = None) -> None:
    """Raise ObjectInUse naming the device, each object and each of its users."""
    uses = users_of_gone(host, change, view, intended, touched, canonical)
    if not uses:
        return
    hints = []
    if any(u.kind != "filter" for u in uses):
        hints.append("remove or rebind those users in the same change")
    if any(u.kind == "filter" for u in uses):
        hints.append("attach another filter there in the same change, or list those points in the absent "
                     "filter's `attach` to detach it knowingly")
    head = f"{host.name}: refusing to plan {change.id}: it {uses[0]}"
    rest = "".join(f"\n  - it {u}" for u in uses[1:])
    raise ObjectInUse(f"{head}{rest}\n  To go ahead: {'; '.join(hints)}.")


def lookup_context(intended: DevicePolicy, view: DevicePolicy) -> DevicePolicy:
    """What the printer may look up while it edits: the intended policy plus the lists the change
    removes (a route-map edit that stops matching a removed prefix-list prints `no match ip address
    prefix-list X`, and the family of X is only known from before)."""
    out = intended.copy()
    for kind in _LISTS:
        for name, obj in view.table(kind).items():
            if name not in out.table(kind):
                out.put(kind, name, obj)
    return out
