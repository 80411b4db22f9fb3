"""A nornir user's own inventory works as it is: no `data.driver` (it follows nornir's `platform`), any
inventory plugin through netchange.yaml, connection options as nornir resolves them, errors that say
where, and no secret in inventory files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.inventory import Inventory

from .conftest import REPO

PLAIN = Path(__file__).parent / "plain_nornir"


def project(tmp: Path, inventory_dir: str = "inventory") -> Path:
    """A netchange project around the plain nornir inventory: the repository's policy objects, the change,
    the snapshots; the inventory files under *inventory_dir*."""
    root = tmp / "net"
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    (root / "policies" / "changes").mkdir()
    shutil.copy(PLAIN / "CHG-0310.yaml", root / "policies" / "changes")
    shutil.copytree(PLAIN / "snapshots", root / "snapshots")
    (root / inventory_dir).mkdir(parents=True)
    for f in ("hosts.yaml", "groups.yaml", "defaults.yaml"):
        shutil.copy(PLAIN / f, root / inventory_dir / f)
    return root


def test_plain_nornir_inventory_validates_and_plans_against_snapshots(tmp_path, run_cli):
    root = project(tmp_path)
    assert "driver:" not in (root / "inventory" / "hosts.yaml").read_text()
    p = run_cli("validate", cwd=root)
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", "--format", "json",
                "-o", "plan.json", "--detailed-exitcode", cwd=root)
    assert p.returncode == 2, p.stdout + p.stderr  # every device changes
    doc = json.loads((root / "plan.json").read_text())
    assert doc["errors"] == []
    assert {d["host"]: d["platform"] for d in doc["devices"]} == {
        "edge-ios-1": "cisco_ios", "edge-eos-1": "arista_eos", "edge-junos-1": "juniper_junos", "fw-1": "nftables"}
    ios = next(d for d in doc["devices"] if d["host"] == "edge-ios-1")
    assert "ip access-group SERVER-EDGE out" in "\n".join(ios["commands"])


def test_driver_follows_the_nornir_platform_unless_set(tmp_path):
    inv = Inventory(project(tmp_path) / "inventory")
    assert {n: h.platform.value for n, h in inv.hosts.items()} == {
        "edge-ios-1": "cisco_ios", "edge-eos-1": "arista_eos", "edge-junos-1": "juniper_junos", "fw-1": "nftables"}
    # an explicit driver wins over the platform (the lab drives FRR's vtysh with netmiko's cisco_ios)
    lab = Inventory(REPO / "inventory")
    assert lab.hosts["r1"].platform.value == "frr"


def test_per_group_username_and_netmiko_options_resolve_as_in_nornir(tmp_path):
    inv = Inventory(project(tmp_path) / "inventory")
    assert inv.hosts["edge-ios-1"].username == "netops"  # from its group
    assert inv.hosts["edge-eos-1"].username == "automation"  # from defaults
    assert inv.hosts["fw-1"].username == "root"  # its own
    assert inv.hosts["edge-ios-1"].group_chain == ("ios",)
    assert inv.hosts["edge-eos-1"].netmiko_extras == {"conn_timeout": 20}


def test_a_broken_inventory_names_file_line_and_field(tmp_path, run_cli):
    root = project(tmp_path)
    hosts = root / "inventory" / "hosts.yaml"
    text = hosts.read_text()
    # Huawei VRP has no driver, and a role that is not an identifier
    hosts.write_text(text.replace("platform: junos", "platform: huawei_vrp").replace("role: edge\n    firewall:\n      attachments:\n"
                                                                               "        server-edge: {hook: forward}",
                                                                               "role: edge router\n    firewall:\n      attachments:\n"
                                                                               "        server-edge: {hook: forward}"))
    p = run_cli("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", cwd=root)
    assert p.returncode == 2, p.stdout + p.stderr
    lines = hosts.read_text().splitlines()
    vrp_line = next(i for i, ln in enumerate(lines, 1) if "platform: huawei_vrp" in ln)
    # the field is data.driver; the line is the platform the user would change (or add a driver beside)
    assert f"hosts.yaml:{vrp_line}:3 [edge-junos-1.data.driver]" in p.stderr, p.stderr
    assert "platform 'huawei_vrp' names no driver" in p.stderr
    role_line = next(i for i, ln in enumerate(lines, 1) if "role: edge router" in ln)
    assert f"hosts.yaml:{role_line}:5 [fw-1.data.role]" in p.stderr, p.stderr
    assert "Traceback" not in p.stderr


def test_another_inventory_plugin_selected_in_netchange_yaml(tmp_path, run_cli):
    """nornir_utils' YAMLInventory, a plugin registered by entry point, chosen in the project's netchange.yaml."""
    root = project(tmp_path, inventory_dir="nornir")
    (root / "netchange.yaml").write_text(
        "inventory:\n"
        "  plugin: YAMLInventory\n"
        "  options:\n"
        "    host_file: nornir/hosts.yaml\n"
        "    group_file: nornir/groups.yaml\n"
        "    defaults_file: nornir/defaults.yaml\n")
    assert not (root / "inventory").exists()
    p = run_cli("validate", cwd=root)
    assert p.returncode == 0, p.stdout + p.stderr
    p = run_cli("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", "--format", "json", cwd=root)
    assert p.returncode == 0, p.stdout + p.stderr
    assert len(json.loads(p.stdout)["devices"]) == 4

    # errors still point into the plugin's files
    hosts = root / "nornir" / "hosts.yaml"
    hosts.write_text(hosts.read_text().replace("platform: eos", "platform: huawei_vrp"))
    p = run_cli("validate", cwd=root)
    assert p.returncode == 2 and "nornir/hosts.yaml:" in p.stderr and "[edge-eos-1.data.driver]" in p.stderr, p.stderr

    (root / "netchange.yaml").write_text("inventory:\n  plugin: NoSuchInventory\n")
    p = run_cli("validate", cwd=root)
    assert p.returncode == 2 and "NoSuchInventory" in p.stderr and "not installed" in p.stderr, p.stderr
    assert "netchange.yaml [inventory.plugin]" in p.stderr and "Traceback" not in p.stderr


def test_secrets_in_inventory_files_are_refused_and_plugin_secrets_kept_hidden(tmp_path, monkeypatch):
    inv_dir = project(tmp_path) / "inventory"
    groups = inv_dir / "groups.yaml"
    groups.write_text(groups.read_text() + "  password: hunter2-in-git\n")
    with pytest.raises(InputError) as e:
        Inventory(inv_dir)
    loc, msg = e.value.problems[0]
    assert loc.file.endswith("groups.yaml") and loc.line == 4 and loc.field == "ios.password"
    assert "hunter2-in-git" not in str(e.value) and "NETCHANGE_SSH_PASSWORD" in msg

    groups.write_text(groups.read_text().replace("  password: hunter2-in-git\n", ""))
    defaults = inv_dir / "defaults.yaml"
    defaults.write_text(defaults.read_text() + "      secret: enable-in-git\n")
    with pytest.raises(InputError) as e:
        Inventory(inv_dir)
    assert e.value.problems[0][0].field == "connection_options.netmiko.extras.secret"

    # a password a transform function supplies at run time (here nornir_utils' load_credentials from the
    # environment) is the plugin's business: kept, and never shown
    defaults.write_text(defaults.read_text().replace("      secret: enable-in-git\n", ""))
    monkeypatch.setenv("NORNIR_PASSWORD", "from-the-vault")
    from pipeline.inventory import InventoryConfig

    inv = Inventory(config=InventoryConfig(options={"host_file": "inventory/hosts.yaml", "group_file": "inventory/groups.yaml",
                                                    "defaults_file": "inventory/defaults.yaml"},
                                           transform_function="load_credentials"), base=inv_dir.parent)
    host = inv.hosts["edge-ios-1"]
    assert host.password.get_secret_value() == "from-the-vault"
    assert "from-the-vault" not in repr(host) and "from-the-vault" not in host.model_dump_json()
