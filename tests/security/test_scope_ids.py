"""Issue 11 item 1: an IPv6 scope ID carried a command of its own into every platform's config.

Python's ipaddress accepts `fe80::1%<anything>`, newlines included, and prints the scope back. Every
address and prefix field now refuses a scope, with file, line and field; the printer refuses any value
with a line break even if a model was built without validation."""

from __future__ import annotations

import ipaddress
import json

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.errors import InputError
from pipeline.inventory import Inventory
from pipeline.model.policy import DevicePolicy
from pipeline.model.routing import Match, RouteMap, RouteMapEntry, SetClause
from pipeline.plan import ops as O

from .conftest import FLEET, PLATFORM_HOSTS

# The exact payload of the issue, and its firewall twin (nftables: close the chain and the table, flush).
ROUTING_PAYLOAD = r"fe80::1%x\nno router bgp 65001\nrouter bgp 65001"
FIREWALL_PAYLOAD = r"fe80::1%x\n}\n}\nflush ruleset"
INJECTED = ("no router bgp", "flush ruleset")

CHANGE = f"""id: CHG-0666
title: next hop
requested_by: tester
targets: {{hosts: [{", ".join(PLATFORM_HOSTS)}]}}
routing:
  route_maps:
    - name: RM1
      entries:
        - seq: 10
          action: permit
          set: {{next_hop: "{ROUTING_PAYLOAD}"}}
"""
FIELD = "routing.route_maps[0].entries[0].set.next_hop"

FIREWALL_CHANGE = f"""id: CHG-0667
title: source
requested_by: tester
targets: {{hosts: [{", ".join(PLATFORM_HOSTS)}]}}
firewall:
  filters:
    - name: F1
      attach: [server-edge]
      terms:
        - name: t1
          sources: ["{FIREWALL_PAYLOAD}"]
          action: accept
"""


def _finding(cli, path):
    code, out, err = cli("validate", str(path), "--format", "json", "--project", str(path.parents[2]))
    assert code == 1 and "Traceback" not in err
    (f,) = json.loads(out)["files"][0]["findings"]
    return f


def test_issue_payload_is_refused_by_validate_with_file_line_and_field(project, cli):
    f = _finding(cli, project("CHG-0666", CHANGE))
    assert f["rule"] == "NC004" and f["file"].endswith("CHG-0666.yaml")
    assert (f["line"], f["field"]) == (11, FIELD)
    assert "scope" in f["message"]


def test_issue_payload_is_refused_in_the_text_report_too(project, cli):
    code, out, err = cli("validate", str(f := project("CHG-0666", CHANGE)), "--project", str(f.parents[2]))
    assert code == 1 and "NC004" in out and FIELD in out and "11:" in out
    assert "\nno router bgp" not in out  # the value is shown escaped, never as a line of its own


@pytest.mark.parametrize("host", sorted(PLATFORM_HOSTS))
@pytest.mark.parametrize("change_id, text", [("CHG-0666", CHANGE), ("CHG-0667", FIREWALL_CHANGE)])
def test_render_refuses_the_payload_on_every_platform(project, cli, host, change_id, text):
    code, out, err = cli("render", str(project(change_id, text)), "--host", host)
    assert code == 2, (code, out, err)
    assert out == "" and not any(bad in out for bad in INJECTED)
    assert f"{change_id}.yaml:" in err and ("set.next_hop" in err or "sources[0]" in err) and "scope" in err
    assert "Traceback" not in err


def test_plan_refuses_the_payload(project, cli, tmp_path):
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    for host, platform in PLATFORM_HOSTS.items():  # empty running configs: the plan would print every line
        (snapshots / (f"{host}.json" if platform == "nftables" else f"{host}.cfg")).write_text(
            '{"nftables": []}' if platform == "nftables" else "")
    for change_id, text in (("CHG-0666", CHANGE), ("CHG-0667", FIREWALL_CHANGE)):
        code, out, err = cli("plan", str(project(change_id, text)), "--snapshots", str(snapshots))
        assert code == 2, (code, out, err)
        assert not any(bad in out for bad in INJECTED) and "scope" in err and "Traceback" not in err


