"""Linux nftables firewall host: one file of edits to `table inet netchange`, uploaded and loaded with
`nft -f` after `nft -c -f` (all or nothing: a bad file leaves the old ruleset intact). A change edits only
the chains it names: each is flushed and refilled, and jumps to it are added to or deleted from the base
chains one rule at a time by handle, so rules the model cannot express, sets, base-chain properties and
other tables are never rewritten. No BGP here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from ..inventory import Attachment, Host, Platform
from ..model.firewall import PROTOCOL_NUMBERS, PortRange
from ..model.policy import ConcreteFilter, DevicePolicy
from ..model.resolve import Desired
from ..parsers.nft_layout import ChainLayout, RuleRef, TableLayout
from ..parsers.nftables import attachment_order
from ..model import ops as O
from .commit import FileMode
from .render import Context, TemplateDriver, UnsupportedConstruct

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
    become one /23) and sorted, port sets sorted and merged, attachments in one order."""
    rules = tuple(r.model_copy(update={
        "sources": tuple(ipaddress.collapse_addresses(r.sources)),
        "destinations": tuple(ipaddress.collapse_addresses(r.destinations)),
        "specs": tuple(s.model_copy(update={"source_ports": _set_ports(s.source_ports),
                                            "destination_ports": _set_ports(s.destination_ports)}) for s in r.specs),
    }) for r in f.rules)
    attachments = tuple(sorted(f.attachments, key=attachment_order))  # each its own jump: order means nothing
    if rules == f.rules and attachments == f.attachments:
        return f
    return f.model_copy(update={"rules": rules, "attachments": attachments})


class NftablesDriver(TemplateDriver):
    platform = Platform.NFTABLES
    netmiko_device_type = "linux"
    fetch_command = "nft -j list ruleset"
    snapshot_suffix = ".json"  # `nft -j list ruleset`
    commit_mode = FileMode()
    refresh_mode = "none"
    error_patterns = (r"Error:", r"^nft: ", r"No such file or directory")

    def fetch_error(self, output: str) -> str | None:
        """`nft -j list ruleset` prints JSON, whatever the ruleset; anything else is the shell's or nft's refusal."""
        text = output.strip()
        if text.startswith("{"):
            return None
        return text.splitlines()[0].strip() if text else "no output at all (nft -j prints JSON even for no ruleset)"
    kinds = frozenset({"filter"})

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

    def render(self, desired: list[Desired], host: Host, known: DevicePolicy | None = None) -> str:
        """The change's filters as edits to a table that does not hold them yet (the running table's
        layout is not used: `netchange plan` edits a running host by its rule handles)."""
        notes: list[str] = []
        ops: list[O.Op] = []
        for d in desired:
            if d.kind != "filter":
                if d.obj is not None:
                    self.check(d.kind, d.obj, self.context(host))
                notes.append(f"{d.kind.replace('_', '-')} {O.Op(d.kind, str(d.key)).name} absent: nftables carries none, nothing to remove")
            elif d.obj is None:
                notes.append(f"filter {d.key} absent: `netchange plan` removes its chain and the jumps to it "
                             "(by the running table's rule handles)")
            else:
                assert isinstance(d.obj, ConcreteFilter)  # the kind is filter
                ops.append(O.Create("filter", d.obj.name, d.obj))
        if not ops:
            return "\n".join(self.note(n)[0] for n in notes + ["no filters in this change for this host"]) + "\n"
        notes.append("adds to table inet netchange, never deletes it: each chain here is flushed and refilled, "
                     "jumps to it are appended to the hook chains")
        return "\n".join(self._edits(ops, TableLayout(), host, notes)) + "\n"

    def render_ops(self, ops: list[O.Op], intended: DevicePolicy, host: Host) -> list[str]:
        """Edits to the chains the ops name, by the running table's layout (`intended.device`, from the
        parser): nothing else in the table or the ruleset is rewritten."""
        layout = intended.device if isinstance(intended.device, TableLayout) else TableLayout()
        return self._edits(ops, layout, host, ["only the chains this change touches are edited; the rest of the "
                                               "table and of the ruleset is left as it is"])

    def rollback_commands(self, ops: list[O.Op], before: DevicePolicy, host: Host) -> list[str]:
        """Edits name rules by the running table's handles; those of the jumps a change adds are known only
        once it is applied, so a rollback is computed then, from the host (deploy/restore.py)."""
        chains = sorted({op.name for op in ops if op.kind == "filter"})
        return self.note(f"rollback of chain(s) {', '.join(chains)}: computed when it runs, from the host's "
                         "current rule handles (netchange deploy restores the recorded chains and jumps)") if chains else []

    def _edits(self, ops: list[O.Op], layout: TableLayout, host: Host, notes: list[str]) -> list[str]:
        ctx = self.context(host)
        plan = _JumpPlan(self, layout)
        body: list[str] = []
        for op in ops:
            if op.kind != "filter":
                self.check(op.kind, getattr(op, "obj", None) or op.name, ctx)
                continue
            if "/" in op.name:  # a chain of another table (`table/chain`): never netchange's to edit
                notes.append(f"{op.name}: a chain outside table inet netchange, left as it is")
                continue
            old, new = _before_after(op)
            if new is not None:
                self.check("filter", new, ctx)
            existing = layout.chains.get(op.name)
            if existing is not None and existing.base:
                self.refuse(f"filter {op.name}: table inet netchange has a base chain of that name (hook {existing.hook})")
            if new is not None:
                if old is None or existing is None or canonical_filter(old).rules != canonical_filter(new).rules:
                    body += self.emit("refill_chain", new)
                body += plan.jumps(op.name, new.attachments)
            else:
                refs = [(c, r) for c, r in layout.references_to(op.name) if r.dispatch is None]
                if refs:
                    self.refuse(f"filter {op.name}: its chain cannot be deleted, rules netchange does not manage jump "
                                "to it: " + "; ".join(f"chain {c.name} handle {r.handle}: {r.text}" for c, r in refs))
                body += plan.jumps(op.name, ())
                body += self.emit("delete_chain", op.name)
        return self.emit("header", host, notes) + plan.base_chains() + body


