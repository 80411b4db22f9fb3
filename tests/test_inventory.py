"""The inventory: nornir SimpleInventory plus typed host data, with errors that say where."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.errors import InputError
from pipeline.inventory import Inventory

GOOD = """r1:
  hostname: 198.18.0.11
  platform: cisco_ios
  data:
    driver: frr
    bgp:
      asn: 65001
      neighbors:
        - {address: 198.51.100.2, remote_as: 65002}
"""


def test_typed_host_data_loads(tmp_path):
    (tmp_path / "hosts.yaml").write_text(GOOD)
    inv = Inventory(tmp_path)
    r1 = inv.hosts["r1"]
    assert r1.platform.value == "frr" and r1.data.bgp.neighbor("198.51.100.2").remote_as == 65002
    assert inv.select(names=("r1",)) == [r1] and inv.select() == []


def test_bad_host_data_names_file_line_and_field(tmp_path):
    (tmp_path / "hosts.yaml").write_text(GOOD.replace("remote_as: 65002", "remote_as: lots"))
    with pytest.raises(InputError) as e:
        Inventory(tmp_path)
    loc, msg = e.value.problems[0]
    assert loc.file.endswith("hosts.yaml") and loc.line == 9 and "remote_as" in loc.field


def test_unknown_driver_and_broken_yaml_are_clean_errors(tmp_path):
    (tmp_path / "hosts.yaml").write_text(GOOD.replace("driver: frr", "driver: vyos"))
    with pytest.raises(InputError, match="driver"):
        Inventory(tmp_path)
    (tmp_path / "hosts.yaml").write_text("r1:\n  hostname: [unclosed\n")
    with pytest.raises(InputError) as e:
        Inventory(tmp_path)
    assert e.value.problems[0][0].line is not None


def test_inventory_larger_than_the_change_request_size_cap_loads(tmp_path):
    hosts = "".join(GOOD.replace("r1:", f"r{i}:").replace("198.18.0.11", f"198.18.{i // 250}.{i % 250 + 1}")
                    + "  # " + "x" * 2200 + "\n" for i in range(1000))  # > 2 MB
    (tmp_path / "hosts.yaml").write_text(hosts)
    assert len(Inventory(tmp_path).hosts) == 1000


UNUSUAL = """r1:
  hostname: 198.18.0.11
  platform: cisco_ios
  groups: [frr]
  data:
    driver: frr
    built: 2026-12-01
    sinks: [2001:db8:1:3::/64, ::/0]
    flag: yes
    when: 12:30
"""


@pytest.mark.parametrize("hosts", [GOOD.replace("data:", "groups: [frr]\n  data:"), UNUSUAL],
                         ids=["plain", "libyaml-refuses-or-differs"])
def test_fast_inventory_reader_gives_nornirs_inventory(tmp_path, hosts):
    """netchange reads SimpleInventory's files through libyaml only where that plainly gives ruamel's answer;
    anything else (unquoted IPv6 in a flow list, which libyaml refuses; YAML 1.1 words and sexagesimals) goes to
    ruamel as under nornir's own SimpleInventory: the same hosts, groups and data either way."""
    from nornir.plugins.inventory.simple import SimpleInventory

    from pipeline.inventory_yaml import FastSimpleInventory

    (tmp_path / "hosts.yaml").write_text(hosts)
    (tmp_path / "groups.yaml").write_text("frr:\n  platform: cisco_ios\n  data: {site: lab}\n")
    (tmp_path / "defaults.yaml").write_text("username: netops\nconnection_options:\n  netmiko:\n    extras: {fast_cli: true}\n")
    files = {k: str(tmp_path / f"{k.split('_')[0].replace('host', 'hosts').replace('group', 'groups')}.yaml")
             for k in ("host_file", "group_file", "defaults_file")}
    want, got = SimpleInventory(**files).load(), FastSimpleInventory(**files).load()
    assert want.dict() == got.dict()
    assert Inventory(tmp_path).nornir.inventory.dict() == want.dict()



def test_connection_plugins_load_when_a_task_first_asks_for_one(tmp_path):
    """Reading the inventory does not import every connection plugin (netmiko and paramiko: ~0.25 s of each
    `netchange plan --snapshots`), yet a nornir task on `Inventory.nornir` still finds netmiko's where nornir
    looks it up (Host.open_connection asks the register)."""
    (tmp_path / "hosts.yaml").write_text(GOOD)
    code = f"""
import sys
from pipeline.inventory import Inventory
inv = Inventory({str(tmp_path)!r})
assert inv.nornir.inventory.hosts["r1"] and inv.hosts["r1"]
assert "netmiko" not in sys.modules, "reading the inventory imported netmiko"
from nornir.core.plugins.connections import ConnectionPluginRegister
from nornir_netmiko.connections import Netmiko
assert ConnectionPluginRegister.get_plugin("netmiko") is Netmiko
print("ok")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
