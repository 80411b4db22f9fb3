"""Configuration the parsers cannot model is never rewritten (issue 11, items 2 and 10).

A plan touches only the objects the change names; an object holding lines the parser could not model is
refused with those lines (exit 4), never silently rewritten; notes are printed in full in every format.
Each test here fails on the code before this rule: nftables plans re-rendered the whole table, IOS-family
plans overwrote skipped entries, EOS banner text was read as configuration, notes were cut to five.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from pipeline import schemas
from pipeline.drivers import get_driver
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import UnmodelledConfig, plan_device
from pipeline.plan.report import plan_document, to_json, to_markdown, to_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
FW_JSON = (FIXTURES / "fw-unmodelled.json").read_text()

# The rules of chain WEB the model cannot hold, as nft prints them (fixtures/fw-unmodelled.nft). Its
# `ct state established,related accept` and `ip saddr != 198.51.100.0/24 drop` are modelled since issue 16.
WEB_UNMODELLED = ['iifname "lo" accept', "limit rate 10/second accept", "ip saddr @blocklist drop"]


def change(host: str, **sections) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-7001", "title": "t", "requested_by": "tests",
                                         "targets": {"hosts": [host]}, **sections})


def fw_filter(name: str, port: int = 443, attach: tuple[str, ...] = ("server-edge",)) -> dict:
    return {"name": name, "attach": list(attach), "terms": [
        {"name": "web-v4", "destinations": ["203.0.113.0/26"], "protocols": ["tcp"], "destination_ports": [port],
         "action": "accept", "counter": True}]}


def plan(fleet, store, hostname: str, text: str, chg: ChangeRequest):
    host = fleet.hosts[hostname]
    return plan_device(host, get_driver(host.platform), text, chg, store)


def commands_of(p) -> list[str]:
    return [c for c in p.commands if not c.startswith("#")]


# --- nftables -----------------------------------------------------------------------------------------------

def test_nft_plan_of_one_chain_leaves_unmodelled_rules_sets_and_base_chains_alone(fleet, store):
    """SERVER-EDGE changes and a new filter is attached next to it: WEB (iifname lo, limit without a log,
    @blocklist), the set, the policy drop base chains and their own rules, and table ip other are not in
    the file at all. Before: the file deleted and re-rendered the whole table from the model."""
    chg = change("fw1", firewall={"filters": [fw_filter("SERVER-EDGE", 8443), fw_filter("NEW-EDGE", 22)]})
    p = plan(fleet, store, "fw1", FW_JSON, chg)
    cmds = commands_of(p)
    touched = ("SERVER-EDGE", "NEW-EDGE")
    for c in cmds:
        assert "delete table" not in c and "policy" not in c and "@" not in c and "table ip" not in c, c
        assert c == "add table inet netchange" or any(f" {t}" in c for t in touched), c
    assert "WEB" not in "\n".join(cmds) and not any(u in "\n".join(cmds) for u in WEB_UNMODELLED)
    assert "flush chain inet netchange SERVER-EDGE" in cmds and "add chain inet netchange NEW-EDGE" in cmds
    # the new jump goes after netchange's jumps, before the base chain's own closing `counter drop`
    running = get_driver("nftables").parse(FW_JSON)
    closing = running.device.chains["hook-forward"].rules[-1]
    assert closing.text == "counter drop"
    jump = f"insert rule inet netchange hook-forward position {closing.handle} jump NEW-EDGE"
    assert jump in cmds and cmds.index(jump) > cmds.index("add chain inet netchange NEW-EDGE")
    assert not p.refused


def test_nft_plan_touching_a_chain_with_unmodelled_rules_refuses_and_names_each_rule(fleet, store):
    with pytest.raises(UnmodelledConfig) as e:
        plan(fleet, store, "fw1", FW_JSON, change("fw1", firewall={"filters": [fw_filter("WEB")]}))
    refused = e.value.plan.refused
    assert [r["line"] for r in refused] == WEB_UNMODELLED
    assert {(r["kind"], r["name"]) for r in refused} == {("filter", "WEB")}
    assert e.value.plan.commands == [] and e.value.exit_code == 4
    for line in WEB_UNMODELLED:
        assert line in str(e.value)


def test_nft_chain_without_the_closing_drop_is_not_rewritten(fleet, store):
    """A chain of the netchange table that lets unmatched packets return to its caller: a rewrite would add
    netchange's implicit deny, so touching it is refused."""
    doc = json.loads(FW_JSON)
    doc["nftables"] = [i for i in doc["nftables"]
                       if not ("rule" in i and i["rule"]["chain"] == "SERVER-EDGE" and i["rule"].get("comment") == "netchange-implicit-deny")]
    with pytest.raises(UnmodelledConfig, match="does not end in netchange's closing drop"):
        plan(fleet, store, "fw1", json.dumps(doc), change("fw1", firewall={"filters": [fw_filter("SERVER-EDGE", 8443)]}))


