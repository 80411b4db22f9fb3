"""nftables ruleset (`nft -j list ruleset` JSON, as the driver fetches it) -> DevicePolicy.

* Table `inet netchange` is netchange's own: each regular chain is one ConcreteFilter named like the chain;
  a rule's comment names its Rule (`term=NAME`, or `NAME[: description]` as the nftables driver renders
  it), and the nft rules of one term (one per service) merge back into one Rule. Base chains there only
  dispatch: `jump CHAIN` in the base chain of hook H -> Attachment(hook=H); `iifname|oifname X jump CHAIN`
  -> Attachment(interface=X, direction=in|out) (the driver renders one such attachment as jumps in two
  hooks: input+forward for in, forward+output for out).
* Chains of other `inet`/`ip`/`ip6` tables are read best-effort into filters named `<table>/<chain>` (inet)
  or `<family>/<table>/<chain>` (ip, ip6: tables are per family, so the same table name may exist twice);
  a base chain gets Attachment(hook=...). NAT/route chains, other families, named sets and maps, jumps
  and verdict-less rules are listed in `skipped` with the reason and the rule as nft prints it (with its
  handle); a note about a rule of a chain is owned by that chain's filter (the planner will not rewrite
  it). parse never raises on ruleset content.
* `DevicePolicy.device` is the layout of netchange's table (nft_layout.TableLayout: chains, base-chain
  properties, rule handles, which base-chain rules are modelled jumps): what the driver edits by.

`parse_text_ruleset` reads `nft list ruleset` text by loading it in a throwaway namespace (needs root).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..inventory import Attachment
from ..model.base import AFI, afi_of
from ..model.policy import ConcreteFilter, DevicePolicy, Rule
from .junos_common import bad_name, build
from .nft_layout import ChainLayout, RuleRef, TableLayout
from .nft_load import NftLoadError, ruleset_json
from .nft_rules import NftRule, read_rule, specs_for
from .nft_text import rule_text
from .notes import Notes

MANAGED_FAMILY, MANAGED_TABLE = "inet", "netchange"
_FILTER_FAMILIES: dict[str, tuple[AFI, ...]] = {"inet": ("ipv4", "ipv6"), "ip": ("ipv4",), "ip6": ("ipv6",)}
_HOOKS = ("input", "forward", "output")
_TERM_PREFIX = "term="


@dataclass
class _Chain:
    family: str
    table: str
    name: str
    hook: str | None = None
    type: str | None = None
    policy: str | None = None
    priority: object = None
    rules: list[dict] = field(default_factory=list)

    @property
    def managed(self) -> bool:
        """In netchange's own table."""
        return (self.family, self.table) == (MANAGED_FAMILY, MANAGED_TABLE)

    @property
    def ours(self) -> bool:
        """A netchange filter's chain: any regular chain of netchange's table, or one in a host's inet table
        that ends in netchange's closing drop (placed there by `firewall.nftables.jump_from`)."""
        if self.hook:
            return False
        if self.managed:
            return True
        return self.family == "inet" and bool(self.rules) and self.rules[-1].get("comment") == IMPLICIT_DENY_COMMENT

    @property
    def table_key(self) -> str:
        return f"{self.family} {self.table}"

    @property
    def where(self) -> str:
        return f"nft {self.family} {self.table} chain {self.name}"


def _load(text: str | dict) -> list[dict]:
    doc = json.loads(text) if isinstance(text, str) else text
    items = doc.get("nftables", []) if isinstance(doc, dict) else []
    if not isinstance(items, list):
        raise ValueError(f"`nftables` is {type(items).__name__}, not a list")
    return [i for i in items if isinstance(i, dict)]


