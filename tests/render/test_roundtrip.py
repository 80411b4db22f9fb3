"""Rendered text parses back (pipeline.parsers.<platform>, ciscoconfparse2 engine for IOS-style text) into the
objects it was rendered from, compared on what each platform can carry (seqs, descriptions and per-line rule
names are representation, not meaning)."""

from __future__ import annotations

import importlib

import pytest

from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.juniper_junos import junos_length_range
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.aces import expand_rule
from pipeline.model.resolve import resolve
from pipeline.project import load_change

from .cases import CASES
from .conftest import EXAMPLES, PLATFORM_HOST, render_change

# Parsed by the IOS-style machinery (a Dialect): cross-checked here with its ciscoconfparse2 engine.
IOS_STYLE = {p for p in all_platforms() if hasattr(importlib.import_module(f"pipeline.parsers.{p}"), "DIALECT")}
# Which objects' descriptions the platform prints (a fact of each CLI: a new platform must say).
PRINTS_DESCRIPTIONS = {"frr": {"prefix_list", "route_map"}, "cisco_ios": {"prefix_list", "route_map"},
                       "arista_eos": {"route_map"}, "aruba_aoscx": {"route_map"}, "juniper_junos": set(),
                       "cisco_nxos": {"prefix_list", "route_map"}}
# Filters keep each rule's counter switch: per ACE (AOS-CX `count`) or per term (Junos, not an ACL).
PER_RULE_COUNTERS = {p for p in all_platforms() if "filter" in get_driver(p).kinds and get_driver(p).acl_counters in ("entry", None)}
# nftables renders edits to a table (`nft -f` input), not what the host lists: its round trip is test_nft_check's.
RENDERS_EDITS = {"nftables"}

# Disagreements between a driver and a parser, kept visible until one side changes (strict: fixing it fails here).
KNOWN_PARSER_GAPS = {
}


def parse(platform: str, text: str):
    mod = importlib.import_module(f"pipeline.parsers.{platform}")
    return mod.parse(text, engine="ciscoconfparse2") if platform in IOS_STYLE else mod.parse(text)


def normal(platform: str, kind: str, obj):
    """What must survive a render -> parse round trip on this platform."""
    desc = (lambda o: o.description) if kind in PRINTS_DESCRIPTIONS[platform] else (lambda o: None)
    if kind == "prefix_list":  # ge/le compared as the length range they mean (`/48 ge 48 le 56` == `/48 le 56`)
        entries = [(e.action, e.prefix, *junos_length_range(e)) for e in obj.entries]
        return obj.family, desc(obj), sorted(entries, key=str) if platform == "juniper_junos" else entries
    if kind == "community_list":
        return obj.kind, [(e.action, tuple(sorted(e.communities)), e.regex) for e in obj.entries]
    if kind == "as_path_list":
        return [(e.action, e.regex) for e in obj.entries]
    if kind == "route_map":
        return [e.model_copy(update={"description": desc(e)}) for e in obj.entries]
    if kind == "filter":
        aces = [(a.rule.family, a.action, a.src, a.dst, a.protocol, a.sport, a.dport, a.icmp_type, a.icmp_code, a.dscp,
                 a.rule.states, a.rule.tcp_flags, a.rule.fragment, a.rule.hop_limit, a.rule.log,
                 a.rule.counter if platform in PER_RULE_COUNTERS else None)
                for fam in ("ipv4", "ipv6") for r in obj.family_rules(fam) for a in expand_rule(r)]
        # Junos: `ge-0/0/1` is printed as unit 0 and parsed back as `ge-0/0/1.0` (same interface)
        atts = [a.model_copy(update={"interface": a.interface.removesuffix(".0")}) if a.interface and platform == "juniper_junos"
                else a for a in obj.attachments]
        return aces, sorted(atts, key=str)
    return obj


def cases():
    out = [(name, change, p) for name, change in CASES.items() for p in PLATFORM_HOST if p not in RENDERS_EDITS]
    for f in sorted(EXAMPLES.glob("*.yaml")):
        change, _ = load_change(f)
        out += [(f.stem, change, p) for p in PLATFORM_HOST if p not in RENDERS_EDITS]
    return out


@pytest.mark.parametrize("name,change,platform", [
    pytest.param(n, c, p, id=f"{n}-{p}", marks=[pytest.mark.xfail(strict=True, reason=KNOWN_PARSER_GAPS[n, p])]
                 if (n, p) in KNOWN_PARSER_GAPS else []) for n, c, p in cases()])
def test_render_parses_back(name, change, platform, fleet, store):
    host = fleet.hosts[PLATFORM_HOST[platform]]
    t = change.targets
    if host not in fleet.select(t.hosts, t.groups, t.roles, t.sites):
        pytest.skip("change does not target this host")
    try:
        text = render_change(change, host.name, fleet, store)
    except UnsupportedConstruct:
        pytest.skip("refused on this platform (see test_golden/test_capabilities)")
    parsed = parse(platform, text)
    assert not [s for s in parsed.skipped if "kept verbatim" not in s], parsed.skipped  # notes, not drops
    for d in resolve(change, store, host):
        got = parsed.get(d.kind, d.key)
        if d.obj is None:
            assert got is None, (d.kind, d.key)
            continue
        assert got is not None, f"{d.kind} {d.key} did not parse back from:\n{text}"
        assert normal(platform, d.kind, got) == normal(platform, d.kind, d.obj), (d.kind, d.key)


def test_junos_set_lines_parse_with_ciscoconfparse2(fleet, store):
    """Every Junos line is a set/delete/insert statement, and ciscoconfparse2's junos syntax accepts the set form."""
    from ciscoconfparse2 import CiscoConfParse

    for name, change in CASES.items():
        try:
            text = render_change(change, "junos1", fleet, store)
        except UnsupportedConstruct:
            continue
        lines = text.splitlines()
        assert all(ln.split()[0] in ("set", "delete", "insert") for ln in lines), name
        sets = [ln for ln in lines if ln.startswith("set ")]
        if not sets:
            continue
        parsed = CiscoConfParse(sets, syntax="junos")
        assert len(parsed.find_objects(r"^set ")) == len(sets), name
