"""Credentials as networks use them: passwords, enable secrets and users from CI/CD variables (most
specific first), ssh-agent, an OpenSSH config with a strictly checked ProxyJump; host keys always strict."""

from __future__ import annotations

import os
import shlex

import pytest

from pipeline import connect as C
from pipeline.errors import DeviceError
from pipeline.inventory import Inventory

HOSTS = """\
core-1:
  hostname: 198.18.40.1
  groups: [core-ios]
  data: {role: core}
edge-1:
  hostname: 198.18.40.2
  groups: [edge]
  data: {role: edge}
lab-r1:
  hostname: 198.18.40.3
  platform: frr
  username: netchange
  data: {role: edge}
"""
GROUPS = """\
core-ios:
  platform: cisco_ios
  username: tacacs-core
  groups: [ios-all]
ios-all:
  platform: cisco_ios
edge:
  platform: eos
  connection_options:
    netmiko:
      extras: {conn_timeout: 30, ssh_strict: false, system_host_keys: true, fast_cli: false}
"""


@pytest.fixture
def inv(tmp_path, monkeypatch):
    for k in list(os.environ):
        if k.startswith(("NETCHANGE_", "SSH_AUTH_SOCK")):
            monkeypatch.delenv(k)
    (tmp_path / "hosts.yaml").write_text(HOSTS)
    (tmp_path / "groups.yaml").write_text(GROUPS)
    kh = tmp_path / "known_hosts"
    kh.write_text("")
    monkeypatch.setenv("NETCHANGE_KNOWN_HOSTS", str(kh))
    return Inventory(tmp_path)


def test_variable_names_follow_gitlab_rules():
    assert C.variable_name("NETCHANGE_SSH_PASSWORD", "group", "core-ios") == "NETCHANGE_SSH_PASSWORD_GROUP_CORE_IOS"
    assert C.variable_name("NETCHANGE_ENABLE_SECRET", "host", "edge1.dc2") == "NETCHANGE_ENABLE_SECRET_HOST_EDGE1_DC2"


def test_most_specific_variable_wins(inv, monkeypatch):
    core = inv.hosts["core-1"]
    assert core.group_chain == ("core-ios", "ios-all")  # inherited groups, nornir's order
    assert C.credentials(core).password is None
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD", "global-pw")
    assert C.credentials(core).password == "global-pw"
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD_GROUP_IOS_ALL", "parent-group-pw")
    assert C.credentials(core).password == "parent-group-pw"
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD_GROUP_CORE_IOS", "group-pw")
    assert C.credentials(core).password == "group-pw"
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD_HOST_CORE_1", "host-pw")
    assert C.credentials(core).password == "host-pw"
    assert C.credentials(inv.hosts["edge-1"]).password == "global-pw"
    assert "pw" not in repr(C.credentials(core))  # secrets stay out of reprs


def test_usernames_per_group_from_the_inventory_or_the_environment(inv, monkeypatch):
    assert C.credentials(inv.hosts["core-1"]).username == "tacacs-core"
    assert C.credentials(inv.hosts["lab-r1"]).username == "netchange"
    monkeypatch.setenv("NETCHANGE_SSH_USER", "svc-netchange")
    assert C.credentials(inv.hosts["core-1"]).username == "svc-netchange"
    monkeypatch.setenv("NETCHANGE_SSH_USER_GROUP_EDGE", "svc-edge")
    assert C.credentials(inv.hosts["edge-1"]).username == "svc-edge"


