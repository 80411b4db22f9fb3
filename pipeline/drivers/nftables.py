"""Linux nftables firewall host: one atomic ruleset file for `table inet netchange`, uploaded and loaded
with `nft -f` after `nft -c -f`. A bad file leaves the old ruleset intact. No BGP here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..inventory import Attachment, Host, Platform
from ..model.firewall import PROTOCOL_NUMBERS, PortRange
from ..model.policy import ConcreteFilter, DevicePolicy
from ..model.resolve import Desired
from ..plan import ops as O
from .base import Capabilities
from .render import Context, TemplateDriver

TABLE = "inet netchange"
HOOKS = ("input", "forward", "output")
_L4_NAMES = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "icmp": "icmp", "icmpv6": "ipv6-icmp", "gre": "gre",
             "esp": "esp", "ah": "ah", "ospf": "ospf"}
_VERDICT = {"accept": "accept", "deny": "drop", "reject": "reject"}


@dataclass(frozen=True)
class NftRule:
    family_match: str  # `meta nfproto ipv4` when no address pins the family, else empty
    addr_kw: str  # ip | ip6
    saddrs: tuple[str, ...]
    daddrs: tuple[str, ...]
    l4proto: str | None
    sports: tuple[str, ...]
    dports: tuple[str, ...]
    counter: bool
    log_prefix: str | None
    verdict: str
    comment: str


@dataclass(frozen=True)
class Jump:
    chain: str
    iif: str | None = None
    oif: str | None = None


def _ports(ports: tuple[PortRange, ...]) -> tuple[str, ...]:
    return tuple(str(p) for p in ports)


def nft_rules(f: ConcreteFilter) -> list[NftRule]:
    """One nft rule per (rule, service spec); address lists become anonymous sets."""
    out = []
    for r in f.rules:
        pinned = bool(r.sources or r.destinations)
        for spec in r.specs or (None,):
            proto = spec.protocol if spec else None
            out.append(NftRule(
                family_match="" if pinned else f"meta nfproto {r.family}",
                addr_kw="ip" if r.family == "ipv4" else "ip6",
                saddrs=tuple(str(n) for n in r.sources), daddrs=tuple(str(n) for n in r.destinations),
                l4proto=_L4_NAMES.get(proto, str(PROTOCOL_NUMBERS.get(proto, proto))) if proto else None,
                sports=_ports(spec.source_ports) if spec else (), dports=_ports(spec.destination_ports) if spec else (),
                counter=r.counter, log_prefix=f"{f.name}/{r.name} " if r.log else None,
                verdict=_VERDICT[r.action], comment=f"{r.name}: {r.description}" if r.description else r.name))
    return out


def _set_ports(ports: tuple[PortRange, ...]) -> tuple[PortRange, ...]:
    """Ports as nft lists an anonymous set of them: sorted; with any range in it the set holds intervals,
    and adjacent or overlapping ones are merged (80-82, 83 -> 80-83)."""
    spans = sorted({(p.lo, p.hi) for p in ports})
    if all(lo == hi for lo, hi in spans):
        return tuple(PortRange(lo=lo, hi=hi) for lo, hi in spans)
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return tuple(PortRange(lo=lo, hi=hi) for lo, hi in merged)


def canonical_filter(f: ConcreteFilter) -> ConcreteFilter:
    """The filter as `nft -j list ruleset` gives it back: prefixes of a set collapsed (two adjacent /24
    become one /23) and sorted, port sets sorted and merged."""
    rules = tuple(r.model_copy(update={
        "sources": tuple(ipaddress.collapse_addresses(r.sources)),
        "destinations": tuple(ipaddress.collapse_addresses(r.destinations)),
        "specs": tuple(s.model_copy(update={"source_ports": _set_ports(s.source_ports),
                                            "destination_ports": _set_ports(s.destination_ports)}) for s in r.specs),
    }) for r in f.rules)
    return f if rules == f.rules else f.model_copy(update={"rules": rules})


class NftablesDriver(TemplateDriver):
    platform = Platform.NFTABLES
    netmiko_device_type = "linux"
    fetch_command = "nft -j list ruleset"
    commit_mode = "atomic_file"
    refresh_mode = "none"
    ruleset_path = "/run/netchange/ruleset.nft"
    check_command = "nft -c -f {path}"
    apply_command = "nft -f {path}"
    capabilities = Capabilities(large_communities=False, expanded_communities=False, ipv6_filters=True,
                                acl_sequence_edits=False, soft_out=False, route_map_continue=False,
                                extra=frozenset({"no_bgp", "whole_table_replace", "counters_reset_on_apply"}))
    error_patterns = (r"Error:", r"^nft: ", r"No such file or directory")

    def fetch_error(self, output: str) -> str | None:
        """`nft -j list ruleset` prints JSON, whatever the ruleset; anything else is the shell's or nft's refusal."""
        text = output.strip()
        if text.startswith("{"):
            return None
        return text.splitlines()[0].strip() if text else "no output at all (nft -j prints JSON even for no ruleset)"
    kinds = frozenset({"filter"})
    comment = "#"

    def template_vars(self) -> dict[str, Any]:
        return {**super().template_vars(), "nft_rules": nft_rules, "hook_chain": hook_chain}

    def canonical(self, kind: str, obj: Any) -> Any:
        return canonical_filter(obj) if kind == "filter" and obj is not None else obj

    def unsupported_kind_message(self, kind: str, name: object) -> str:
        return f"nftables hosts carry no BGP policy: {kind.replace('_', '-')} {name} must target a router"

    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        super().check(kind, obj, ctx)
        if kind == "filter":
            if not obj.name[0].isalpha():
                self.refuse(f"filter {obj.name}: nft chain names must start with a letter")
            if obj.name in {hook_chain(h) for h in HOOKS}:
                self.refuse(f"filter {obj.name}: the name is taken by netchange's base chain for that hook")

    def ruleset(self, filters: list[ConcreteFilter], host: Host, notes: list[str]) -> list[str]:
        ctx = self.context(host)
        for f in filters:
            self.check("filter", f, ctx)
        return self.emit("ruleset", host, filters, hook_jumps(filters), notes)

    def render(self, desired: list[Desired], host: Host, known: DevicePolicy | None = None) -> str:
        notes, filters = [], []
        for d in desired:
            if d.kind != "filter":
                if d.obj is not None:
                    self.check(d.kind, d.obj, self.context(host))
                notes.append(f"{d.kind.replace('_', '-')} {O.Op(d.kind, str(d.key)).name} absent: nftables carries none, nothing to remove")
            elif d.obj is None:
                notes.append(f"filter {d.key} absent: its chain is not in this file, so loading it removes the chain")
            else:
                filters.append(d.obj)
        if not any(d.kind == "filter" for d in desired):  # an empty table file would wipe every filter
            return "\n".join(self.note(n)[0] for n in notes + ["no filters in this change for this host"]) + "\n"
        notes.append("loading this file replaces the whole table, netchange plan builds it from the running table plus the change")
        return "\n".join(self.ruleset(filters, host, notes)) + "\n"

    def render_ops(self, ops: list[O.Op], intended: DevicePolicy, host: Host) -> list[str]:
        """Whatever the ops, the file is the whole intended table: one atomic replace."""
        ctx = self.context(host)
        for op in ops:  # the ops are not printed one by one, but each is still checked
            if op.kind != "filter":
                self.check(op.kind, getattr(op, "obj", None) or op.name, ctx)
            for obj in (getattr(op, "obj", None), getattr(op, "new", None)):
                if obj is not None:
                    self.check("filter", obj, ctx)
        # Only netchange's own table is rewritten; chains the parser found in other tables
        # (named `<table>/<chain>`) belong to someone else and are left exactly as they are.
        return self.ruleset([f for f in intended.filters.values() if "/" not in f.name], host, [])


def hook_chain(hook: str) -> str:
    return f"hook-{hook}"


def hook_jumps(filters: list[ConcreteFilter]) -> list[tuple[str, list[Jump]]]:
    """Base chains per hook, jumping to each attached filter in order (interfaces: in -> input+forward, out -> forward+output)."""
    jumps: dict[str, list[Jump]] = {h: [] for h in HOOKS}
    for f in filters:
        for att in f.attachments:
            for hook, jump in _jumps_for(att, f.name):
                jumps[hook].append(jump)
    return [(h, js) for h, js in jumps.items() if js]


def _jumps_for(att: Attachment, chain: str) -> list[tuple[str, Jump]]:
    if att.hook:
        return [(att.hook, Jump(chain))]
    if att.direction == "in":
        return [("input", Jump(chain, iif=att.interface)), ("forward", Jump(chain, iif=att.interface))]
    return [("forward", Jump(chain, oif=att.interface)), ("output", Jump(chain, oif=att.interface))]


DRIVER = NftablesDriver()