def parse(text: str | dict[str, Any]) -> DevicePolicy:
    """`nft -j list ruleset` output (text, or already decoded) -> DevicePolicy."""
    notes = Notes()
    try:
        items = _load(text)
    except json.JSONDecodeError as e:
        return DevicePolicy(skipped=[f"nft: not JSON ({e}); expected `nft -j list ruleset` output"])
    except ValueError as e:  # (JSONDecodeError, a subclass, is answered above)
        return DevicePolicy(skipped=[f"nft: {e}; expected `nft -j list ruleset` output"])
    except RecursionError:  # json's C decoder recurses per nesting level
        return DevicePolicy(skipped=["nft: JSON nested too deeply to read; expected `nft -j list ruleset` output"])
    chains: dict[tuple[str, str, str], _Chain] = {}
    managed_table = False
    for item in items:
        kind, body = next(iter(item.items()), (None, None))
        if not isinstance(body, dict):
            continue
        fam, table = body.get("family", ""), body.get("table", body.get("name", ""))
        if not (isinstance(fam, str) and isinstance(table, str) and isinstance(body.get("chain", ""), str)):
            notes.append(f"nft {kind}: family, table or chain that is not text, not modelled")
            continue
        if kind == "table" and (fam, table) == (MANAGED_FAMILY, MANAGED_TABLE):
            managed_table = True
        if kind == "table" and fam not in _FILTER_FAMILIES:
            notes.append(f"nft {fam} table {table}: family {fam} not modelled")
        elif kind in ("set", "map") and fam in _FILTER_FAMILIES:
            notes.append(f"nft {fam} {table} {kind} {body.get('name')}: named {kind}s not modelled "
                         "(rules using it are not modelled either)")
        elif kind == "chain" and fam in _FILTER_FAMILIES and isinstance(body.get("name"), str):
            chains[(fam, table, body["name"])] = _Chain(fam, table, body["name"], body.get("hook"), body.get("type"),
                                                         body.get("policy"), body.get("prio"))
        elif kind == "rule" and (fam, table, body.get("chain")) in chains:
            chains[(fam, table, body["chain"])].rules.append(body)
    return _Mapper(notes, TableLayout(exists=managed_table)).run(list(chains.values()))


def parse_text_ruleset(text: str, include_dirs: tuple[str | Path, ...] = ()) -> DevicePolicy:
    """`nft list ruleset` / `nft -f` text -> DevicePolicy (loads it in a throwaway netns: needs root)."""
    data, notes = ruleset_json(text, include_dirs)
    policy = parse(data)
    policy.skipped[:0] = notes
    return policy


