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
  and verdict-less rules are listed in `skipped` with the reason. parse never raises on ruleset content.

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
from .nft_load import NftLoadError, ruleset_json
from .nft_rules import NftRule, read_rule, specs_for

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
    rules: list[dict] = field(default_factory=list)

    @property
    def managed(self) -> bool:
        return (self.family, self.table) == (MANAGED_FAMILY, MANAGED_TABLE)

    @property
    def where(self) -> str:
        return f"nft {self.family} {self.table} chain {self.name}"


def _load(text: str | dict) -> list[dict]:
    doc = json.loads(text) if isinstance(text, str) else text
    items = doc.get("nftables", []) if isinstance(doc, dict) else []
    return [i for i in items if isinstance(i, dict)]


def parse(text: str | dict[str, Any]) -> DevicePolicy:
    """`nft -j list ruleset` output (text, or already decoded) -> DevicePolicy."""
    notes: list[str] = []
    try:
        items = _load(text)
    except json.JSONDecodeError as e:
        return DevicePolicy(skipped=[f"nft: not JSON ({e}); expected `nft -j list ruleset` output"])
    chains: dict[tuple[str, str, str], _Chain] = {}
    for item in items:
        kind, body = next(iter(item.items()))
        if not isinstance(body, dict):
            continue
        fam, table = body.get("family", ""), body.get("table", body.get("name", ""))
        if kind == "table" and fam not in _FILTER_FAMILIES:
            notes.append(f"nft {fam} table {table}: family {fam} not modelled")
        elif kind in ("set", "map") and fam in _FILTER_FAMILIES:
            notes.append(f"nft {fam} {table} {kind} {body.get('name')}: named {kind}s not modelled "
                         "(rules using it are skipped)")
        elif kind == "chain" and fam in _FILTER_FAMILIES:
            chains[(fam, table, body["name"])] = _Chain(fam, table, body["name"], body.get("hook"), body.get("type"),
                                                         body.get("policy"))
        elif kind == "rule" and (fam, table, body.get("chain")) in chains:
            chains[(fam, table, body["chain"])].rules.append(body)
    return _Mapper(notes).run(list(chains.values()))


def parse_text_ruleset(text: str, include_dirs: tuple[str | Path, ...] = ()) -> DevicePolicy:
    """`nft list ruleset` / `nft -f` text -> DevicePolicy (loads it in a throwaway netns: needs root)."""
    data, notes = ruleset_json(text, include_dirs)
    policy = parse(data)
    policy.skipped[:0] = notes
    return policy