def test_nft_base_chain_jump_with_conditions_is_kept_and_blocks_deleting_its_target(fleet, store):
    from pipeline.drivers.render import UnsupportedConstruct

    doc = json.loads(FW_JSON)
    for i in doc["nftables"]:
        if "rule" in i and i["rule"]["chain"] == "hook-forward" and i["rule"]["expr"] == [{"jump": {"target": "SERVER-EDGE"}}]:
            i["rule"]["expr"].insert(0, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}})
    gone = change("fw1", firewall={"filters": [{"name": "SERVER-EDGE", "state": "absent"}]})
    with pytest.raises(UnsupportedConstruct, match="meta l4proto tcp jump SERVER-EDGE"):
        plan(fleet, store, "fw1", json.dumps(doc), gone)


# --- IOS family and Junos -----------------------------------------------------------------------------------

HOST_BITS = {  # a prefix-list entry with host bits set (the parser skips it) in each platform's own syntax
    "ios1": "ip prefix-list PL-A seq 5 permit 198.51.100.0/24\nip prefix-list PL-A seq 10 permit 10.0.0.1/8\n",
    "r1": "ip prefix-list PL-A seq 5 permit 198.51.100.0/24\nip prefix-list PL-A seq 10 permit 10.0.0.1/8\n",
    "cx1": "ip prefix-list PL-A seq 5 permit 198.51.100.0/24\nip prefix-list PL-A seq 10 permit 10.0.0.1/8\n",
    "eos1": "ip prefix-list PL-A\n   seq 5 permit 198.51.100.0/24\n   seq 10 permit 10.0.0.1/8\n",
}
PL_A = {"name": "PL-A", "entries": [{"seq": 5, "action": "permit", "prefix": "198.51.100.0/24"},
                                    {"seq": 10, "action": "permit", "prefix": "10.0.0.0/8"}]}
PL_C = {"name": "PL-C", "entries": [{"seq": 5, "action": "permit", "prefix": "203.0.113.0/24"}]}


@pytest.mark.parametrize("hostname", sorted(HOST_BITS))
def test_ios_family_skipped_entry_in_a_touched_list_refuses_instead_of_overwriting(hostname, fleet, store):
    """Before: the plan sent `... seq 10 permit 10.0.0.0/8` over the device's seq 10 with no removal in the diff."""
    with pytest.raises(UnmodelledConfig) as e:
        plan(fleet, store, hostname, HOST_BITS[hostname], change(hostname, routing={"prefix_lists": [PL_A]}))
    (r,) = e.value.plan.refused
    assert (r["kind"], r["name"]) == ("prefix_list", "PL-A") and "10.0.0.1/8" in r["line"] and "host bits" in r["note"]


@pytest.mark.parametrize("hostname", sorted(HOST_BITS))
def test_ios_family_skipped_entry_outside_the_change_is_left_alone(hostname, fleet, store):
    p = plan(fleet, store, hostname, HOST_BITS[hostname], change(hostname, routing={"prefix_lists": [PL_C]}))
    assert p.commands and not p.refused
    assert all("PL-A" not in c for c in p.commands)


def test_ios_acl_line_it_cannot_model_refuses_a_rewrite_of_that_acl(fleet, store):
    text = ("ip access-list extended EDGE\n remark web-v4\n permit tcp any 203.0.113.0 0.0.0.63 eq 443\n"
            " permit tcp any object-group SERVERS eq 22\n")
    with pytest.raises(UnmodelledConfig) as e:
        plan(fleet, store, "ios1", text, change("ios1", firewall={"filters": [fw_filter("EDGE")]}))
    assert [r["line"] for r in e.value.plan.refused] == ["permit tcp any object-group SERVERS eq 22"]


def test_route_map_clause_it_cannot_model_refuses_an_edit_of_that_route_map(fleet, store):
    text = "route-map RM-A permit 10\n match ip address prefix-list PL-C\n match tag 7\n"
    rm = {"name": "RM-A", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-C"},
                                       "set": {"local_preference": 200}}]}
    with pytest.raises(UnmodelledConfig) as e:
        plan(fleet, store, "ios1", text, change("ios1", routing={"prefix_lists": [PL_C], "route_maps": [rm]}))
    assert [(r["kind"], r["name"], r["line"]) for r in e.value.plan.refused] == [("route_map", "RM-A", "match tag 7")]


