"""Shadowing over the new term matches (issue 16): a term shadowed only through ICMP types, an exclusion,
connection state, TCP flags, fragments, DSCP or hop limit is found; one that the new dimension keeps alive
is not (as the five-dimension boxes would have claimed); random terms agree with a brute-force evaluation."""

from __future__ import annotations

import ipaddress
import itertools

from hypothesis import given, settings, strategies as st

from pipeline.model.firewall import Term
from pipeline.model.objects import ObjectStore
from pipeline.model.resolve import term_rules
from pipeline.validate.rules.shadowing import FW_PREFIX_DIMS, rule_box_count, rule_boxes, used_dims
from pipeline.validate.shadow import Item, analyse

from .conftest import fw, term


def findings(check, *terms, rule=None):
    found = check(fw(*terms))
    return [(f.rule, f.message) for f in found if f.rule in ("NC201", "NC202", "NC203") and (rule is None or f.rule == rule)]


def test_shadowed_only_through_icmp_types(check):
    got = findings(check, term("pings", protocols=["icmp"], icmp_types=["echo-request", "echo-reply"]),
                   term("no-echo", "deny", protocols=["icmp"], icmp_types=["echo-request"]),
                   term("unreach", "deny", protocols=["icmp"], icmp_types=["destination-unreachable"]),
                   term("rest", "deny", log=True))
    assert [r for r, m in got if "no-echo" in m] == ["NC201"]
    assert not [m for _, m in got if "unreach" in m and "never match" in m]  # another type: alive


def test_icmp_code_inside_its_type_is_shadowed(check):
    got = findings(check, term("unreach", protocols=["icmp"], icmp_types=[3]),
                   term("frag-needed", "deny", protocols=["icmp"], icmp_types=[3], icmp_code=4))
    assert [r for r, m in got if "frag-needed" in m] == ["NC201"]


def test_shadowed_only_through_an_exclusion(check):
    got = findings(check, term("most", "deny", sources=["198.18.0.0/15"], source_exclude=["198.18.1.0/24"]),
                   term("inside", sources=["198.18.2.0/24"]), term("excluded", sources=["198.18.1.0/25"]),
                   term("rest", "deny", log=True))
    assert [r for r, m in got if "term inside" in m] == ["NC201"]
    assert not [m for _, m in got if "term excluded" in m and "never match" in m]


def test_an_exclusion_and_the_excluded_part_cover_together(check):
    got = findings(check, term("most", destinations=["203.0.113.0/24"], destination_exclude=["203.0.113.10"]),
                   term("the-one", destinations=["203.0.113.10"]), term("all", destinations=["203.0.113.0/24"]),
                   term("rest", "deny", log=True))
    assert any(r == "NC202" and "term all" in m and "most, the-one" in m for r, m in got)


def test_connection_state_tcp_flags_fragments_dscp_and_hop_limit_are_dimensions(check):
    got = findings(check,
                   term("replies", connection_state=["established", "related"]),
                   term("est", "deny", connection_state=["established"], protocols=["tcp"]),
                   term("new", "deny", connection_state=["new"], protocols=["tcp"]),
                   term("syn", protocols=["tcp"], tcp_flags={"syn": True}),
                   term("syn-ack", "deny", protocols=["tcp"], tcp_flags={"syn": True, "ack": True}),
                   term("ack-only", "deny", protocols=["tcp"], tcp_flags={"syn": False, "ack": True}),
                   term("frags", "deny", fragment="non-first"),
                   term("frag-web", fragment="non-first", destinations=["203.0.113.0/24"]),
                   term("first", fragment="first", destinations=["203.0.113.0/24"]),
                   term("voice", dscp=["ef", "af41"], protocols=["udp"]),
                   term("ef-only", "deny", dscp=["ef"], protocols=["udp"]),
                   term("cs1", "deny", dscp=["cs1"], protocols=["udp"]),
                   term("short", "deny", hop_limit="0-5"),
                   term("one", hop_limit=1),
                   term("six", hop_limit=6),
                   term("rest", "deny", log=True))
    dead = {m.split()[1] for r, m in got if r in ("NC201", "NC202")}
    assert dead == {"est", "syn-ack", "frag-web", "ef-only", "one"}


