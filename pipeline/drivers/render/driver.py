"""The driver base: `TemplateDriver` computes ops and full renders, its platform's templates print them."""

from __future__ import annotations

import dataclasses
import re
from functools import cached_property
from typing import Any, ClassVar, NoReturn, cast


from ...addresses import parse_address
from ...inventory import Host
from ...model.base import AFI
from ...model.policy import KIND_ORDER, ConcreteFilter, DevicePolicy, Kind
from ...model.resolve import Desired
from ...model.routing import NeighborBinding, RouteMapEntry
from ...model import ops as O
from ...model.staging import NoRoom, Step, staged_edit
from ...parsers import canonical as canonical_lists
from . import UnsupportedConstruct
from ..base import Driver
from .aces import AclLine, ace_canonical, acl_lines, families
from .capabilities import term_problems
from .context import Context
from .entries import _holds_at_seq, clause_diff, clause_key, with_entry
from .environment import environment, single_lines
from .guards import guard, guard_identifier
from .list_edits import EntryOp, _ace_match, _acl_positions, _before_after, _entry_op, _list_edits, _remark_of, _same_match


def _desired_policy(desired: list[Desired], known: DevicePolicy | None) -> DevicePolicy:
    pol = known.copy() if known else DevicePolicy()
    for d in desired:
        if d.obj is not None:
            pol.put(d.kind, d.key, d.obj)
    return pol


