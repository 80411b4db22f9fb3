"""Linux nftables firewall host: one file of edits to `table inet netchange`, uploaded and loaded with
`nft -f` after `nft -c -f` (all or nothing: a bad file leaves the old ruleset intact). A change edits only
the chains it names: each is flushed and refilled, and jumps to it are added to or deleted from the base
chains one rule at a time by handle, so rules the model cannot express, sets, base-chain properties and
other tables are never rewritten. No BGP here."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

from ..inventory import Attachment, Host, Platform
from ..model.firewall import PROTOCOL_NUMBERS, PortRange
from ..model.policy import ConcreteFilter, DevicePolicy
from ..model.resolve import Desired
from ..parsers.nft_layout import ChainLayout, RuleRef, TableLayout
from ..parsers.nftables import attachment_order
from ..parsers.nft_words import nft_icmp_type
from ..model import ops as O
from .commit import FileMode
from .render import UnsupportedConstruct
from .render.context import Context
from .render.driver import TemplateDriver

TABLE = "inet netchange"
HOOKS = ("input", "forward", "output")
Hook = Literal["input", "forward", "output"]  # as the inventory and the model spell an nftables hook
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
    verdict: str  # empty: a rule that only logs (at a rate) and lets the packet on to the verdict rule
    comment: str
    saddrs_not: tuple[str, ...] = ()
    daddrs_not: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    icmp: str | None = None  # icmp | icmpv6 when types are matched (nft then needs no l4proto)
    icmp_types: tuple[str, ...] = ()
    icmp_code: int | None = None
    flags_mask: tuple[str, ...] = ()
    flags_value: tuple[str, ...] = ()
    fragment: str | None = None  # the whole match, e.g. `ip frag-off & 0x1fff != 0`
    dscp: tuple[int, ...] = ()
    hop: str | None = None  # `ip ttl 1-5` / `ip6 hoplimit 64`
    limit: str | None = None  # `10/minute`


# Fragment matches: IPv4 by the fragment offset (13 bits) and MF flag; IPv6 by the fragment header.
_FRAGMENT = {("ipv4", "non-first"): "ip frag-off & 0x1fff != 0", ("ipv4", "first"): "ip frag-off & 0x3fff == 0x2000",
             ("ipv6", "non-first"): "frag frag-off != 0", ("ipv6", "first"): "frag frag-off 0 frag more-fragments 1"}


@dataclass(frozen=True)
class Jump:
    chain: str
    iif: str | None = None
    oif: str | None = None


def _ports(ports: tuple[PortRange, ...]) -> tuple[str, ...]:
    return tuple(str(p) for p in ports)


def nft_rules(f: ConcreteFilter) -> list[NftRule]:
    """One nft rule per (rule, service spec); address lists become anonymous sets. A rule that logs at a
    rate is two: `limit rate R log` (no verdict: a packet over the rate is just not logged) and then the
    verdict rule, both with the term's comment."""
    out = []
    for r in f.rules:
        pinned = bool(r.sources or r.destinations)
        kw = "ip" if r.family == "ipv4" else "ip6"
        flags = r.tcp_flags
        for spec in r.specs or (None,):
            proto = spec.protocol if spec else None
            icmp = proto if spec is not None and spec.icmp_types else None
            rule = NftRule(
                family_match="" if pinned else f"meta nfproto {r.family}",
                addr_kw=kw,
                saddrs=tuple(str(n) for n in r.sources), daddrs=tuple(str(n) for n in r.destinations),
                saddrs_not=tuple(str(n) for n in r.source_excludes), daddrs_not=tuple(str(n) for n in r.destination_excludes),
                states=r.states,
                l4proto=None if icmp else _L4_NAMES.get(proto, str(PROTOCOL_NUMBERS.get(proto, proto))) if proto else None,
                icmp=icmp, icmp_types=tuple(nft_icmp_type(icmp, t) for t in spec.icmp_numbers) if icmp and spec is not None else (),
                icmp_code=spec.icmp_code if spec else None,
                sports=_ports(spec.source_ports) if spec else (), dports=_ports(spec.destination_ports) if spec else (),
                flags_mask=(flags.set + flags.clear) if flags else (), flags_value=flags.set if flags else (),
                fragment=_FRAGMENT[r.family, r.fragment] if r.fragment else None, dscp=r.dscp,
                hop=f"{kw} {'ttl' if r.family == 'ipv4' else 'hoplimit'} {r.hop_limit}" if r.hop_limit else None,
                counter=r.counter, log_prefix=f"{f.name}/{r.name} " if r.log else None,
                verdict=_VERDICT[r.action], comment=f"{r.name}: {r.description}" if r.description else r.name)
            if r.log_rate is not None:
                out.append(dataclasses.replace(rule, counter=False, verdict="", limit=str(r.log_rate)))
                rule = dataclasses.replace(rule, log_prefix=None)
            out.append(rule)
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
        "source_excludes": tuple(ipaddress.collapse_addresses(r.source_excludes)),
        "destination_excludes": tuple(ipaddress.collapse_addresses(r.destination_excludes)),
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
        table = placement_table(host)
        notes.append(f"adds to table {table}, never deletes it: each chain here is flushed and refilled, jumps to it are "
                     "added to the hook chains")
        return "\n".join(self._edits(ops, TableLayout(), host, notes, offline=True)) + "\n"

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

    def _edits(self, ops: list[O.Op], layout: TableLayout, host: Host, notes: list[str], offline: bool = False) -> list[str]:
        ctx = self.context(host)
        table = placement_table(host)
        here = layout.table(table) or TableLayout()
        plan = _JumpPlan(self, layout, host, offline)
        body: list[str] = []
        for op in ops:
            if op.kind != "filter":
                self.check(op.kind, getattr(op, "obj", None) or op.name, ctx)
                continue
            if "/" in op.name:  # a chain of another table (`table/chain`): never netchange's to edit
                notes.append(f"{op.name}: a chain outside netchange's, left as it is")
                continue
            old, new = _before_after(op)
            if new is not None:
                self.check("filter", new, ctx)
            where = layout.table_of(op.name)
            if where is not None and where != table:
                self.refuse(f"filter {op.name}: its chain is in table {where}, but the inventory places netchange's "
                            f"chains in table {table} (firewall.nftables): delete it there first, or place it back")
            existing = here.chains.get(op.name)
            if existing is not None and existing.base:
                self.refuse(f"filter {op.name}: table {table} has a base chain of that name (hook {existing.hook})")
            if existing is not None and not existing.ours:
                self.refuse(f"filter {op.name}: table {table} already has a chain of that name that is not netchange's")
            if new is not None:
                if old is None or existing is None or canonical_filter(old).rules != canonical_filter(new).rules:
                    body += self.emit("refill_chain", table, new)
                body += plan.jumps(op.name, new.attachments)
            else:
                refs = [(c, r) for c, r in here.references_to(op.name) if r.dispatch is None]
                if refs:
                    self.refuse(f"filter {op.name}: its chain cannot be deleted, rules netchange does not manage jump "
                                "to it: " + "; ".join(f"chain {c.name} handle {r.handle}: {r.text}" for c, r in refs))
                body += plan.jumps(op.name, ())
                body += self.emit("delete_chain", table, op.name)
        return self.emit("header", host, notes + plan.placement_notes(), table) + plan.base_chains() + body


