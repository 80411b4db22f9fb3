"""nftables parser: `nft -j` JSON mapping (no root needed), and `nft list ruleset` text via a throwaway netns."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from pathlib import Path

import pytest

from pipeline.inventory import Attachment
from pipeline.model.firewall import ServiceSpec
from pipeline.model.policy import Rule
from pipeline.parsers import nftables
from pipeline.parsers.nft_load import NftLoadError
from corpus import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT / "nftables"
CORPUS_FILES = sorted(CORPUS.glob("*")) if CORPUS.is_dir() else []
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="loading nft text needs root (throwaway network namespace)")


def net(s: str):
    return ipaddress.ip_network(s)


def our_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(f"ncp-{os.getpid()}-")]


def text_ruleset(text: str):
    policy = nftables.parse_text_ruleset(text)
    assert our_namespaces() == [], "the throwaway namespace must be gone"
    return policy


# --- JSON, hand-written (what `nft -j list ruleset` prints) ------------------------------------------------

def _match(left: dict, right, op: str = "==") -> dict:
    return {"match": {"op": op, "left": left, "right": right}}


def _payload(protocol: str, field: str) -> dict:
    return {"payload": {"protocol": protocol, "field": field}}


def _doc(*items: dict) -> str:
    return json.dumps({"nftables": [{"metainfo": {"json_schema_version": 1}}, *items]})


def _rule(chain: str, pos: int, expr: list, comment: str | None = None, family: str = "inet",
          table: str = "netchange") -> dict:
    body = {"family": family, "table": table, "chain": chain, "handle": pos, "expr": expr}
    if comment:
        body["comment"] = comment
    return {"rule": body}


MANAGED_JSON = _doc(
    {"table": {"family": "inet", "name": "netchange", "handle": 1}},
    {"chain": {"family": "inet", "table": "netchange", "name": "web", "handle": 1}},
    {"chain": {"family": "inet", "table": "netchange", "name": "forward-hook", "handle": 2, "type": "filter",
               "hook": "forward", "prio": 0, "policy": "accept"}},
    _rule("web", 3, [_match(_payload("ip", "daddr"), {"prefix": {"addr": "203.0.113.0", "len": 24}}),
                     _match(_payload("tcp", "dport"), {"set": [80, 443]}), {"counter": None}, {"accept": None}],
          "term=web-v4"),
    _rule("web", 4, [_match(_payload("ip", "daddr"), {"prefix": {"addr": "203.0.113.0", "len": 24}}),
                     _match(_payload("udp", "dport"), {"range": [1024, 2048]}), {"counter": None}, {"accept": None}],
          "term=web-v4"),
    _rule("web", 5, [_match({"meta": {"key": "l4proto"}}, "tcp"), {"log": None}, {"drop": None}],
          "no-tcp: as the nftables driver writes it"),
    _rule("web", 8, [{"counter": None}, {"drop": None}], "netchange-implicit-deny"),
    _rule("forward-hook", 6, [_match({"meta": {"key": "iifname"}}, "eth0"), {"jump": {"target": "web"}}]),
    _rule("forward-hook", 7, [{"jump": {"target": "web"}}]),
)


def test_managed_table_maps_chains_terms_and_attachments():
    p = nftables.parse(MANAGED_JSON)
    assert list(p.filters) == ["web"]
    web = p.filters["web"]
    assert web.rules == (
        Rule(name="web-v4", family="ipv4", destinations=(net("203.0.113.0/24"),), counter=True, action="accept",
             specs=(ServiceSpec(protocol="tcp", destination_ports=(80, 443)),
                    ServiceSpec(protocol="udp", destination_ports=("1024-2048",)))),
        Rule(name="no-tcp", family="ipv4", specs=(ServiceSpec(protocol="tcp"),), action="deny", log=True,
             description="as the nftables driver writes it"),
        Rule(name="no-tcp", family="ipv6", specs=(ServiceSpec(protocol="tcp"),), action="deny", log=True,
             description="as the nftables driver writes it"),
    )
    assert web.attachments == (Attachment(interface="eth0", direction="in"), Attachment(hook="forward"))
    assert p.skipped == []


def test_unmodellable_rules_are_skipped_with_reasons():
    chain = {"chain": {"family": "ip", "table": "t", "name": "c", "handle": 1}}
    p = nftables.parse(_doc(
        {"table": {"family": "ip", "name": "t", "handle": 1}}, chain,
        {"set": {"family": "ip", "table": "t", "name": "blocked", "type": "ipv4_addr", "handle": 2}},
        _rule("c", 1, [_match(_payload("ip", "saddr"), "@blocked"), {"drop": None}], family="ip", table="t"),
        _rule("c", 2, [{"counter": None}], family="ip", table="t"),
        _rule("c", 3, [_match({"ct": {"key": "state"}}, ["established", "related"], "in"), {"accept": None}],
              family="ip", table="t"),
        _rule("c", 4, [_match(_payload("ip", "saddr"), {"set": [{"range": ["10.0.0.0", "10.0.1.255"]}, "10.9.9.9"]}),
                       _match(_payload("icmp", "type"), "echo-request"), {"reject": None}],
              "allow pings", family="ip", table="t"),
        {"table": {"family": "bridge", "name": "br", "handle": 3}},
    ))
    c = p.filters["ip/t/c"]
    assert c.rules == (
        Rule(name="rule-3", family="ipv4", states=("established", "related"), action="accept"),
        Rule(name="rule-4", family="ipv4", sources=(net("10.0.0.0/23"), net("10.9.9.9/32")),
             specs=(ServiceSpec(protocol="icmp", icmp_types=(8,)),), action="reject", description="allow pings"),
    )
    text = "\n".join(p.skipped)
    assert "rule 1 (handle 1): not modelled, rule skipped (payload ip saddr uses named set/map @blocked): " \
           "'ip saddr @blocked drop'" in text
    assert "rule 2 (handle 2): not modelled, rule skipped (no verdict" in text
    assert "rule 3" not in text and "rule 4" not in text  # conntrack state and ICMP types are modelled (issue 16)
    assert "nft bridge table br: family bridge not modelled" in text


def test_not_json_is_a_note_not_an_exception():
    p = nftables.parse("table inet x { }")
    assert p.counts()["filter"] == 0 and "not JSON" in p.skipped[0]


# Found by the fuzz suite (each raised on the old code: RecursionError, TypeError, AttributeError).
_T = {"family": "inet", "table": "netchange"}


@pytest.mark.parametrize("doc, note", [
    ('{"nftables": ' + "[" * 100000 + "]" * 100000 + "}", "nested too deeply"),
    (json.dumps({"nftables": [{"chain": {**_T, "name": "F1", "handle": 1}},
                              {"rule": {**_T, "chain": {"x": 1}, "expr": [{"accept": None}]}}]}), "not text"),
    (json.dumps({"nftables": [{"chain": {"family": ["inet"], "table": "netchange", "name": "F1"}}]}), "not text"),
    ('{"nftables": true}', "not a list"),  # the confirmation run: TypeError: 'bool' object is not iterable
])
def test_odd_json_shapes_are_notes_not_exceptions(doc, note):
    p = nftables.parse(doc)
    assert any(note in s for s in p.skipped), p.skipped


@pytest.mark.parametrize("expr", [[{"match": 1.5}, {"accept": None}],
                                  [{"match": {"op": "==", "left": {"payload": 7}, "right": 1}}, {"accept": None}],
                                  [{"jump": "F2"}],
                                  # the long run (each raised on the code it ran): TypeError, AttributeError
                                  7, True, [{"jump": {"target": {"x": 1}}}],
                                  [{"match": {"op": "==", "left": {"meta": {"key": {"k": 1}}}, "right": "x"}}, {"accept": None}]])
def test_a_statement_of_an_unexpected_type_skips_the_rule_with_a_note(expr):
    doc = {"nftables": [{"table": {"family": "inet", "name": "netchange"}}, {"chain": {**_T, "name": "F1", "handle": 1}},
                        {"rule": {**_T, "chain": "F1", "comment": "x", "expr": expr}}]}
    p = nftables.parse(json.dumps(doc))
    assert any("not modelled" in s for s in p.skipped), p.skipped  # skipped, or noted as broader than on the host


def test_an_empty_item_and_a_jump_to_no_name_in_a_base_chain_are_skipped():
    doc = {"nftables": [{}, {"table": {"family": "inet", "name": "netchange"}},
                        {"chain": {**_T, "name": "hook-input", "handle": 1, "type": "filter", "hook": "input", "prio": 0,
                                   "policy": "accept"}},
                        {"rule": {**_T, "chain": "hook-input", "expr": [{"jump": {"target": {"x": 1}}}]}}]}
    p = nftables.parse(json.dumps(doc))  # was StopIteration (plan: RuntimeError) and TypeError: unhashable dict
    assert any("base chain rule other than" in s for s in p.skipped), p.skipped


def test_a_rule_comment_that_is_not_text_is_no_name():
    doc = {"nftables": [{"table": {"family": "inet", "name": "netchange"}}, {"chain": {**_T, "name": "F1", "handle": 1}},
                        {"rule": {**_T, "chain": "F1", "comment": 1.5, "expr": [{"accept": None}]}}]}
    assert {r.name for r in nftables.parse(json.dumps(doc)).filters["F1"].rules} == {"rule-1"}


def test_text_needs_root_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NftLoadError, match="needs root"):
        nftables.parse_text_ruleset("table inet x { }")


# --- text through a throwaway namespace -------------------------------------------------------------------

MANAGED_TEXT = """
table inet netchange {
    chain web {
        ip daddr 203.0.113.0/24 tcp dport { 80, 443 } counter accept comment "term=web-v4"
        ip daddr 203.0.113.0/24 udp dport 1024-2048 counter accept comment "term=web-v4"
        meta l4proto tcp log drop comment "no-tcp: as the nftables driver writes it"
        counter drop comment "netchange-implicit-deny"
    }
    chain forward-hook {
        type filter hook forward priority 0; policy accept;
        iifname "eth0" jump web
        jump web
    }
}
"""


@needs_root
def test_text_and_json_of_the_same_ruleset_agree():
    from_text = text_ruleset(MANAGED_TEXT)
    from_json = nftables.parse(MANAGED_JSON)
    assert list(from_text.items()) == list(from_json.items())


@pytest.mark.skipif(not CORPUS_FILES, reason=f"corpus not found at {CORPUS}")
@needs_root
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_file_parses(path: Path):
    policy = text_ruleset(path.read_text())
    assert policy.filters or policy.skipped


def _corpus(name: str) -> str:
    return (CORPUS / name).read_text()


@needs_root
def test_aerleon_chains_and_rules():
    p = text_ruleset(_corpus("aerleon__sample_nftables.nft.ref"))
    # 7 chains in inet, 13 in ip (allow-anything is defined twice: one chain), 6 in ip6
    assert len(p.filters) == 26
    assert len([n for n in p.filters if n.startswith("ip/")]) == 13
    assert p.filters["ip/filtering_policies/test-src-rdp"].rules == (
        Rule(name="rule-1", family="ipv4", specs=(ServiceSpec(protocol="tcp", source_ports=(3389,)),), states=("new",),
             action="accept", log=True, counter=True),)  # Aerleon's `ct state new` on every accept
    assert p.filters["ip/filtering_policies/root6"].attachments == (Attachment(hook="input"),)
    # inet rule without addresses: one rule per family; with ip addresses: IPv4 only
    assert [r.family for r in p.filters["filtering_policies/ssh-deny"].rules] == ["ipv4", "ipv6"] * 2
    full = p.filters["filtering_policies/full-tuple-term"].rules[0]
    assert full.sources == (net("200.1.1.1/32"), net("200.1.1.2/32"))  # nft merged them into a range
    assert full.specs == (ServiceSpec(protocol="tcp", source_ports=(53,), destination_ports=(53,)),)
    assert sum("jump" in s for s in p.skipped) == 20  # jumps from the 7 base chains
    assert any("line 122" in s and "Second line of defense" in s for s in p.skipped)


@needs_root
def test_example_with_missing_interfaces_and_kernel_refusals():
    p = text_ruleset(_corpus("nftables-upstream__examples__sets_and_maps.nft"))
    assert list(p.filters) == ["ip/filter/input_1", "ip/filter/input_2", "ip/filter/input"]
    assert any("interface eth0 does not exist here" in s for s in p.skipped)
    lb = text_ruleset(_corpus("nftables-upstream__examples__load_balancing.nft"))
    assert any(s.startswith("nft text: lines 12-30 refused") for s in lb.skipped)
    assert any("netdev table mytable" in s for s in lb.skipped)
