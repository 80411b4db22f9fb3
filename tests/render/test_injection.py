"""A change request must never inject a device command, on any platform.

Three layers are attacked: the YAML change request (schema types), model construction, and objects
built without validation (model_construct) handed straight to a driver. Rendered output of hostile-but-
valid text is then checked line by line against an allow-list of line shapes per platform."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct, junos_quote, nft_quote
from pipeline.errors import InputError
from pipeline.model.change import ChangeRequest
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.routing import PrefixList, RouteMap
from pipeline.plan import ops as O
from pipeline.project import load_change

from .cases import ALL_HOSTS, CASES
from .conftest import PLATFORM_HOST, render_change

HOSTILE = [
    "X\nexit", "X\rend", "end", "exit", "X!Y", "X#Y", "X;Y", "{{ 7*7 }}", "{% raw %}", 'X"Y', "X'Y", "X\\Y",
    "X\n set interfaces lo0 disable", "X\u2028Y", "X\x00Y", "X Y", "quit", "commit", "X`id`", "X$(id)", "X|Y", "X>Y",
]
HOSTILE_TEXT = [h for h in HOSTILE if h not in ("X Y",)]  # a space is fine in free text

# Every rendered line must have one of these shapes (after the platform's indentation).
NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
SHAPES = {
    "frr": [r"(no )?ip(v6)? prefix-list \S+ (seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?|description [^!#;{}\"'\\]*)",
            r"(no )?bgp (large-)?community-list (standard|expanded) \S+( seq \d+ (permit|deny) .+)?",
            r"(no )?bgp as-path access-list \S+( seq \d+ (permit|deny) .+)?", r"(no )?route-map \S+( (permit|deny) \d+)?",
            r" (no )?(match|set|description|on-match) [^!#;{}\"'\\]+", r"exit", r"router bgp \d+", r" address-family ipv[46] unicast",
            r"  (no )?neighbor \S+ route-map \S+ (in|out)", r" exit-address-family", r"(  )?! [^\n]+"],
    "cisco_ios": [r"(no )?ip(v6)? prefix-list \S+ (seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?|description [^!#;{}\"'\\]*)",
                  r"(no )?ip community-list (standard|expanded) \S+( (permit|deny) .+)?", r"(no )?ip as-path access-list \d+( (permit|deny) .+)?",
                  r"(no )?route-map \S+( (permit|deny) \d+)?", r" (no )?(match|set|description|continue) [^!#;{}\"'\\]+",
                  r"router bgp \d+", r" address-family ipv[46]", r"  (no )?neighbor \S+ route-map \S+ (in|out)", r" exit-address-family",
                  r"(no )?ip access-list extended \S+", r"(no )?ipv6 access-list \S+", r" remark [^!#;{}\"'\\]+",
                  r" (permit|deny) \S+ .+", r"interface \S+", r" (no )?(ip access-group|ipv6 traffic-filter) \S+ (in|out)", r"(  )?! .+"],
    "arista_eos": [r"(no )?ip(v6)? prefix-list \S+", r"   (no )?seq \d+( (permit|deny) \S+( ge \d+)?( le \d+)?)?",
                   r"(no )?ip (large-)?community-list (regexp )?\S+( (permit|deny) .+)?", r"(no )?ip as-path access-list \S+( (permit|deny) .+ any)?",
                   r"(no )?route-map \S+( (permit|deny) \d+)?", r"   (no )?(match|set|description|continue) [^!#;{}\"'\\]+",
                   r"router bgp \d+", r"   address-family ipv[46]", r"      (no )?neighbor \S+ route-map( \S+)? (in|out)",
                   r"(no )?ipv?6? ?access-list \S+", r"   counters per-entry", r"   \d+ remark [^!#;{}\"'\\]+", r"   \d+ (permit|deny) .+",
                   r"   no \d+", r"interface \S+", r"   (no )?ipv?6? ?access-group \S+ (in|out)", r"! .+"],
    "aruba_aoscx": [r"(no )?ip(v6)? prefix-list \S+( seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?)?",
                    r"(no )?ip community-list (standard|expanded) \S+( seq \d+ (permit|deny) .+)?",
                    r"(no )?ip aspath-list \S+( seq \d+ (permit|deny) .+)?", r"(no )?route-map \S+( (permit|deny) seq \d+)?",
                    r"    (no )?(match|set|description) [^!#;{}\"'\\]+", r"router bgp \d+", r"    address-family ipv[46] unicast",
                    r"        (no )?neighbor \S+ route-map \S+ (in|out)", r"    exit-address-family", r"(no )?access-list ip(v6)? \S+",
                    r"    \d+ comment [^!#;{}\"'\\]+", r"    \d+ (permit|deny) .+", r"    no \d+", r"interface \S+",
                    r"    (no )?apply access-list ip(v6)? \S+ (in|out)", r"( {8})?! .+"],
    "juniper_junos": [r"(set|delete|insert) (policy-options|firewall|protocols bgp|interfaces) [^;{}\n]+", r"# .+"],
    "nftables": [r"add table inet netchange", r"(add|flush|delete) chain inet netchange [A-Za-z][\w.-]*",
                 r"add chain inet netchange hook-(input|forward|output) \{ type filter hook (input|forward|output) priority filter; \}",
                 r"(add rule inet netchange \S+|insert rule inet netchange \S+ position \d+) ((i|o)ifname \"[A-Za-z0-9/._:-]+\" )?jump \S+",
                 r"delete rule inet netchange \S+ handle \d+",
                 r"add rule inet netchange \S+ (meta nfproto ipv[46] )?.*(accept|drop|reject) comment \"[^\"\\\\]*\"", r"# [^\n]+"],
}


def assert_lines_allowed(platform: str, text: str) -> None:
    shapes = [re.compile(s + r"$") for s in SHAPES[platform]]
    for line in text.splitlines():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", line), repr(line)
        assert any(s.match(line) for s in shapes), f"{platform}: unexpected line shape {line!r}"
    # Nothing outside a quoted string may be a separator some CLI honours.
    for line in text.splitlines():
        unquoted = re.sub(r'"[^"]*"', '""', line)
        assert ";" not in unquoted or platform == "nftables" and unquoted.endswith("priority filter; }"), repr(line)
        assert "{{" not in line and "{%" not in line, repr(line)


def _yaml_change(tmp_path, body: str, hosts: str = "r1"):
    p = tmp_path / "CHG-6666.yaml"
    p.write_text(f"id: CHG-6666\ntitle: t\nrequested_by: t\ntargets: {{hosts: [{hosts}]}}\n" + body, encoding="utf-8")
    return load_change(p)


def _yq(s: str) -> str:
    """A YAML double-quoted scalar that decodes to exactly s."""
    return '"' + s.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


@pytest.mark.parametrize("bad", HOSTILE)
@pytest.mark.parametrize("where", ["filter", "term", "prefix_list", "route_map", "as_path", "binding_route_map"])
def test_hostile_names_refused_from_yaml(tmp_path, bad, where):
    bodies = {
        "filter": f"firewall: {{filters: [{{name: {_yq(bad)}, terms: [{{name: t, action: deny}}]}}]}}\n",
        "term": f"firewall: {{filters: [{{name: F, terms: [{{name: {_yq(bad)}, action: deny}}]}}]}}\n",
        "prefix_list": f"routing: {{prefix_lists: [{{name: {_yq(bad)}, entries: []}}]}}\n",
        "route_map": f"routing: {{route_maps: [{{name: {_yq(bad)}, entries: []}}]}}\n",
        "as_path": f"routing: {{as_path_lists: [{{name: A, entries: [{{action: permit, regex: {_yq(bad + chr(10) + 'end')}}}]}}]}}\n",
        "binding_route_map": f"routing: {{bindings: [{{neighbor: 198.51.100.2, direction: in, route_map: {_yq(bad)}}}]}}\n",
    }
    with pytest.raises(InputError):
        _yaml_change(tmp_path, bodies[where])


@pytest.mark.parametrize("bad", HOSTILE_TEXT)
@pytest.mark.parametrize("where", ["filter", "term", "prefix_list", "route_map_entry"])
def test_hostile_descriptions_refused_from_yaml(tmp_path, bad, where, fleet, store):
    d = _yq(bad)
    bodies = {
        "filter": f"firewall: {{filters: [{{name: F, description: {d}, terms: []}}]}}\n",
        "term": f"firewall: {{filters: [{{name: F, terms: [{{name: t, description: {d}, action: deny}}]}}]}}\n",
        "prefix_list": f"routing: {{prefix_lists: [{{name: P, description: {d}, entries: []}}]}}\n",
        "route_map_entry": f"routing: {{route_maps: [{{name: R, entries: [{{seq: 10, action: permit, description: {d}}}]}}]}}\n",
    }
    try:
        change, _ = _yaml_change(tmp_path, bodies[where].replace("terms: []", "attach: [server-edge], terms: [{name: t, action: deny}]"),
                                 hosts="ios1, eos1, cx1, junos1, fw1, r1")
    except InputError:
        return  # refused by the schema
    # FreeText lets some Unicode line breaks (U+2028) through: the printer must refuse them on every platform
    for host in ("ios1", "eos1", "cx1", "junos1", "fw1", "r1"):
        try:
            text = render_change(change, host, fleet, store)
        except UnsupportedConstruct:
            continue
        assert bad not in text, (host, text)


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_names_refused_by_model(bad):
    with pytest.raises(ValidationError):
        PrefixList(name=bad, entries=())
    with pytest.raises(ValidationError):
        RouteMap.model_validate({"name": "R", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": bad}}]})


def _unvalidated_filter(name: str, term: str, desc: str | None) -> ConcreteFilter:
    rule = Rule.model_construct(name=term, family="ipv4", sources=(), destinations=(), specs=(), action="deny",
                                log=False, counter=False, description=desc)
    return ConcreteFilter.model_construct(name=name, description=None, rules=(rule,), attachments=())


@pytest.mark.parametrize("platform", sorted(PLATFORM_HOST))
@pytest.mark.parametrize("bad", HOSTILE)
def test_unvalidated_objects_refused_by_every_driver(platform, bad, fleet):
    """model_construct skips validation: the printer re-checks and refuses, whatever the platform."""
    host = fleet.hosts[PLATFORM_HOST[platform]]
    d = get_driver(platform)
    pl = PrefixList.model_construct(name=bad, afi="ipv4", description=None, state="present", entries=())
    attempts = [O.Create("prefix_list", "P", pl), O.Create("filter", "F", _unvalidated_filter(bad, "t", None)),
                O.Create("filter", "F", _unvalidated_filter("F", bad, None)), O.Delete("route_map", bad, None)]
    if bad not in ("X Y",):
        attempts.append(O.Create("filter", "F", _unvalidated_filter("F", "t", bad)))
    for op in attempts:
        with pytest.raises(UnsupportedConstruct):
            d.render_ops([op], DevicePolicy(), host)


def test_quoting_helpers_escape_or_strip():
    assert junos_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert nft_quote('a"b\\c\nd') == '"abcd"'
    assert nft_quote("x" * 300).endswith('..."') and len(nft_quote("x" * 300)) <= 129


# Hostile-but-valid text: punctuation allowed in free text and words that are CLI keywords on their own.
WORST_TEXT = "exit end quit - commit: no (default) 50% a/b, c=d [x] @y ~z"


@pytest.mark.parametrize("platform", sorted(PLATFORM_HOST))
def test_rendered_lines_have_allowed_shapes(platform, fleet, store):
    """Every construct case plus worst-case free text: each line matches one allowed shape, line counts are exact."""
    host = PLATFORM_HOST[platform]
    worst = ChangeRequest.model_validate({
        "id": "CHG-7777", "title": "t", "requested_by": "t", "targets": {"hosts": ALL_HOSTS},
        "firewall": {"filters": [{"name": "F1", "description": WORST_TEXT, "attach": ["server-edge"],
                                  "terms": [{"name": "t1", "description": WORST_TEXT, "action": "deny"}]}]},
        "routing": {"prefix_lists": [{"name": "P1", "description": WORST_TEXT,
                                      "entries": [{"seq": 5, "action": "permit", "prefix": "192.0.2.0/24", "description": WORST_TEXT}]}],
                    "route_maps": [{"name": "R1", "entries": [{"seq": 10, "action": "permit", "description": WORST_TEXT,
                                                               "match": {"prefix_list": "P1"}}]}]}})
    for name, change in {**CASES, "worst": worst}.items():
        try:
            text = render_change(change, host, fleet, store)
        except UnsupportedConstruct:
            continue
        assert_lines_allowed(platform, text)
    text = render_change(worst, host, fleet, store)
    if platform in ("frr", "cisco_ios", "arista_eos", "aruba_aoscx"):
        # the description is one line, printed whole, never split into commands
        assert sum(WORST_TEXT in line for line in text.splitlines()) >= 1
        assert all(line.strip().split()[0] not in ("exit", "end", "quit", "commit") or line.strip() == "exit"
                   for line in text.splitlines())


def test_frr_worst_text_line_count(fleet, store):
    change = ChangeRequest.model_validate({"id": "CHG-7778", "title": "t", "requested_by": "t", "targets": {"hosts": ["r1"]},
                                           "routing": {"route_maps": [{"name": "R1", "entries": [
                                               {"seq": 10, "action": "permit", "description": WORST_TEXT}]}]}})
    text = render_change(change, "r1", fleet, store)
    assert text.splitlines() == ["route-map R1 permit 10", f" description {WORST_TEXT}", "exit"]


def test_hostile_junos_group_from_host_data(fleet):
    """Inventory data is input too: a BGP group name from host data is re-checked before printing."""
    host = fleet.hosts["junos1"]
    evil = host.model_copy(update={"data": host.data.model_copy(update={"bgp_groups": {"198.51.100.2": "G\ndelete"}})})
    from pipeline.model.routing import NeighborBinding

    b = NeighborBinding(neighbor="198.51.100.2", direction="in", route_map="RM")
    with pytest.raises(UnsupportedConstruct):
        get_driver("juniper_junos").render_ops([O.Bind("binding", "x", b)], DevicePolicy(), evil)