@st.composite
def small_term(draw):
    t: dict = {"name": f"t{draw(st.integers(0, 10**6))}", "action": draw(st.sampled_from(["accept", "deny"]))}
    if draw(st.booleans()):
        t["protocols"] = ["icmp"]
        if draw(st.booleans()):
            t["icmp_types"] = draw(st.lists(st.sampled_from([0, 3, 8]), min_size=1, max_size=2, unique=True))
    elif draw(st.booleans()):
        t["protocols"] = ["tcp"]
        if draw(st.booleans()):
            t["tcp_flags"] = draw(st.dictionaries(st.sampled_from(["syn", "ack"]), st.booleans(), min_size=1))
    if draw(st.booleans()):
        t["connection_state"] = draw(st.lists(st.sampled_from(["new", "established", "related"]), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        t["sources"] = [draw(st.sampled_from(["10.0.0.0/30", "10.0.0.0/31", "10.0.0.2/31", "10.0.0.1"]))]
        if draw(st.booleans()):
            t["source_exclude"] = [draw(st.sampled_from(["10.0.0.1", "10.0.0.2/31"]))]
    if draw(st.booleans()):
        t["dscp"] = draw(st.lists(st.sampled_from([0, 46]), min_size=1, max_size=1))
    return t


# Brute force over one representative packet of every class the random terms can tell apart: sources
# 10.0.0.0-3 and one outside them, ICMP types 0/3/8 and another, TCP with each SYN/ACK combination, UDP,
# the states terms name and one they never name, the DSCP values they name and another.
PACKETS = list(itertools.product(range(5), ["icmp0", "icmp3", "icmp8", "icmp11", "tcp00", "tcp01", "tcp10", "tcp11", "udp"],
                                 ["new", "established", "related", "invalid"], [0, 46, 10]))


def _matches(r, p) -> bool:
    src, kind, state, dscp = p
    addr = ipaddress.ip_address(f"10.0.0.{src}")
    if r.sources and not any(addr in n for n in r.sources):
        return False
    if any(addr in n for n in r.source_excludes):
        return False
    if r.states and state not in r.states:
        return False
    if r.dscp and dscp not in r.dscp:
        return False
    if r.specs:
        ok = False
        for s in r.specs:
            if s.protocol == "icmp" and kind.startswith("icmp"):
                ok |= not s.icmp_types or int(kind[4:]) in s.icmp_types
            if s.protocol == "tcp" and kind.startswith("tcp"):
                f = r.tcp_flags
                ok |= f is None or ((f.syn is None or f.syn == (kind[3] == "1")) and (f.ack is None or f.ack == (kind[4] == "1")))
        if not ok:
            return False
    return True


def _decide(rules, p):
    for i, r in enumerate(rules):
        if _matches(r, p):
            return i, r.action
    return None, "deny"


@settings(max_examples=200, deadline=None)
@given(st.lists(small_term(), min_size=1, max_size=6))
def test_new_dimensions_agree_with_brute_force(terms):
    store = ObjectStore()
    rules = [next(r for r in term_rules(Term.model_validate(t), store) if r.family == "ipv4") for t in terms]
    dims = used_dims(rules)
    for r in rules:
        assert len(rule_boxes(r, dims)) <= rule_box_count(r, dims)
    items = [Item(rule_boxes(r, dims), r.action) for r in rules]
    got = {res.index: res.verdict for res in analyse(items, "deny", FW_PREFIX_DIMS["ipv4"])
           if res.verdict in ("shadowed", "redundant")}
    truth = {}
    for i, r in enumerate(rules):
        mine = [p for p in PACKETS if _matches(r, p)]
        if not mine or any(_decide(rules, p)[0] == i for p in mine):
            continue
        truth[i] = "redundant" if all(_decide(rules, p)[1] == r.action for p in mine) else "shadowed"
    assert got == truth