def placement_table(host: Host) -> str:
    """The table netchange's chains live in on this host: its own, or the host's (`jump_from`)."""
    jf = host.data.firewall.nftables.jump_from
    return f"inet {jf.table}" if jf is not None else TABLE


class _JumpPlan:
    """Jump rules to add or delete in the base chains that dispatch to netchange's chains, one filter at a time.

    In netchange's own table (default), a filter's jumps go to the base chain of that hook that already
    holds netchange's jumps, else to `hook-<hook>` (created without a policy, at the inventory's priority,
    when missing): never into a base chain netchange does not dispatch from. With `jump_from`, they go to
    the host's base chain the inventory names for the hook, before its own rules. New jumps are inserted
    right after netchange's existing ones, so the chain's own rules keep their order after them."""

    def __init__(self, driver: "NftablesDriver", layout: TableLayout, host: Host, offline: bool):
        self.d, self.host, self.offline = driver, host, offline
        self.place = host.data.firewall.nftables
        self.table = placement_table(host)
        self.layout = layout.table(self.table) or TableLayout()
        self.whole = layout
        self.created: list[tuple[str, str]] = []
        self.hooks: list[Hook] = []

    def chain_for(self, hook: Hook) -> tuple[str, int | str | None]:
        """(base chain for new jumps of this hook, handle to insert before, "top", or None to append)."""
        if hook not in self.hooks:
            self.hooks.append(hook)
        if self.place.jump_from is not None:
            return self._host_chain(hook)
        chains = self.layout.base_chains(hook)
        with_jumps = [c for c in chains if c.dispatch_rules()]
        if with_jumps:
            c = with_jumps[0]
            self._priority(c)
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
        self._priority(own)
        return name, None

    def _priority(self, chain: ChainLayout) -> None:
        if isinstance(chain.priority, int) and chain.priority != self.place.priority:
            self.d.refuse(f"base chain {chain.name} of table inet netchange has priority {chain.priority} on the host, "
                          f"the inventory says {self.place.priority} (firewall.nftables.priority): a base chain's "
                          "priority cannot be edited in place; delete the chain by hand or change the inventory")

    def _host_chain(self, hook: Hook) -> tuple[str, int | str | None]:
        jf = self.place.jump_from
        assert jf is not None  # chain_for comes here only with jump_from set
        name = jf.chains.get(hook)
        if name is None:
            self.d.refuse(f"a filter attaches to hook {hook}, but firewall.nftables.jump_from.chains names no chain of "
                          f"table {self.table} for it")
        if self.offline:
            return name, "top"
        chain = self.layout.chains.get(name)
        if chain is None or chain.hook != hook:
            have = "no such chain" if chain is None else f"its hook is {chain.hook or 'none (a regular chain)'}"
            self.d.refuse(f"firewall.nftables.jump_from: the host's table {self.table} has no base chain {name} of hook "
                          f"{hook} ({have}); netchange jumps from the host's base chain")
        mine = [i for i, r in enumerate(chain.rules) if r.dispatch is not None]
        if not mine:
            return name, "top"
        last = max(mine)
        return name, (self._handle(chain, chain.rules[last + 1]) if last + 1 < len(chain.rules) else None)

    def _handle(self, chain: ChainLayout, rule: RuleRef) -> int:
        if rule.handle is None:
            self.d.refuse(f"chain {chain.name}: the ruleset read from the host has no rule handles "
                          "(read it with `nft -j list ruleset`)")
        return rule.handle

    def jumps(self, name: str, attachments) -> list[str]:
        wanted: list[tuple[Hook, Jump]] = []
        for att in attachments:
            for hook, j in _jumps_for(att, name):
                if (hook, j) not in wanted:
                    wanted.append((hook, j))
        for hook, _ in wanted:
            if hook not in self.hooks:
                self.hooks.append(hook)
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
                    out += self.d.emit("delete_rule", self.table, chain.name, self._handle(chain, r))
        for hook, j in wanted:
            if (hook, j) not in have:
                base, before = self.chain_for(hook)
                out += self.d.emit("add_jump", self.table, base, j, before)
        return out

    def base_chains(self) -> list[str]:
        return [line for name, hook in self.created
                for line in self.d.emit("base_chain", self.table, name, hook, self.place.priority)]

    def placement_notes(self) -> list[str]:
        """Where netchange's chains sit against the host's own base chains on the hooks this plan attaches to."""
        out = []
        jf = self.place.jump_from
        for hook in self.hooks:
            if jf is not None:
                chain = self.layout.chains.get(jf.chains.get(hook, ""))
                what = (f" (priority {chain.priority}, policy {chain.policy or 'accept'})" if chain is not None else "")
                out.append(f"placement: hook {hook}: netchange's chains sit in the host's table {self.table}, its base chain "
                           f"{jf.chains.get(hook)}{what} jumps to them before its own rules, so a netchange filter's "
                           "verdict is final for every packet it sees")
                continue
            out.append(f"placement: hook {hook}: netchange's base chain in table inet netchange at priority "
                       f"{self.place.priority}: a drop there is final, an accept passes the packet on to the host's "
                       "own base chains of this hook")
            for tname, t in sorted(self.whole.others.items()):
                for c in t.base_chains(hook):
                    if c.type not in (None, "filter"):
                        continue
                    order = ("before" if isinstance(c.priority, int) and c.priority < self.place.priority else
                             "after" if isinstance(c.priority, int) and c.priority > self.place.priority else "with")
                    warn = (": traffic netchange accepts is still dropped there unless that chain accepts it (set "
                            "firewall.nftables.jump_from to make netchange's verdict final)") if c.policy == "drop" else ""
                    out.append(f"placement: the host's chain {tname} {c.name} (priority {c.priority}, policy "
                               f"{c.policy or 'accept'}) runs {order} netchange's on hook {hook}{warn}")
        return out


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


def _jumps_for(att: Attachment, chain: str) -> list[tuple[Hook, Jump]]:
    if att.hook:
        return [(att.hook, Jump(chain))]
    if att.direction == "in":
        return [("input", Jump(chain, iif=att.interface)), ("forward", Jump(chain, iif=att.interface))]
    return [("forward", Jump(chain, oif=att.interface)), ("output", Jump(chain, oif=att.interface))]


DRIVER = NftablesDriver()
