"""A change request must never inject a device command, on any platform.

Three layers are attacked: the YAML change request (schema types), model construction, and objects
built without validation (model_construct) handed straight to a driver. Rendered output of hostile-but-
valid text is then checked line by line against an allow-list of line shapes per platform.

Names are plain words everywhere. Free text (descriptions, remarks, comments) is ordinary text: it may
hold apostrophes, quotes and punctuation, and is printed whole on its own description line; only what a
line cannot hold (control characters, line breaks) is refused by the model, and what one platform's CLI
reads as syntax (`?` and `|` on interactive CLIs, `"` in nft strings) is refused by that platform."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.text_filters import junos_quote, nft_quote
from pipeline.errors import InputError
from pipeline.model.change import ChangeRequest
from pipeline.model.policy import ConcreteFilter, DevicePolicy, Rule
from pipeline.model.routing import PrefixList, RouteMap
from pipeline.plan import ops as O
from pipeline.project import load_change

from pipeline.parsers.frr import parse

from .cases import ALL_HOSTS, CASES
from .conftest import PLATFORM_HOST, render_change
from .test_frr_accepts import frr  # noqa: F401  (fixture: a scratch FRR 8.4; skipped where it cannot run)

HOSTILE = [
    "X\nexit", "X\rend", "end", "exit", "X!Y", "X#Y", "X;Y", "{{ 7*7 }}", "{% raw %}", 'X"Y', "X'Y", "X\\Y",
    "X\n set interfaces lo0 disable", "X\u2028Y", "X\x00Y", "X Y", "quit", "commit", "X`id`", "X$(id)", "X|Y", "X>Y",
    "RM1\n", "RM1\r\n", "X\x85Y", "X\tY", "X\x1b[2JY", "X?Y",
]
# Text no line may hold, or that is a CLI keyword alone: refused by the model (or by every printer).
# (FreeText strips surrounding whitespace first: "RM1\n" is the description "RM1".)
UNPRINTABLE_TEXT = [h for h in HOSTILE if any(c in h.strip() for c in "\n\r\x00\x85\t\x1b\u2028")
                    or h in ("end", "exit", "quit", "commit")]
# Punctuation: ordinary text, printed whole on one line, or refused by the platforms whose CLI reads it.
PUNCTUATION_TEXT = [h for h in HOSTILE if h not in UNPRINTABLE_TEXT]

# Every rendered line must have one of these shapes (after the platform's indentation).
NAME = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
SHAPES = {
    "frr": [r"(no )?ip(v6)? prefix-list \S+ (seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?|description [^?|]*)",
            r"(no )?bgp (large-)?community-list (standard|expanded) \S+( seq \d+ (permit|deny) .+)?",
            r"(no )?bgp as-path access-list \S+( seq \d+ (permit|deny) .+)?", r"(no )?route-map \S+( (permit|deny) \d+)?",
            r" (no )?(match|set|on-match) [^!#;{}\"'\\]+", r" (no )?description[^?|]*", r"exit", r"router bgp \d+", r" address-family ipv[46] unicast",
            r"  (no )?neighbor \S+ route-map \S+ (in|out)", r" exit-address-family", r"(  )?! [^\n]+"],
    "cisco_ios": [r"(no )?ip(v6)? prefix-list \S+ (seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?|description [^?|]*)",
                  r"(no )?ip community-list (standard|expanded) \S+( (permit|deny) .+)?", r"(no )?ip as-path access-list \d+( (permit|deny) .+)?",
                  r"(no )?route-map \S+( (permit|deny) \d+)?", r" (no )?(match|set|continue) [^!#;{}\"'\\]+", r" (no )?description[^?|]*",
                  r"router bgp \d+", r" address-family ipv[46]", r"  (no )?neighbor \S+ route-map \S+ (in|out)", r" exit-address-family",
                  r"(no )?ip access-list extended \S+", r"(no )?ipv6 access-list \S+", r" remark [^?|]+",
                  r" (permit|deny) \S+ .+", r"interface \S+", r" (no )?(ip access-group|ipv6 traffic-filter) \S+ (in|out)", r"(  )?! .+"],
    "arista_eos": [r"(no )?ip(v6)? prefix-list \S+", r"   (no )?seq \d+( (permit|deny) \S+( ge \d+)?( le \d+)?)?",
                   r"(no )?ip (large-)?community-list (regexp )?\S+( (permit|deny) .+)?", r"(no )?ip as-path access-list \S+( (permit|deny) .+ any)?",
                   r"(no )?route-map \S+( (permit|deny) \d+)?", r"   (no )?(match|set|continue) [^!#;{}\"'\\]+", r"   (no )?description[^?|]*",
                   r"router bgp \d+", r"   address-family ipv[46]", r"      (no )?neighbor \S+ route-map( \S+)? (in|out)",
                   r"(no )?ipv?6? ?access-list \S+", r"   counters per-entry", r"   \d+ remark [^?|]+", r"   \d+ (permit|deny) .+",
                   r"   no \d+", r"interface \S+", r"   (no )?ipv?6? ?access-group \S+ (in|out)", r"! .+"],
    "aruba_aoscx": [r"(no )?ip(v6)? prefix-list \S+( seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?)?",
                    r"(no )?ip community-list (standard|expanded) \S+( seq \d+ (permit|deny) .+)?",
                    r"(no )?ip aspath-list \S+( seq \d+ (permit|deny) .+)?", r"(no )?route-map \S+( (permit|deny) seq \d+)?",
                    r"    (no )?(match|set) [^!#;{}\"'\\]+", r"    (no )?description[^?|]*", r"router bgp \d+", r"    address-family ipv[46] unicast",
                    r"        (no )?neighbor \S+ route-map \S+ (in|out)", r"    exit-address-family", r"(no )?access-list ip(v6)? \S+",
                    r"    \d+ comment [^?|]+", r"    \d+ (permit|deny) .+", r"    no \d+", r"interface \S+",
                    r"    (no )?apply access-list ip(v6)? \S+ (in|out)", r"( {8})?! .+"],
    "cisco_nxos": [r"(no )?ip(v6)? prefix-list \S+ (seq \d+ (permit|deny) \S+( ge \d+)?( le \d+)?|description [^?|]*)",
                   r"(no )?ip (large-)?community-list (standard|expanded) \S+( seq \d+ (permit|deny) .+)?",
                   r"(no )?ip as-path access-list \S+( seq \d+ (permit|deny) \"[^\"]*\")?",
                   r"(no )?route-map \S+( (permit|deny) \d+)?", r"  (no )?(match|set|continue) [^!#;{}\"'\\]+", r"  (no )?description[^?|]*",
                   r"router bgp \d+", r"  neighbor \S+", r"    address-family ipv[46] unicast", r"      (no )?route-map \S+ (in|out)",
                   r"(no )?ipv?6? ?access-list \S+", r"  statistics per-entry", r"  \d+ remark [^?|]+", r"  \d+ (permit|deny) .+",
                   r"  no \d+", r"interface \S+", r"  (no )?(ip access-group|ipv6 traffic-filter) \S+ (in|out)", r"( {6})?! .+"],
    "juniper_junos": [r"(set|delete|insert) (policy-options|firewall|protocols bgp|interfaces) [^;{}\n]+", r"# .+"],
    # (netchange's table, or the host's own one the inventory names: firewall.nftables.jump_from)
    "nftables": [r"add table inet [\w.-]+", r"(add|flush|delete) chain inet [\w.-]+ [A-Za-z][\w.-]*",
                 r"add chain inet netchange hook-(input|forward|output) \{ type filter hook (input|forward|output) priority (filter|-?\d+); \}",
                 r"(add rule inet [\w.-]+ \S+|insert rule inet [\w.-]+ \S+( position \d+)?) ((i|o)ifname \"[A-Za-z0-9/._:-]+\" )?jump \S+",
                 r"delete rule inet [\w.-]+ \S+ handle \d+",
                 r"add rule inet [\w.-]+ \S+ (meta nfproto ipv[46] )?.*(accept|drop|reject) comment \"[^\"]*\"",
                 r"add rule inet [\w.-]+ \S+ .*limit rate \d+/(second|minute|hour|day) log prefix \"[^\"]*\" comment \"[^\"]*\"",
                 r"# [^\n;]+"],
}


def assert_lines_allowed(platform: str, text: str) -> None:
    shapes = [re.compile(s + r"$") for s in SHAPES[platform]]
    for line in text.splitlines():
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", line), repr(line)
        assert any(s.match(line) for s in shapes), f"{platform}: unexpected line shape {line!r}"
    # Where `;` ends a statement (Junos, nft), it appears only inside a quoted string (or nft's fixed base-chain line).
    for line in text.splitlines():
        unquoted = re.sub(r'"[^"]*"', '""', line)
        if platform in ("juniper_junos", "nftables"):
            assert ";" not in unquoted or platform == "nftables" and re.search(r"priority (filter|-?\d+); }$", unquoted), repr(line)
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


def _description_bodies(d: str) -> dict[str, str]:
    return {
        "filter": f"firewall: {{filters: [{{name: F, description: {d}, attach: [server-edge], terms: [{{name: t, action: deny}}]}}]}}\n",
        "term": f"firewall: {{filters: [{{name: F, attach: [server-edge], terms: [{{name: t, description: {d}, action: deny}}]}}]}}\n",
        "prefix_list": f"routing: {{prefix_lists: [{{name: P, description: {d}, entries: []}}]}}\n",
        "route_map_entry": f"routing: {{route_maps: [{{name: R, entries: [{{seq: 10, action: permit, description: {d}}}]}}]}}\n",
    }


TEXT_HOSTS = tuple(PLATFORM_HOST.values())


@pytest.mark.parametrize("bad", UNPRINTABLE_TEXT)
@pytest.mark.parametrize("where", ["filter", "term", "prefix_list", "route_map_entry"])
def test_unprintable_descriptions_refused_from_yaml(tmp_path, bad, where):
    with pytest.raises(InputError):
        _yaml_change(tmp_path, _description_bodies(_yq(bad))[where], hosts=", ".join(TEXT_HOSTS))


@pytest.mark.parametrize("bad", PUNCTUATION_TEXT)
@pytest.mark.parametrize("where", ["filter", "term", "prefix_list", "route_map_entry"])
def test_punctuation_in_descriptions_prints_on_one_line_or_is_refused_by_the_platform(tmp_path, bad, where, fleet, store):
    """The text with punctuation renders to exactly the lines of the same change with a plain description,
    except that description/remark/comment lines carry the text whole: no extra line, no line split."""
    change, _ = _yaml_change(tmp_path, _description_bodies(_yq(bad))[where], hosts=", ".join(TEXT_HOSTS))
    plain, _ = _yaml_change(tmp_path, _description_bodies("PLAIN")[where], hosts=", ".join(TEXT_HOSTS))
    for host in TEXT_HOSTS:
        platform = fleet.hosts[host].platform.value
        try:
            text = render_change(change, host, fleet, store)
        except UnsupportedConstruct as e:
            # only where the platform's CLI reads the character as syntax, and the error says which platform
            assert platform in str(e), e
            refused = getattr(get_driver(platform), "text_refused", None) or {}
            assert (any(ch in bad for ch in refused) or platform == "nftables" and '"' in bad), (host, bad, e)
            continue
        expected = render_change(plain, host, fleet, store).splitlines()
        lines = text.splitlines()
        assert len(lines) == len(expected), (host, text)
        assert lines == [want.replace("PLAIN", bad.strip()) for want in expected], (host, text)


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
    if bad in UNPRINTABLE_TEXT or bad != bad.strip():  # unvalidated: nothing stripped the trailing newline
        attempts.append(O.Create("filter", "F", _unvalidated_filter("F", "t", bad)))
    for op in attempts:
        with pytest.raises(UnsupportedConstruct):
            d.render_ops([op], DevicePolicy(), host)


def test_quoting_helpers_escape_or_refuse():
    assert junos_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert nft_quote("it's a\\b") == '"it\'s a\\b"'  # nft -c -f accepts both inside a quoted string
    assert nft_quote("x" * 300).endswith('..."') and len(nft_quote("x" * 300)) <= 129
    # nft strings have no escape for '"', and no string holds a line break: refused, never silently changed
    for bad in ('a"b', "a\nb", "a\rb", "a\u2028b"):
        with pytest.raises(UnsupportedConstruct, match="nftables"):
            nft_quote(bad)
    with pytest.raises(UnsupportedConstruct):
        junos_quote("a\nb")


# Hostile-but-valid text: punctuation allowed in free text and words that are CLI keywords on their own.
# (No `"`: nft strings cannot hold one, see test_double_quote_is_refused_by_nftables_only.)
WORST_TEXT = "it's r3's ! # ; {x} $y `z` <a> \\ & exit end quit - commit: no (default) 50% a/b, c=d [x] @y ~z"


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
    for _name, change in {**CASES, "worst": worst}.items():
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


def test_real_frr_takes_punctuation_in_descriptions_and_reads_it_back(frr, fleet, store):  # noqa: F811 (fixture)
    """FRR 8.4 (`vtysh -f`, scratch bgpd) keeps apostrophes, quotes and punctuation in descriptions, and
    netchange's parser reads them back unchanged. (Interactive vtysh, as over SSH, reads `?` as help and
    `| ` as a pipe: those two are refused for FRR, see test_text_a_cli_cannot_carry_is_refused_by_that_platform_only.)"""
    text = WORST_TEXT + ' 5" cable'
    change = ChangeRequest.model_validate({
        "id": "CHG-7779", "title": "t", "requested_by": "t", "targets": {"hosts": ["r1"]},
        "routing": {"prefix_lists": [{"name": "PL-TEXT", "description": text,
                                      "entries": [{"seq": 5, "action": "permit", "prefix": "203.0.113.0/24"}]}],
                    "route_maps": [{"name": "RM-TEXT", "entries": [{"seq": 10, "action": "permit", "description": text,
                                                                    "match": {"prefix_list": "PL-TEXT"}}]}]}})
    rendered = render_change(change, "r1", fleet, store)
    assert frr.load(rendered) is None, rendered
    running = parse(frr.running())
    assert running.prefix_lists["PL-TEXT"].description == text
    assert running.route_maps["RM-TEXT"].entries[0].description == text