@pytest.mark.parametrize("body, field", [
    ("routing:\n  bindings: [{neighbor: \"2001:db8:12::2%x\\nclear bgp *\", afi: ipv6, direction: in, route_map: RM}]\n",
     "routing.bindings[0].neighbor"),
    ("verify:\n  routes: [{device: r1, prefix: \"2001:db8::%x\\nclear bgp */32\"}]\n", "verify.routes[0].prefix"),
    ("verify:\n  routes: [{device: r1, prefix: \"2001:db8::/32%eth0\"}]\n", "verify.routes[0].prefix"),
    ("verify:\n  routes: [{device: r1, prefix: 2001:db8::/32, attributes: {next_hop: \"fe80::1%lo\"}}]\n",
     "verify.routes[0].attributes.next_hop"),
    ("verify:\n  traffic: [{name: t, source: \"fe80::1%x\\nid\", destination: srv1, expect: allowed}]\n",
     "verify.traffic[0].source"),
])
def test_every_address_field_refuses_a_scope(project, cli, body, field):
    text = "id: CHG-0668\ntitle: t\nrequested_by: t\ntargets: {hosts: [r1]}\n" + body
    f = _finding(cli, project("CHG-0668", text))
    assert f["rule"] == "NC004" and f["field"] == field and f["line"] and "scope" in f["message"], f


def test_inventory_neighbor_address_refuses_a_scope(tmp_path):
    """The inventory's neighbor addresses reach `show bgp ... neighbors <address> ...` on the device."""
    inv = tmp_path / "inventory"
    inv.mkdir()
    text = (FLEET / "hosts.yaml").read_text()
    assert "- {address: 198.51.100.2, remote_as: 65002" in text
    (inv / "hosts.yaml").write_text(text.replace("- {address: 198.51.100.2, remote_as: 65002",
                                                 '- {address: "2001:db8:12::2%x\\nclear bgp *", remote_as: 65002', 1))
    for f in ("groups.yaml", "defaults.yaml"):
        (inv / f).write_text((FLEET / f).read_text())
    with pytest.raises(InputError) as e:
        Inventory(inv)
    (loc, msg), *_ = e.value.problems
    assert loc.file.endswith("hosts.yaml") and loc.line == 13 and loc.field == "r1.data.bgp.neighbors[0].address"
    assert "scope" in msg


def _unvalidated_route_map() -> RouteMap:
    hop = ipaddress.IPv6Address("fe80::1%x\nno router bgp 65001\nrouter bgp 65001")  # what ipaddress accepts
    entry = RouteMapEntry.model_construct(seq=10, action="permit", description=None, match=Match(),
                                          set=SetClause.model_construct(next_hop=hop), continue_=None)
    return RouteMap.model_construct(name="RM1", description=None, state="present", entries=(entry,))


@pytest.mark.parametrize("platform", ["frr", "cisco_ios", "arista_eos", "aruba_aoscx", "juniper_junos"])
def test_objects_built_without_validation_are_refused_by_the_driver(platform, fleet):
    host = fleet.hosts[next(h for h, p in PLATFORM_HOSTS.items() if p == platform)]
    with pytest.raises(UnsupportedConstruct):
        get_driver(platform).render_ops([O.Create("route_map", "RM1", _unvalidated_route_map())], DevicePolicy(), host)


@pytest.mark.parametrize("platform", ["frr", "cisco_ios", "arista_eos", "aruba_aoscx", "juniper_junos"])
def test_print_gate_refuses_a_line_break_in_any_printed_value(platform, fleet):
    """Straight to the template, past every model check: `{{ s.next_hop }}` must not split into lines."""
    host = fleet.hosts[next(h for h, p in PLATFORM_HOSTS.items() if p == platform)]
    driver = get_driver(platform)
    with pytest.raises(UnsupportedConstruct, match="line break"):
        driver.emit("route_map", _unvalidated_route_map(), driver.context(host))


def test_refresh_commands_refuse_a_scoped_neighbor():
    with pytest.raises(ValueError, match="scope"):
        get_driver("frr").refresh_commands("2001:db8:12::2%x\nclear bgp *", "ipv6", "in")