def test_versioned_copy_of_a_route_map_with_unmodelled_clauses_is_refused(fleet, store):
    """Versioned plans rebuild every route-map that uses a touched list under a new name: a route-map the
    change does not name is still copied, so its unmodelled clause would be lost."""
    text = ("ip prefix-list PL-C seq 5 permit 198.51.100.0/24\n"
            "route-map RM-A permit 10\n match ip address prefix-list PL-C\n match tag 7\n")
    chg = change("ios1", routing={"prefix_lists": [PL_C]})
    with pytest.raises(UnmodelledConfig) as e:
        plan_device(fleet.hosts["ios1"], get_driver("cisco_ios"), text, chg, store, strategy="versioned")
    assert [r["line"] for r in e.value.plan.refused] == ["match tag 7"]


def test_junos_statement_it_cannot_model_refuses_a_rewrite_of_that_policy(fleet, store):
    text = ("set policy-options prefix-list PL-C 203.0.113.0/24\n"
            "set policy-options policy-statement RM-A term 10 from prefix-list PL-C\n"
            "set policy-options policy-statement RM-A term 10 to neighbor 198.51.100.2\n"
            "set policy-options policy-statement RM-A term 10 then accept\n"
            "set policy-options policy-statement RM-B term 10 then reject\n")
    rm = lambda name: {"name": name, "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-C"},  # noqa: E731
                                                  "set": {"local_preference": 200}}]}
    with pytest.raises(UnmodelledConfig, match="RM-A term 10: 'to' conditions not modelled"):
        plan(fleet, store, "junos1", text, change("junos1", routing={"prefix_lists": [PL_C], "route_maps": [rm("RM-A")]}))
    p = plan(fleet, store, "junos1", text, change("junos1", routing={"prefix_lists": [PL_C], "route_maps": [rm("RM-B")]}))
    assert p.commands and all("RM-A" not in c for c in p.commands)


# --- banners (item 10) --------------------------------------------------------------------------------------

def test_eos_banner_text_is_not_configuration(fleet, store):
    """EOS prints banners without a delimiter, ending at a line `EOF`: text inside is not a prefix-list.
    Before: the banner's text was parsed, and the plan said "no change" for a list the device lacks."""
    text = ("banner motd\nip prefix-list PL-C\n   seq 5 permit 203.0.113.0/24\nEOF\n"
            "ip prefix-list PL-OTHER\n   seq 5 permit 198.51.100.0/24\n")
    assert set(get_driver("arista_eos").parse(text).prefix_lists) == {"PL-OTHER"}
    p = plan(fleet, store, "eos1", text, change("eos1", routing={"prefix_lists": [PL_C]}))
    assert any(c.startswith("ip prefix-list PL-C") for c in p.commands), p.commands


def test_frr_one_line_banner_does_not_swallow_the_config(fleet, store):
    """FRR's `banner motd line TEXT` is one line. Before, its first letter was taken for a delimiter and
    everything after it was read as banner text: the plan re-created a list the device has."""
    text = "banner motd line Hi\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\n"
    p = plan(fleet, store, "r1", text, change("r1", routing={"prefix_lists": [PL_C]}))
    assert p.empty, p.commands


@pytest.mark.parametrize("platform,text", [
    ("cisco_ios", "banner motd ^C\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\n^C\n"),
    ("aruba_aoscx", "banner motd !\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\n!\n"),
    ("cisco_nxos", "banner motd #\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\n#\n"),
    ("arista_eos", "banner login\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\nEOF\n"),
])
def test_banner_bodies_are_opaque_on_every_dialect(platform, text):
    import importlib

    parser = importlib.import_module(f"pipeline.parsers.{platform}")
    assert parser.parse(text + "ip prefix-list PL-D seq 5 permit 198.51.100.0/24\n").prefix_lists.keys() == {"PL-D"}


def test_an_unclosed_banner_is_reported():
    p = get_driver("arista_eos").parse("banner motd\nip prefix-list PL-C seq 5 permit 203.0.113.0/24\n")
    assert not p.prefix_lists and any("never closed" in s for s in p.skipped)


# --- reports and exit code ----------------------------------------------------------------------------------

def test_every_note_is_in_every_format(fleet, store):
    chg = change("fw1", firewall={"filters": [fw_filter("SERVER-EDGE", 8443)]})
    p = plan(fleet, store, "fw1", FW_JSON, chg)
    assert len(p.skipped) > 5  # the old text report stopped at five
    doc = plan_document(chg, Path("CHG-7001.yaml"), [p], [])
    text, markdown, data = to_text(doc), to_markdown(doc), json.loads(to_json(doc))
    for note in p.skipped:
        assert note in text and note in markdown
    assert data["devices"][0]["skipped"] == [str(s) for s in p.skipped]