class _Mapper:
    def __init__(self, notes: list[str]):
        self.notes = notes
        self.filters: dict[str, ConcreteFilter] = {}
        self.attachments: dict[str, list[Attachment]] = {}

    def run(self, chains: list[_Chain]) -> DevicePolicy:
        rules: dict[str, list[Rule]] = {}
        for ch in chains:
            if ch.type and ch.type != "filter":
                self.notes.append(f"{ch.where}: {ch.type} chain (hook {ch.hook}) not modelled")
                continue
            if ch.managed and ch.hook:
                self._dispatch(ch)
                continue
            name = ch.name if ch.managed else _unmanaged_name(ch)
            if ch.managed and (reason := bad_name(name)):
                self.notes.append(f"{ch.where}: name not usable ({reason})")
                continue
            rules[name] = self._rules(ch)
            if ch.hook:
                self._own_hook(ch, name)
        for name, rs in rules.items():
            atts = tuple(self.attachments.pop(name, ()))
            f = build(self.notes, f"nft filter {name}", lambda: ConcreteFilter(name=name, rules=tuple(rs),
                                                                                attachments=atts))
            if f:
                self.filters[name] = f
        for name in self.attachments:
            self.notes.append(f"nft inet netchange: base chains jump to {name}, which is not a modelled filter")
        return DevicePolicy(filters=self.filters, skipped=self.notes)

    def _own_hook(self, ch: _Chain, name: str) -> None:
        if ch.policy:
            self.notes.append(f"{ch.where}: base chain policy {ch.policy} (verdict for unmatched packets) not modelled")
        if ch.hook in _HOOKS:
            self.attachments.setdefault(name, []).append(Attachment(hook=ch.hook))
        else:
            self.notes.append(f"{ch.where}: hook {ch.hook} has no attachment kind in the model")

    def _dispatch(self, ch: _Chain) -> None:
        """A base chain of netchange's table: every rule should be `[iifname|oifname X] jump FILTER`."""
        for pos, rule in enumerate(ch.rules, 1):
            r = read_rule(rule.get("expr", []))
            others = [u for u in r.unmodelled if not u.startswith("meta iifname") and not u.startswith("meta oifname")]
            if r.jump is None or r.blockers or others or r.sources or r.destinations or r.protocols or r.ports:
                self.notes.append(f"{ch.where} rule {pos}: base chain rule other than a (interface) jump not modelled")
                continue
            if ch.hook not in _HOOKS:
                self.notes.append(f"{ch.where}: hook {ch.hook} has no attachment kind in the model")
                continue
            iface = r.interfaces.get("iifname") or r.interfaces.get("oifname")
            direction = ("in" if "iifname" in r.interfaces else "out") if iface else None
            if len(r.interfaces) > 1:
                self.notes.append(f"{ch.where} rule {pos}: both iifname and oifname, only {iface} kept")
            att = build(self.notes, f"{ch.where} rule {pos}",
                        lambda: Attachment(interface=iface, direction=direction) if iface else Attachment(hook=ch.hook))
            if att and att not in self.attachments.setdefault(r.jump[1], []):
                self.attachments[r.jump[1]].append(att)

    def _rules(self, ch: _Chain) -> list[Rule]:
        out: list[Rule] = []
        for pos, raw in enumerate(ch.rules, 1):
            where = f"{ch.where} rule {pos}"
            if ch.managed and raw.get("comment") == IMPLICIT_DENY_COMMENT:
                continue  # the driver's closing drop: the model's implicit deny, not a term
            name, description = _rule_name(raw.get("comment"), pos, ch.managed)
            if ch.managed and name.startswith("rule-"):
                self.notes.append(f"{where}: no comment naming its term, named {name}")
            r = read_rule(raw.get("expr", []))
            if r.jump:
                r.blockers.append(f"{r.jump[0]} {r.jump[1]}")
            if r.blockers:
                self.notes.append(f"{where}: not modelled, rule skipped ({'; '.join(r.blockers)})")
                continue
            if r.unmodelled:
                self.notes.append(f"{where}: match conditions not modelled (rule is broader than on the host): "
                                  f"{'; '.join(r.unmodelled)}")
            for rule in self._family_rules(where, ch, r, name, description):
                _append_merging(out, rule)
        return out

    def _family_rules(self, where: str, ch: _Chain, r: NftRule, name: str, description: str | None) -> list[Rule]:
        families = [f for f in _FILTER_FAMILIES[ch.family] if not r.families or f in r.families]
        if len(r.families) > 1 or not families:
            self.notes.append(f"{where}: matches of both address families (matches nothing), rule skipped")
            return []
        out = []
        for fam in families:
            try:
                specs = specs_for(r, fam)
            except ValueError as e:
                self.notes.append(f"{where}: not modelled, rule skipped ({e})")
                return []
            if specs is None:
                continue
            rule = build(self.notes, where, lambda: Rule(
                name=name, family=fam, sources=tuple(n for n in r.sources if afi_of(n) == fam),
                destinations=tuple(n for n in r.destinations if afi_of(n) == fam), specs=specs,
                action=r.action, log=r.log, counter=r.counter, description=description))
            if rule:
                out.append(rule)
        return out


IMPLICIT_DENY_COMMENT = "netchange-implicit-deny"  # written by templates/nftables/macros.j2


def _unmanaged_name(ch: _Chain) -> str:
    return f"{ch.table}/{ch.name}" if ch.family == "inet" else f"{ch.family}/{ch.table}/{ch.name}"


def _rule_name(comment: str | None, pos: int, managed: bool) -> tuple[str, str | None]:
    """`term=web` -> ('web', None). In netchange's table `web: text` -> ('web', 'text') as the driver writes
    it; elsewhere a comment is only a description of `rule-<pos>`."""
    text = (comment or "").strip()
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