class _Mapper:
    def __init__(self, notes: Notes, layout: TableLayout):
        self.notes = notes
        self.layout = layout
        self.filters: dict[str, ConcreteFilter] = {}
        self.attachments: dict[str, list[Attachment]] = {}

    def run(self, chains: list[_Chain]) -> DevicePolicy:
        rules: dict[str, list[Rule]] = {}
        self.ours = {(ch.table_key, ch.name) for ch in chains if ch.ours}
        named: set[str] = set()
        for ch in chains:
            self._table(ch).chains[ch.name] = ChainLayout(ch.name, ch.hook, ch.type, ch.priority, ch.policy, ours=ch.ours)
            if ch.type and ch.type != "filter":
                self.notes.append(f"{ch.where}: {ch.type} chain (hook {ch.hook}) not modelled")
                self._layout_rules(ch)
                continue
            if ch.managed and ch.hook:
                self._dispatch(ch)
                continue
            name = ch.name if ch.ours else _unmanaged_name(ch)
            if ch.ours and name in named:
                self.notes.append(f"{ch.where}: a second netchange chain named {name} (the first one is the filter)")
                self._layout_rules(ch)
                continue
            named.add(name)
            if ch.ours and (reason := bad_name(name)):
                self.notes.append(f"{ch.where}: name not usable ({reason})")
                self._layout_rules(ch)
                continue
            with self.notes.inside("filter", name):
                rules[name] = self._rules(ch)
            if ch.hook:
                self._own_hook(ch, name)
        for name, rs in rules.items():
            atts = tuple(sorted(self.attachments.pop(name, ()), key=attachment_order))
            with self.notes.inside("filter", name):
                f = build(self.notes, f"nft filter {name}", lambda: ConcreteFilter(name=name, rules=tuple(rs),
                                                                                    attachments=atts))
            if f:
                self.filters[name] = f
        for name in self.attachments:
            self.notes.append(f"nft inet netchange: base chains jump to {name}, which is not a modelled filter")
        return DevicePolicy(filters=self.filters, skipped=list(self.notes), device=self.layout)

    def _table(self, ch: _Chain) -> TableLayout:
        if ch.managed:
            return self.layout
        return self.layout.others.setdefault(ch.table_key, TableLayout(exists=True))

    def _layout_rules(self, ch: _Chain, dispatch: dict[int, tuple[str | None, str | None]] | None = None) -> None:
        """Record a chain rule by rule (`dispatch`: position -> the modelled jump's interfaces)."""
        layout = self._table(ch).chains[ch.name]
        if layout.rules:
            return
        for pos, raw in enumerate(ch.rules, 1):
            r = read_rule(raw.get("expr", []))
            handle = raw.get("handle")
            layout.rules.append(RuleRef(handle if isinstance(handle, int) else None, rule_text(raw),
                                        r.jump[1] if r.jump else None, (dispatch or {}).get(pos)))

    def _own_hook(self, ch: _Chain, name: str) -> None:
        if ch.policy:
            self.notes.append(f"{ch.where}: base chain policy {ch.policy} (verdict for unmatched packets) not modelled")
        if ch.hook in _HOOKS:
            self.attachments.setdefault(name, []).append(Attachment(hook=ch.hook))
        else:
            self.notes.append(f"{ch.where}: hook {ch.hook} has no attachment kind in the model")

    def _dispatch(self, ch: _Chain) -> None:
        """A base chain of netchange's table: its `[iifname|oifname X] jump FILTER` rules are attachments;
        any other rule is left as it is (the driver edits base chains one jump rule at a time, by handle)."""
        self._layout_rules(ch, self._dispatch_rules(ch, host=False))

    def _dispatch_rules(self, ch: _Chain, host: bool) -> dict[int, tuple[str | None, str | None]]:
        """Position -> interfaces of the base chain's rules that jump to a netchange filter (as attachments).
        `host`: a base chain of the host's own table, whose other rules are the host's (no note about them)."""
        modelled: dict[int, tuple[str | None, str | None]] = {}
        for pos, rule in enumerate(ch.rules, 1):
            where = f"{ch.where} rule {pos} (handle {rule.get('handle')}) '{rule_text(rule)}'"
            r = read_rule(rule.get("expr", []))
            if host and not (r.jump and (ch.table_key, r.jump[1]) in self.ours):
                continue
            others = [u for u in r.unmodelled if not u.startswith("meta iifname") and not u.startswith("meta oifname")]
            if r.jump is None or r.jump[0] != "jump" or r.blockers or others or r.sources or r.destinations \
                    or r.protocols or r.ports or r.families or r.counter or r.log or len(r.interfaces) > 1 \
                    or r.states or r.tcp_flags or r.fragment or r.dscp or r.hop_limit or r.limit \
                    or r.source_excludes or r.destination_excludes:
                self.notes.append(f"{where}: base chain rule other than a (interface) jump not modelled, left as it is")
                continue
            if ch.hook not in _HOOKS:
                self.notes.append(f"{ch.where}: hook {ch.hook} has no attachment kind in the model")
                continue
            iface = r.interfaces.get("iifname") or r.interfaces.get("oifname")
            direction = ("in" if "iifname" in r.interfaces else "out") if iface else None
            att = build(self.notes, where,
                        lambda: Attachment(interface=iface, direction=direction) if iface else Attachment(hook=ch.hook))
            if att is None:
                continue
            modelled[pos] = (r.interfaces.get("iifname"), r.interfaces.get("oifname"))
            if att not in self.attachments.setdefault(r.jump[1], []):
                self.attachments[r.jump[1]].append(att)
        return modelled

    def _rules(self, ch: _Chain) -> list[Rule]:
        """The chain's rules as one filter; what the model cannot hold is noted with the rule (owned by the
        filter: a plan will not rewrite this chain). A chain of netchange's table ends in the closing drop
        the driver writes; a chain without it lets unmatched packets return to its caller."""
        out: list[Rule] = []
        closing = None
        dispatch = self._dispatch_rules(ch, host=True) if ch.hook else {}
        self._layout_rules(ch, dispatch)
        logged: tuple[int, str, list[Rule]] | None = None  # a `limit rate R log` rule waiting for its verdict rule
        for pos, raw in enumerate(ch.rules, 1):
            line = rule_text(raw)
            where = f"{ch.where} rule {pos} (handle {raw.get('handle')})"
            if pos in dispatch:
                continue  # the host's chain jumping to a netchange filter: that filter's attachment
            if closing is not None:
                self.notes.note(f"{where}: after netchange's closing drop (rule {closing}), never reached", line)
                continue
            if ch.ours and raw.get("comment") == IMPLICIT_DENY_COMMENT:
                closing = pos  # the driver's closing drop: the model's implicit deny, not a term
                continue
            name, description = _rule_name(raw.get("comment"), pos, ch.ours)
            if ch.ours and name.startswith("rule-"):
                self.notes.info(f"{where}: no comment naming its term, named {name}")
            r = read_rule(raw.get("expr", []))
            if r.jump:
                r.blockers.append(f"{r.jump[0]} {r.jump[1]}")
            if r.blockers:
                self.notes.note(f"{where}: not modelled, rule skipped ({'; '.join(r.blockers)}): '{line}'", line)
                continue
            if r.unmodelled:
                self.notes.note(f"{where}: match conditions not modelled (rule is broader than on the host): "
                                f"{'; '.join(r.unmodelled)}: '{line}'", line)
            rules = self._family_rules(where, ch, r, name, description, line)
            if logged is not None:
                lpos, lline, lrules = logged
                logged = None
                if not _logs_for(lrules, rules):
                    self.notes.note(f"{ch.where} rule {lpos}: not modelled, rule skipped (a rate-limited log whose "
                                    f"next rule is not the same term's verdict): '{lline}'", lline)
                else:
                    rules = [x.model_copy(update={"log": True, "log_rate": lr.log_rate}) for x, lr in zip(rules, lrules)]
            if r.action is None:  # `... limit rate R log`: the term's log, its verdict rule follows
                logged = (pos, line, rules)
                continue
            for rule in rules:
                _append_merging(out, rule)
        if logged is not None:
            self.notes.note(f"{ch.where} rule {logged[0]}: not modelled, rule skipped (a rate-limited log with no "
                            f"verdict rule after it): '{logged[1]}'", logged[1])
        if ch.ours and closing is None:
            self.notes.note(f"{ch.where}: does not end in netchange's closing drop (packets no rule matches return "
                            "to the calling chain; netchange's filters drop them)")
        return out

    def _family_rules(self, where: str, ch: _Chain, r: NftRule, name: str, description: str | None,
                      line: str) -> list[Rule]:
        families = [f for f in _FILTER_FAMILIES[ch.family] if not r.families or f in r.families]
        if len(r.families) > 1 or not families:
            self.notes.note(f"{where}: matches of both address families (matches nothing), rule skipped: '{line}'", line)
            return []
        out = []
        for fam in families:
            try:
                specs = specs_for(r, fam)
            except ValueError as e:
                self.notes.note(f"{where}: not modelled, rule skipped ({e}): '{line}'", line)
                return []
            if specs is None:
                continue
            rule = build(self.notes, where, lambda: Rule(
                name=name, family=fam, sources=tuple(n for n in r.sources if afi_of(n) == fam),
                destinations=tuple(n for n in r.destinations if afi_of(n) == fam),
                source_excludes=tuple(n for n in r.source_excludes if afi_of(n) == fam),
                destination_excludes=tuple(n for n in r.destination_excludes if afi_of(n) == fam), specs=specs,
                states=r.states, tcp_flags=r.tcp_flags, fragment=r.fragment, dscp=r.dscp, hop_limit=r.hop_limit,
                action=r.action or "accept", log=r.log, log_rate=r.limit, counter=r.counter, description=description))
            if rule:
                out.append(rule)
        return out