class _JumpPlan:
    """Jump rules to add or delete in the base chains of netchange's table, one filter at a time.

    A filter's jumps go to the base chain of that hook that already holds netchange's jumps, else to
    `hook-<hook>` (created without a policy when missing): never into a base chain netchange does not
    dispatch from. New jumps are inserted right after the existing ones (before the first rule that
    follows them), so a base chain's own closing rules stay last."""

    def __init__(self, driver: "NftablesDriver", layout: TableLayout):
        self.d, self.layout = driver, layout
        self.created: list[tuple[str, str]] = []

    def chain_for(self, hook: str) -> tuple[str, int | None]:
        """(base chain for new jumps of this hook, handle to insert before or None to append)."""
        chains = self.layout.base_chains(hook)
        with_jumps = [c for c in chains if c.dispatch_rules()]
        if with_jumps:
            c = with_jumps[0]
            last = max(i for i, r in enumerate(c.rules) if r.dispatch is not None)
            if last + 1 < len(c.rules):
                return c.name, self._handle(c, c.rules[last + 1])
            return c.name, None
        name = hook_chain(hook)
        own = self.layout.chains.get(name)
        if own is None:
            if (name, hook) not in self.created:
                self.created.append((name, hook))
            return name, None
        if own.hook != hook:
            self.d.refuse(f"chain {name} of table inet netchange exists with hook {own.hook}, not {hook}: "
                          "cannot attach filters through it")
        return name, None

    def _handle(self, chain: ChainLayout, rule: RuleRef) -> int:
        if rule.handle is None:
            self.d.refuse(f"chain {chain.name}: the ruleset read from the host has no rule handles "
                          "(read it with `nft -j list ruleset`)")
        return rule.handle

    def jumps(self, name: str, attachments) -> list[str]:
        wanted: list[tuple[str, Jump]] = []
        for att in attachments:
            for hook, j in _jumps_for(att, name):
                if (hook, j) not in wanted:
                    wanted.append((hook, j))
        have: set[tuple[str, Jump]] = set()
        out: list[str] = []
        for chain in self.layout.chains.values():
            if not chain.base:
                continue
            for r in chain.rules:
                if r.dispatch is None or r.target != name:
                    continue
                key = (chain.hook, Jump(name, iif=r.dispatch[0], oif=r.dispatch[1]))
                if key in wanted:
                    have.add(key)
                else:
                    out += self.d.emit("delete_rule", chain.name, self._handle(chain, r))
        for hook, j in wanted:
            if (hook, j) not in have:
                base, before = self.chain_for(hook)
                out += self.d.emit("add_jump", base, j, before)
        return out

    def base_chains(self) -> list[str]:
        return [line for name, hook in self.created for line in self.d.emit("base_chain", name, hook)]


def _before_after(op: O.Op) -> tuple[ConcreteFilter | None, ConcreteFilter | None]:
    if isinstance(op, O.Create):
        return None, op.obj
    if isinstance(op, O.ReplaceFilter):
        return op.old, op.new
    if isinstance(op, O.Delete):
        return op.obj, None
    raise UnsupportedConstruct(f"nftables: cannot print {op.verb} filter {op.name}")


def hook_chain(hook: str) -> str:
    return f"hook-{hook}"


def _jumps_for(att: Attachment, chain: str) -> list[tuple[str, Jump]]:
    if att.hook:
        return [(att.hook, Jump(chain))]
    if att.direction == "in":
        return [("input", Jump(chain, iif=att.interface)), ("forward", Jump(chain, iif=att.interface))]
    return [("forward", Jump(chain, oif=att.interface)), ("output", Jump(chain, oif=att.interface))]


DRIVER = NftablesDriver()