class TemplateDriver(Driver):
    """A driver whose text comes from templates/<platform>/macros.j2; platform modules declare data and checks."""

    # Line-per-match ACL platforms: how they keep counters (see ace_canonical); None: filters are not ACLs.
    acl_counters: ClassVar[str | None] = None
    # Which object kinds the platform can carry at all (FRR: no traffic filters; nftables: no BGP).
    kinds: ClassVar[frozenset[str]] = frozenset(KIND_ORDER)
    # Line-mode platforms that reject a duplicate prefix-list seq need remove-then-add for a changed entry.
    prefix_list_seq_overwrite: ClassVar[bool] = False
    # A second `match ... prefix-list|community|as-path` adds its name to the clause (IOS) instead of replacing it.
    match_names_accumulate: ClassVar[bool] = False
    # Community/AS-path entries addressable by seq; otherwise an entry edit rewrites the whole list.
    community_list_seq: ClassVar[bool] = True
    as_path_list_seq: ClassVar[bool] = True
    # How ReplaceFilter is printed: "sequence" edits, a "versioned" name swap, "rewrite" (atomic commit).
    filter_replace: ClassVar[str] = "rewrite"
    # The unbind command needs the bound route-map's name.
    unbind_needs_name: ClassVar[bool] = True
    # Protocol keywords per family where the CLI has one; numbers otherwise.
    protocol_names: ClassVar[dict[str, dict[str, str]]] = {"ipv4": {}, "ipv6": {}}
    # Characters free text (descriptions, remarks) cannot carry on this CLI, each with the reason: the
    # `device_text` filter refuses them. Everything else prints literally as the rest of the line.
    text_refused: ClassVar[dict[str, str]] = {}
    # Term matches this platform cannot express, keyed as `term_features` names them, each with the reason
    # a refusal gives (the same table `netchange validate` reports from, rule NC180). See docs/FIREWALL.md.
    term_refusals: ClassVar[dict[str, str]] = {}
    # Whether `"` delimits strings on this CLI (Junos, nft): then every printed line's quotes must balance.
    # Cisco-style CLIs take a description as the rest of the line, quotes included (FRR 8.4: measured).
    quoted_strings: ClassVar[bool] = True

    # -- template access
    @cached_property
    def macros(self) -> Any:
        return environment().get_template(f"{self.platform.value}/macros.j2").make_module(self.template_vars())

    def template_vars(self) -> dict[str, Any]:
        """Platform data the macros print from (protocol names, keywords): declared by the platform module."""
        return {"protocol_names": self.protocol_names, "platform": self.platform.value,
                "text_refused": self.text_refused}

    def emit(self, macro: str, *args: Any) -> list[str]:
        fn = getattr(self.macros, macro, None)
        if fn is None:
            raise UnsupportedConstruct(f"{self.platform.value}: no template for {macro}")
        return single_lines(str(fn(*args)), self.quoted_strings)

    def note(self, text: str) -> list[str]:
        """A comment line in the platform's syntax (only identifiers and fixed words reach it)."""
        return self.emit("note", text)

    # -- capability checks, per platform (raise UnsupportedConstruct)
    def check(self, kind: str, obj: Any, ctx: Context) -> None:
        guard(kind, obj)
        if kind not in self.kinds:
            raise UnsupportedConstruct(self.unsupported_kind_message(kind, getattr(obj, "name", obj)))
        why = self.capability_refusal(kind, obj) if obj is not None and not isinstance(obj, str) else None
        if why:
            self.refuse(why)
        if kind == "filter":
            problems = self.filter_problems(obj)
            if problems:
                raise UnsupportedConstruct("\n".join(problems))

    def check_once(self, kind: str, obj: Any, ctx: Context) -> None:
        """`check`, once per object per render: n entry ops on one list would otherwise re-check it n times."""
        if ctx.checked.get(id(obj)) is not obj:
            self.check(kind, obj, ctx)
            ctx.checked[id(obj)] = obj

    def check_interface_filter(self, f: ConcreteFilter) -> None:
        """Interface ACL platforms: attachments need interface + direction."""
        for att in f.attachments:
            if att.interface is None:
                self.refuse(f"filter {f.name}: attachment to nftables hook {att.hook} has no meaning here (needs an interface)")

    def filter_problems(self, f: ConcreteFilter) -> list[str]:
        """Every term of `f` this platform cannot express (its `term_refusals`), each with the reason."""
        return term_problems(self.platform.value, self.term_refusals, f)

    def unsupported_kind_message(self, kind: str, name: object) -> str:
        return f"{self.platform.value} cannot carry a {kind.replace('_', '-')} ({name})"

    def refuse(self, what: str) -> NoReturn:
        raise UnsupportedConstruct(f"{self.platform.value}: {what}")

    # -- public API
    def context(self, host: Host, known: DevicePolicy | None = None) -> Context:
        return Context(host=host, known=known or DevicePolicy(), platform=self.platform.value, numbering=self.numbered_acl)

    def render(self, desired: list[Desired], host: Host, known: DevicePolicy | None = None) -> str:
        """Absent objects are removed first (bindings before what they use), then present ones are defined."""
        policy = _desired_policy(desired, known)
        ops: list[O.Op] = []
        order = {k: i for i, k in enumerate(KIND_ORDER)}
        for d in sorted((d for d in desired if d.obj is None), key=lambda d: -order[d.kind]):
            ops.append(O.Unbind(d.kind, _key_name(d.key), _absent_binding(d.key)) if d.kind == "binding"
                       else O.Delete(d.kind, str(d.key), None))
        for d in sorted((d for d in desired if d.obj is not None), key=lambda d: order[d.kind]):
            ops.append(O.Bind(d.kind, _key_name(d.key), d.obj) if d.kind == "binding" else O.Create(d.kind, str(d.key), d.obj))
        lines = self.render_ops(ops, policy, host)
        return "\n".join(lines) + "\n" if lines else ""

    def render_ops(self, ops: list[O.Op], intended: DevicePolicy, host: Host) -> list[str]:
        """Ops in their order, except that the entry ops of one list print together where its first one
        stands (`list_edit`: staged where every line is live, one rewrite where entries have no seq)."""
        ctx = self.context(host, intended)
        lists = _list_edits(ops)
        lines: list[str] = []
        i = 0
        while i < len(ops):
            op = ops[i]
            if isinstance(op, (O.Bind, O.Unbind)):
                group = []
                while i < len(ops) and isinstance(ops[i], (O.Bind, O.Unbind)):
                    group.append(ops[i])
                    i += 1
                lines += self.binding_lines(group, ctx)
                continue
            if isinstance(op, O.Repoint):
                lines += self.repoint(op, ctx)
                i += 1
                continue
            key = (op.kind, op.name)
            if _entry_op(op) and key in lists:
                edits = lists[key]
                if op is edits[0]:  # the list's other entry ops print with it
                    lines += self.list_edit(op.kind, edits, ctx)
            else:
                lines += self.op_lines(op, ctx)
            i += 1
        return lines

    # -- lists, line by line
    @property
    def live_lines(self) -> bool:
        """Every line is live as it is typed (no configure session, no candidate, no atomic file)."""
        return not self.commit_mode.atomic

    def list_edit(self, kind: Kind, ops: list[EntryOp], ctx: Context) -> list[str]:
        """All entry ops of one list. Where lines apply one by one they are staged (model.staging.staged_edit):
        no input ever gets a result neither version of the list gives; where a commit applies them at once,
        one op after the other. Lists without addressable entries are rewritten once, old to new."""
        old, new = _before_after(ops)
        if not self.entry_addressable(kind):
            return self.rewrite_list(kind, old, new, ctx)
        if not self.live_lines:
            return self.entry_ops_in_order(kind, ops, old, new, ctx)
        self.check_once(kind, new, ctx)
        try:
            steps = staged_edit({e.seq: e for e in old.entries}, {e.seq: e for e in new.entries},
                                lambda o, n: self.prefix_list_seq_overwrite, _same_match)
        except NoRoom as e:
            self.refuse(f"{kind.replace('_', '-')} {new.name}: the entry at seq {e.seq} changes, and without a free "
                        "sequence number beside it the edit cannot be made without a moment where the list matches "
                        "what neither version matches; leave gaps between sequence numbers, or use strategy: versioned")
        # One template call prints every step (a copy's seq passed beside its entry): ~4 µs a line, where an
        # emit per line cost ~20 (benchmarks/plan_list_edit.py: IOS stages 20,000 changed entries in 80,000).
        return self.emit(f"{kind}_steps", old, new, steps, ctx)

    def entry_ops_in_order(self, kind: Kind, ops: list[EntryOp], old: Any, new: Any, ctx: Context) -> list[str]:
        """Where a commit applies the lines at once: each op as `op_lines` prints it, one after the other, through
        the platform's `<kind>_steps` macro in one call where it has one (NX-OS, EOS prefix-lists)."""
        if getattr(self.macros, f"{kind}_steps", None) is None:
            return [line for op in ops for line in self.op_lines(op, ctx)]
        steps: list[Step] = []
        for op in ops:
            if isinstance(op, O.AddEntry):
                self.check_once(kind, op.obj, ctx)
                steps.append(Step("add", op.entry.seq, op.entry))
            elif isinstance(op, O.RemoveEntry):
                steps.append(Step("remove", op.entry.seq, op.entry))
            else:  # as op_lines and modify_entry print a ModifyEntry
                after = op.obj if _holds_at_seq(op.obj, op.old, op.new, ctx) else with_entry(op.obj, op.old, op.new)
                self.check_once(kind, after, ctx)
                steps += self.modify_steps(kind, op.old, op.new)
        return self.emit(f"{kind}_steps", old, new, steps, ctx)

    def rewrite_list(self, kind: Kind, old: Any, new: Any, ctx: Context) -> list[str]:
        """A list whose entries the device keeps without sequence numbers, from `old` to `new`. Where a commit
        applies the lines at once: delete and define. Line by line, such lists only take entries at their end:
        new entries are appended; anything else would leave the list missing while route-maps match it (on
        IOS a route-map matching a missing list matches every route), so it is refused while in use."""
        self.check_once(kind, new, ctx)
        if not self.live_lines:
            return self.rewrite(kind, old, new, ctx)
        if list(new.entries[:len(old.entries)]) == list(old.entries):
            return [line for e in new.entries[len(old.entries):] for line in self.emit(f"{kind}_entry", new, e, ctx)]
        users = ctx.known.route_maps_using(kind, new.name)
        if users:
            self.refuse(f"{kind.replace('_', '-')} {new.name}: its entries have no sequence numbers, so a line-by-line CLI "
                        "only appends to it; removing or reordering entries means rewriting the list, which route-map "
                        f"{', '.join(users)} would meanwhile see missing; use strategy: versioned")
        return self.rewrite(kind, old, new, ctx)

    # -- one op
    def op_lines(self, op: O.Op, ctx: Context) -> list[str]:
        kind = op.kind
        if isinstance(op, O.Delete) and op.obj is None and kind not in self.kinds:
            return self.note(f"{kind.replace('_', '-')} {op.name} absent: {self.platform.value} carries none, nothing to remove")
        if isinstance(op, O.ReplaceFilter):
            return self.replace_filter(op.old, op.new, ctx)
        if isinstance(op, O.Rewrite):
            return self.rewrite_list(kind, op.old, op.new, ctx)
        if kind == "filter":
            return self.filter_op(op, ctx)
        if isinstance(op, O.Create):
            self.check_once(kind, op.obj, ctx)
            return self.emit(kind, op.obj, ctx)
        if isinstance(op, O.Delete):
            if op.obj is None:
                return self.delete_by_name(kind, op.name, ctx)
            return self.emit(f"no_{kind}", op.obj, ctx)
        if isinstance(op, O.AddEntry):
            self.check_once(kind, op.obj, ctx)
            return self.add_entry(kind, op.obj, op.entry, ctx)
        if isinstance(op, O.RemoveEntry):
            return self.remove_entry(kind, op.obj, op.entry, ctx)
        if isinstance(op, O.ModifyEntry):
            after = op.obj if _holds_at_seq(op.obj, op.old, op.new, ctx) else with_entry(op.obj, op.old, op.new)
            self.check_once(kind, after, ctx)
            return self.modify_entry(kind, after, op.old, op.new, ctx)
        raise UnsupportedConstruct(f"{self.platform.value}: cannot print {op.verb} {kind} {op.name}")

    def entry_addressable(self, kind: str) -> bool:
        return {"community_list": self.community_list_seq, "as_path_list": self.as_path_list_seq}.get(kind, True)

    def rewrite(self, kind: str, before: Any, after: Any, ctx: Context) -> list[str]:
        """Whole-list replacement for lists whose entries have no addressable seq."""
        return self.emit(f"no_{kind}", before, ctx) + (self.emit(kind, after, ctx) if after.entries else [])

    def add_entry(self, kind: str, obj: Any, entry: Any, ctx: Context) -> list[str]:
        if not self.entry_addressable(kind):
            return self.rewrite(kind, with_entry(obj, entry, None), obj, ctx)
        return self.emit(f"{kind}_entry", obj, entry, ctx)

    def remove_entry(self, kind: str, obj: Any, entry: Any, ctx: Context) -> list[str]:
        if not self.entry_addressable(kind):
            return self.rewrite(kind, obj, with_entry(obj, entry, None), ctx)
        return self.emit(f"no_{kind}_entry", obj, entry, ctx)

    def modify_entry(self, kind: str, obj: Any, old: Any, new: Any, ctx: Context) -> list[str]:
        if kind == "route_map" and self.live_lines:
            return self.route_map_entry_in_place(obj, old, new, ctx)
        if kind == "route_map":
            if old.action != new.action:  # inside a session or candidate: recreate the entry
                return self.emit("no_route_map_entry", obj, old, ctx) + self.emit("route_map_entry", obj, new, ctx)
            gone, come = clause_diff(old, new)
            return self.emit("route_map_entry_edit", obj, gone, come, ctx)
        if not self.entry_addressable(kind):
            return self.rewrite(kind, with_entry(obj, new, old), obj, ctx)
        return [line for st in self.modify_steps(kind, old, new)
                for line in self.emit(f"{kind}_entry" if st.verb == "add" else f"no_{kind}_entry", obj, st.entry, ctx)]

    def modify_steps(self, kind: str, old: Any, new: Any) -> list[Step]:
        """One changed entry of a list addressed by seq: written over where the platform overwrites a prefix-list
        entry at its seq, else removed and written again."""
        if kind == "prefix_list" and self.prefix_list_seq_overwrite:
            return [Step("add", new.seq, new)]
        return [Step("remove", old.seq, old), Step("add", new.seq, new)]

    def clause_lines(self, e: RouteMapEntry, ctx: Context) -> list[str]:
        """An entry's clauses as the platform prints them, one line each."""
        return [ln.strip() for ln in str(self.macros.entry_clauses(e, ctx)).split("\n") if ln.strip()]

    def clause_edits(self, old: RouteMapEntry, new: RouteMapEntry, ctx: Context) -> tuple[list[tuple[str, str]], int]:
        """The lines that make entry `old` into `new` in place, (verb, clause) with verb "add" | "no", and how
        many of them change what a route gets (a description changes nothing; on IOS a match that swaps one
        name for another takes two lines but one step: routes match the old name or the new one throughout)."""
        before = {clause_key(ln): ln for ln in self.clause_lines(old, ctx)}
        after = self.clause_lines(new, ctx)
        edits: list[tuple[str, str]] = []
        gone: list[tuple[str, str]] = []
        steps = int(old.action != new.action)
        for ln in after:
            k = clause_key(ln)
            was = before.get(k)
            if was == ln:
                continue
            edits.append(("add", ln))
            steps += k != "description"
            if was is not None and k.startswith("match ") and self.match_names_accumulate:
                gone.append(("no", was))
        keys = {clause_key(ln) for ln in after}
        for k, ln in before.items():
            if k not in keys:
                gone.append(("no", ln))
                steps += k != "description"
        return edits + gone, steps

    def route_map_entry_in_place(self, rm: Any, old: RouteMapEntry, new: RouteMapEntry, ctx: Context) -> list[str]:
        """Where each line is live: enter the entry with its new action (an existing entry keeps its clauses),
        write each changed or new clause (a `set`, a description, a continue, and on CLIs whose match takes one
        name a `match`, replace their old value where they stand), then take away what went (on IOS, where a
        second `match ... prefix-list` adds a name, the old name after the new one is in)."""
        edits, _ = self.clause_edits(old, new, ctx)
        return self.emit("route_map_entry_lines", rm, new.seq, new.action, edits, ctx)

    def route_map_edit_in_place(self, old: Any, new: Any, ctx: Context) -> bool:
        """Whether route-map `old` becomes `new` line by line with every intermediate route-map giving each
        route its old or its new result: one step (an entry removed, an entry without clauses added, one
        clause of one entry written or taken away, an action flipped), or several entries each changing one
        `set` clause only, where no entry continues to another (each route then meets one changed entry).
        A new entry with clauses never is: its header line makes it match every route before its `match`
        arrives. Otherwise plan/shadow.py edits the route-map while nothing uses it."""
        olds, news = {e.seq: e for e in old.entries}, {e.seq: e for e in new.entries}
        changed = sorted(s for s in olds.keys() | news.keys() if olds.get(s) != news.get(s))
        steps, set_only = [], True
        for s in changed:
            o, n = olds.get(s), news.get(s)
            if o is None:
                steps.append(1 if not self.clause_lines(news[s], ctx) else 2)
                set_only = False
            elif n is None:
                steps.append(1)
                set_only = False
            else:
                steps.append(self.clause_edits(o, n, ctx)[1])
                set_only = set_only and o.action == n.action and o.match == n.match and o.continue_ == n.continue_
        if len(changed) <= 1:
            return sum(steps) <= 1
        no_continue = all(e.continue_ is None for e in (*old.entries, *new.entries))
        return set_only and no_continue and all(n <= 1 for n in steps)

    def delete_by_name(self, kind: str, name: str, ctx: Context) -> list[str]:
        """Removal when only the name is known (render of an absent object): macro no_<kind>_named."""
        guard_identifier(name, f"{kind} name")
        return self.emit(f"no_{kind}_named", name, ctx)

    # -- lines that name objects
    def repoint(self, op: O.Repoint, ctx: Context) -> list[str]:
        """The device's own line (and the lines that open its mode), re-issued naming `op.to`."""
        if not op.use.repointable:
            self.refuse(f"{op.use.who} names {op.use.kind.replace('_', '-')} {op.use.name} in a way netchange "
                        "cannot re-point (a policy expression)")
        guard_identifier(op.to, f"{op.use.kind} name")
        return self.emit("repoint", op.use, op.to, ctx)

    # -- bindings
    def binding_lines(self, group: list[O.Op], ctx: Context) -> list[str]:
        changes = []
        for op in group:
            assert isinstance(op, (O.Bind, O.Unbind))  # render_ops groups only these
            self.check("binding", op.binding, ctx)
            if not op.binding.is_group:  # a group's members are the device's own (DevicePolicy.peer_groups)
                ctx.neighbor(op.binding)
            if isinstance(op, O.Bind):
                changes.append(("bind", op.binding, op.old))
            elif op.binding.route_map is None and self.unbind_needs_name:
                changes.append(("unknown", op.binding, None))
            else:
                changes.append(("unbind", op.binding, None))
        return self.emit("bgp_bindings", ctx.asn, changes, ctx)

    # -- filters
    def filter_op(self, op: O.Op, ctx: Context) -> list[str]:
        if isinstance(op, O.Create):
            self.check("filter", op.obj, ctx)
            return self.define_filter(op.obj, ctx) + self.attach_all(op.obj, op.obj.name, ctx)
        if isinstance(op, O.Delete):
            if op.obj is None:
                return self.delete_by_name("filter", op.name, ctx)
            return self.detach_all(op.obj, op.obj.name, ctx) + self.undefine_filter(op.obj, op.obj.name, ctx)
        raise UnsupportedConstruct(f"{self.platform.value}: filters change through ReplaceFilter, not {op.verb}")

    def define_filter(self, f: ConcreteFilter, ctx: Context, name: str | None = None) -> list[str]:
        out = []
        for fam in families(f):
            out += self.emit("acl", f, fam, name or f.name, ctx)
        return out

    def undefine_filter(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for fam in families(f) or ["ipv4"] for line in self.emit("no_acl", f, fam, name, ctx)]

    def attach_all(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for att in f.attachments for fam in families(f) for line in self.emit("attach_filter", name, att, fam, ctx)]

    def detach_all(self, f: ConcreteFilter, name: str, ctx: Context) -> list[str]:
        return [line for att in f.attachments for fam in families(f) for line in self.emit("detach_filter", name, att, fam, ctx)]

    def replace_filter(self, old: ConcreteFilter | None, new: ConcreteFilter, ctx: Context) -> list[str]:
        self.check("filter", new, ctx)
        if old is None:
            return self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)
        if self.filter_replace == "sequence":
            return self.sequence_edit(old, new, ctx)
        if self.filter_replace == "versioned":
            return self.versioned_swap(old, new, ctx)
        return self.undefine_filter(old, old.name, ctx) + self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)

    def sequence_edit(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Per family: `no SEQ` for lines that changed or went, then the new lines, inside the ACL (inside a
        configure session: the commit applies them at once). Where every line is live: `staged_acl_edit`."""
        if self.live_lines:
            return self.staged_acl_edit(old, new, ctx)
        out: list[str] = []
        for fam in ("ipv4", "ipv6"):
            # keyed by (seq, is-remark): on AOS-CX a comment shares its ACE's seq number
            before = {(ln.seq, ln.remark is None): ln for ln in self.numbered_acl(old, fam)}
            after = {(ln.seq, ln.remark is None): ln for ln in self.numbered_acl(new, fam)}
            if not after:
                if before:
                    out += self.emit("no_acl", old, fam, old.name, ctx)
                continue

            def same(a: AclLine, b: AclLine) -> bool:
                return self.emit("acl_line", a, fam, ctx) == self.emit("acl_line", b, fam, ctx)  # noqa: B023 (used in this iteration only)

            gone = [before[k] for k in sorted(before) if k not in after or not same(before[k], after[k])]
            gone_seqs = sorted({g.seq for g in gone})  # `no SEQ` removes everything under that seq
            come = [after[k] for k in sorted(after) if k not in before or k[0] in gone_seqs]
            if gone or come:
                out += self.emit("acl_edit", new, fam, gone_seqs, come, ctx)
        old_atts = {(a.interface, a.direction, a.hook) for a in old.attachments}
        out += [line for att in new.attachments if (att.interface, att.direction, att.hook) not in old_atts
                for fam in families(new) for line in self.emit("attach_filter", new.name, att, fam, ctx)]
        return out

    def numbered_acl(self, f: ConcreteFilter, family: AFI) -> list[AclLine]:
        return acl_lines(f, family)

    def staged_acl_edit(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Sequence edits of an attached ACL where each line is live at once (AOS-CX): the sequence numbers
        are positions of a first-match list, staged like a list edit (model.staging.staged_edit): new lines and
        copies of changed ones (at a free number beside them) go in first, ascending; old lines go after,
        descending. No packet is ever judged by a list neither version of the filter would be."""
        out: list[str] = []
        for fam in ("ipv4", "ipv6"):
            before = _acl_positions(self.numbered_acl(old, fam))
            after = _acl_positions(self.numbered_acl(new, fam))
            if not after:
                if before:
                    out += self.emit("no_acl", old, fam, old.name, ctx)
                continue

            def text(pos: tuple[AclLine, ...], fam: str = fam) -> tuple[str, ...]:
                return tuple(line for ln in pos for line in self.emit("acl_line", ln, fam, ctx))

            b_text = {s: text(p) for s, p in before.items()}
            a_text = {s: text(p) for s, p in after.items()}
            try:
                steps = staged_edit({s: (b_text[s], p) for s, p in before.items()}, {s: (a_text[s], p) for s, p in after.items()},
                                    in_place=lambda o, n: _remark_of(o[1]) is None or _remark_of(n[1]) is not None,
                                    same_match=lambda o, n: _ace_match(o[1]) == _ace_match(n[1]) is not None,
                                    max_seq=4294967295)
            except NoRoom as e:
                self.refuse(f"filter {new.name}: line {e.seq} changes and no free sequence number is next to it for a "
                            "copy; without one the edit opens a moment where the ACL is neither version; renumber it")
            edits: list[tuple[str, int | AclLine]] = []
            for st in steps:
                if st.verb == "remove":
                    edits.append(("no", st.seq))
                    continue
                lines = st.entry[1] if st.seq in after and after[st.seq] is st.entry[1] else \
                    tuple(dataclasses.replace(ln, seq=st.seq) for ln in st.entry[1] if ln.remark is None)
                edits += [("line", ln) for ln in lines]
            if edits:
                out += self.emit("acl_staged", new, fam, edits, ctx)
        old_atts = {(a.interface, a.direction, a.hook) for a in old.attachments}
        out += [line for att in new.attachments if (att.interface, att.direction, att.hook) not in old_atts
                for fam in families(new) for line in self.emit("attach_filter", new.name, att, fam, ctx)]
        return out

    def versioned_swap(self, old: ConcreteFilter, new: ConcreteFilter, ctx: Context) -> list[str]:
        """Replace a filter through a temporary copy: define NAME-v<N> with the new rules and point every
        attachment at it (one command each), redefine NAME while nothing uses it, point the attachments back
        and drop the copy. At every moment an interface is filtered by the old or the new rules, and the device
        keeps the change's name, so planning again finds nothing (a swap that kept NAME-v<N> never converged)."""
        taken = set(ctx.known.filters) | {old.name, new.name}
        tmp = next_version(old.name, new.name)
        while tmp in taken:
            tmp = next_version(tmp, new.name)
        gone = [line for att in old.attachments if att not in new.attachments for fam in families(old)
                for line in self.emit("detach_filter", old.name, att, fam, ctx)]
        return (self.define_filter(new, ctx, tmp) + self.attach_all(new, tmp, ctx) + gone
                + self.undefine_filter(old, old.name, ctx) + self.define_filter(new, ctx) + self.attach_all(new, new.name, ctx)
                + self.undefine_filter(new, tmp, ctx))

    # -- refresh
    def refresh_commands(self, neighbor: str, afi: str, direction: str) -> list[str]:
        nbr = str(parse_address(neighbor))  # refuses anything that is not a global address (no scope)
        if afi not in ("ipv4", "ipv6") or direction not in ("in", "out"):
            raise ValueError(f"afi must be ipv4|ipv6 and direction in|out, not {afi}/{direction}")
        if self.refresh_mode in ("on_commit", "none") or (direction == "out" and not self.capabilities.soft_out):
            return []
        return self.emit("refresh", nbr, afi, direction)

    # -- parse delegates to pipeline.parsers.<platform>
    def canonical(self, kind: str, obj: Any) -> Any:
        """Filters as the platform's ACLs keep them (ace_canonical); prefix-lists with one spelling of each
        length range; community and AS-path lists without the sequence numbers a platform does not keep."""
        if obj is None:
            return obj
        if kind == "filter":
            return ace_canonical(obj, self.acl_counters) if self.acl_counters is not None else obj
        if kind == "prefix_list":
            return canonical_lists.prefix_list(obj)
        if kind in ("community_list", "as_path_list") and not self.keeps_seq(kind):
            return canonical_lists.unnumbered(obj)
        return obj

    def keeps_seq(self, kind: str) -> bool:
        """Whether the device keeps (and prints) the entries' sequence numbers of this list kind."""
        return {"community_list": self.community_list_seq, "as_path_list": self.as_path_list_seq}.get(kind, True)

    def prepare(self) -> None:
        import importlib

        importlib.import_module(f"pipeline.parsers.{self.platform.value}")
        self.macros  # noqa: B018 - compiles the platform's templates

    def parse(self, text: str, focus: Any = None) -> DevicePolicy:
        """`focus` (pipeline.parsers.focus.Focus) lets IOS-style parsers read only what a plan needs."""
        import importlib

        module = importlib.import_module(f"pipeline.parsers.{self.platform.value}")
        if focus is not None and hasattr(module, "Focus"):
            return module.parse(text, focus=focus)
        return module.parse(text)


def next_version(device_name: str, base: str) -> str:
    """SERVER-EDGE -> SERVER-EDGE-v1 -> SERVER-EDGE-v2 (the base name is the model's)."""
    m = re.fullmatch(re.escape(base) + r"-v(\d+)", device_name)
    return f"{base}-v{int(m.group(1)) + 1 if m else 1}"


def _key_name(key: object) -> str:
    return "/".join(key) if isinstance(key, tuple) else str(key)


def _absent_binding(key: object) -> NeighborBinding:
    nbr, afi, direction = cast("tuple[str, str, str]", key)
    return NeighborBinding(neighbor=nbr, afi=afi, direction=direction, state="absent")