def _logs_for(logs: list[Rule], verdicts: list[Rule]) -> bool:
    """Is `logs` the rate-limited log rule the nftables driver writes in front of the verdict rule `verdicts`
    (same term, same matches)?"""
    if len(logs) != len(verdicts) or not logs:
        return False
    skip = {"action", "log", "log_rate", "counter"}
    return all(lr.log_rate is not None and not vr.log and lr.model_dump(exclude=skip) == vr.model_dump(exclude=skip)
               for lr, vr in zip(logs, verdicts))


IMPLICIT_DENY_COMMENT = "netchange-implicit-deny"  # written by templates/nftables/macros.j2


def attachment_order(a: Attachment) -> tuple[str, str, str]:
    """One order for a filter's attachments (each is its own jump rule: their order means nothing)."""
    return (a.hook or "", a.interface or "", a.direction or "")


def _unmanaged_name(ch: _Chain) -> str:
    return f"{ch.table}/{ch.name}" if ch.family == "inet" else f"{ch.family}/{ch.table}/{ch.name}"


def _rule_name(comment: str | None, pos: int, managed: bool) -> tuple[str, str | None]:
    """`term=web` -> ('web', None). In netchange's table `web: text` -> ('web', 'text') as the driver writes
    it; elsewhere a comment is only a description of `rule-<pos>`."""
    text = comment.strip() if isinstance(comment, str) else ""
    if text.startswith(_TERM_PREFIX) and text[len(_TERM_PREFIX):].strip():
        return text[len(_TERM_PREFIX):].strip(), None
    if managed and text:
        name, _, description = text.partition(": ")
        return name.strip(), description.strip() or None
    return f"rule-{pos}", text or None


def _append_merging(out: list[Rule], rule: Rule) -> None:
    """A term is rendered as one nft rule per service (per family in `inet`): its rules merge back into one."""
    if rule.specs and not rule.name.startswith("rule-"):
        for i in range(len(out) - 1, -1, -1):
            prev = out[i]
            if prev.name != rule.name:
                break
            if prev.specs and prev.model_dump(exclude={"specs"}) == rule.model_dump(exclude={"specs"}):
                out[i] = prev.model_copy(update={"specs": prev.specs + rule.specs})
                return
    out.append(rule)


__all__ = ["parse", "parse_text_ruleset", "NftLoadError", "MANAGED_FAMILY", "MANAGED_TABLE"]