def test_netmiko_parameters_keep_host_keys_strict_whatever_the_inventory_says(inv, monkeypatch):
    with pytest.raises(DeviceError, match="no SSH username"):
        C.netmiko_params(inv.hosts["edge-1"])
    monkeypatch.setenv("NETCHANGE_SSH_USER", "svc")
    with pytest.raises(DeviceError, match="no way to log in"):
        C.netmiko_params(inv.hosts["edge-1"])
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD", "pw-123456")
    monkeypatch.setenv("NETCHANGE_ENABLE_SECRET_GROUP_EDGE", "en-123456")
    p = C.netmiko_params(inv.hosts["edge-1"])
    assert p["device_type"] == "arista_eos" and p["password"] == "pw-123456" and p["secret"] == "en-123456"
    assert p["conn_timeout"] == 30 and p["fast_cli"] is False  # the inventory's tuning applies
    assert p["ssh_strict"] is True and p["system_host_keys"] is False and p["alt_host_keys"] is True
    assert p["allow_agent"] is False and p["use_keys"] is False
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/agent.sock")
    monkeypatch.delenv("NETCHANGE_SSH_PASSWORD")
    assert C.netmiko_params(inv.hosts["edge-1"])["allow_agent"] is True  # the agent alone is a way in
    monkeypatch.delenv("NETCHANGE_KNOWN_HOSTS")
    with pytest.raises(DeviceError, match="known_hosts"):
        C.netmiko_params(inv.hosts["edge-1"])


def test_proxyjump_from_ssh_config_is_checked_strictly(inv, tmp_path, monkeypatch):
    cfg = tmp_path / "ssh_config"
    cfg.write_text("Host 198.18.40.2\n  HostName 198.18.41.2\n  ProxyJump jumper@bastion.example.net:2222\n"
                   "Host 198.18.40.1\n  ProxyJump a.example.net,b.example.net\n")
    monkeypatch.setenv("NETCHANGE_SSH_CONFIG", str(cfg))
    monkeypatch.setenv("NETCHANGE_SSH_KEY", str(tmp_path / "id"))
    (tmp_path / "id").write_text("not read here")
    p = C.netmiko_params(inv.hosts["edge-1"], C.Credentials(username="svc", key=tmp_path / "id",
                                                            known_hosts=tmp_path / "known_hosts"))
    assert p["host"] == "198.18.41.2" and p["port"] == 22
    argv = shlex.split(p["proxy_command"])
    assert argv[0] == "ssh" and "StrictHostKeyChecking=yes" in argv and "BatchMode=yes" in argv
    assert f"UserKnownHostsFile={tmp_path / 'known_hosts'}" in argv and "GlobalKnownHostsFile=/dev/null" in argv
    assert argv[-3:] == ["-W", "198.18.41.2:22", "bastion.example.net"]
    assert argv[argv.index("-l") + 1] == "jumper" and argv[argv.index("-p") + 1] == "2222"
    with pytest.raises(DeviceError, match="one jump host"):
        C.netmiko_params(inv.hosts["core-1"], C.Credentials(username="svc", key=tmp_path / "id",
                                                            known_hosts=tmp_path / "known_hosts"))


class FakeSession:
    def __init__(self, enable_fails: bool = False):
        self.enabled = 0
        self.enable_fails = enable_fails
        self.closed = False

    def enable(self):
        self.enabled += 1
        if self.enable_fails:
            raise ValueError("Failed to enter enable mode. Please ensure you pass the 'secret' argument")

    def disconnect(self):
        self.closed = True


def test_enable_mode_with_the_secret_on_platforms_that_have_one(inv, monkeypatch):
    opened: list[dict] = []
    session = FakeSession()
    monkeypatch.setattr(C, "_open", lambda params, sock=None: opened.append(params) or session)
    monkeypatch.setenv("NETCHANGE_SSH_PASSWORD", "pw-123456")
    with C.connect(inv.hosts["core-1"]):
        pass
    assert session.enabled == 0 and session.closed  # no secret: the login's own privilege
    monkeypatch.setenv("NETCHANGE_ENABLE_SECRET", "en-123456")
    with C.connect(inv.hosts["core-1"]):
        pass
    assert session.enabled == 1 and opened[-1]["secret"] == "en-123456"
    with C.connect(inv.hosts["lab-r1"]):  # FRR's vtysh has no enable mode
        pass
    assert session.enabled == 1
    monkeypatch.setattr(C, "_open", lambda params, sock=None: FakeSession(enable_fails=True))
    with pytest.raises(DeviceError) as e:
        with C.connect(inv.hosts["core-1"]):
            pass
    assert "enable" in str(e.value) and "en-123456" not in str(e.value)