def test_refused_lines_are_in_every_format(fleet, store):
    with pytest.raises(UnmodelledConfig) as e:
        plan(fleet, store, "fw1", FW_JSON, change("fw1", firewall={"filters": [fw_filter("WEB")]}))
    doc = plan_document(change("fw1"), Path("CHG-7001.yaml"), [e.value.plan], [])
    text, markdown, data = to_text(doc), to_markdown(doc), json.loads(to_json(doc))
    assert "fw1 (nftables): REFUSED" in text and "Refused on 1 device(s)" in markdown and data["refused"] == ["fw1"]
    for line in WEB_UNMODELLED:
        assert line in text and line in markdown
        assert any(r["line"] == line for r in data["devices"][0]["refused"])
    # the published plan schema describes a refused plan too
    errors = [e.message for e in jsonschema.Draft202012Validator(schemas.schema("plan")).iter_errors(data)]
    assert errors == []


def _project(tmp_path: Path, filter_name: str) -> Path:
    (tmp_path / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(ROOT / "policies" / "objects", tmp_path / "policies" / "objects")
    shutil.copytree(ROOT / "tests" / "fixtures" / "fleet", tmp_path / "inventory")
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "fw1.json").write_text(FW_JSON)
    f = tmp_path / "policies" / "changes" / "CHG-7001.yaml"
    f.write_text("id: CHG-7001\ntitle: t\nrequested_by: t\ntargets: {hosts: [fw1]}\nfirewall:\n  filters:\n"
                 f"    - {{name: {filter_name}, attach: [server-edge], terms: [{{name: t, protocols: [tcp], "
                 "destination_ports: [443], action: accept}]}\n")
    return f


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_plan_cli_exits_4_on_a_refused_device_and_lists_the_lines(fmt, tmp_path, capsys):
    from pipeline.cli import main

    f = _project(tmp_path, "WEB")
    code = main(["plan", str(f), "--snapshots", str(tmp_path / "snap"), "--format", fmt])
    out, err = capsys.readouterr()
    assert code == 4, err
    assert all(line.replace('"', '\\"' if fmt == "json" else '"') in out for line in WEB_UNMODELLED), out
    assert "refused on fw1" in err and "Traceback" not in err
    f = _project(tmp_path / "other", "SERVER-EDGE")
    assert main(["plan", str(f), "--snapshots", str(tmp_path / "other" / "snap"), "--format", fmt]) == 0


def test_rollback_puts_back_only_what_a_plan_could_have_rewritten(fleet):
    """Someone else added a rule to WEB (which holds rules netchange cannot model) while SERVER-EDGE was
    changed: rollback restores SERVER-EDGE and leaves WEB as the host has it (a refill from the model would
    drop WEB's iifname/limit/@set rules)."""
    from pipeline.deploy.device import PushResult
    from pipeline.deploy.restore import restore

    driver = get_driver("nftables")
    original = driver.parse(FW_JSON)
    doc = json.loads(FW_JSON)
    for i in doc["nftables"]:
        if "rule" in i and i["rule"]["chain"] == "SERVER-EDGE" and i["rule"].get("comment") == "web-v4":
            i["rule"]["expr"][1]["match"]["right"] = 8443  # the change under rollback
    doc["nftables"].append({"rule": {"family": "inet", "table": "netchange", "chain": "WEB", "handle": 99,
                                     "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                                                         "right": 25}}, {"accept": None}], "comment": "smtp"}})

    class Session:
        host, pushed = fleet.hosts["fw1"], []

        def __init__(self):
            self.driver = driver

        def fetch(self):
            return json.dumps(doc)

        def push(self, commands, tag):
            self.pushed += commands
            return PushResult(sent=commands)

    s = Session()
    restore(s, original, refresh=False)
    body = [c for c in s.pushed if not c.startswith("#")]
    assert "flush chain inet netchange SERVER-EDGE" in body and not any("WEB" in c for c in body), body


def test_objects_an_op_rewrites_are_found_by_name_whatever_carries_it():
    """_rewritten names the objects whose unmodelled lines refuse a plan: a model class without a `name` is
    learnt nameless once (planner._name_of), anything else is still asked."""
    from dataclasses import dataclass

    from pipeline.model.routing import PrefixList, PrefixListEntry
    from pipeline.plan.ops import ModifyEntry, ReplaceFilter
    from pipeline.plan.planner import _rewritten

    @dataclass(frozen=True)
    class Named:
        name: str

    old = PrefixListEntry(seq=5, action="permit", prefix="198.18.0.0/24")
    new = old.model_copy(update={"action": "deny"})
    pl = PrefixList(name="PL-A", entries=(new,))
    ops = [ModifyEntry("prefix_list", "PL-A", pl, old, new), ModifyEntry("prefix_list", "PL-B", pl, old, new),
           ReplaceFilter("filter", "F-NEW", Named("F-OLD"), PrefixList.model_construct(entries=()))]
    assert _rewritten(ops, None) == {("prefix_list", "PL-A"), ("prefix_list", "PL-B"), ("filter", "F-NEW"), ("filter", "F-OLD")}
