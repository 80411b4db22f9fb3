"""Per-host known_hosts: each connection gets only its host's keys (parsed once per process), and a host
with no entry gets the full file, so strict checking still refuses it."""

from __future__ import annotations

import base64
import os

from pipeline.connect import host_known_hosts


def _key_line(name: str) -> str:
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + os.urandom(32)
    return f"{name} ssh-ed25519 {base64.b64encode(blob).decode()}"


def test_each_host_gets_only_its_own_key_and_unknown_hosts_the_full_file(tmp_path):
    lines = [_key_line("198.51.100.1"), _key_line("[198.51.100.2]:2222"), _key_line("198.51.100.3")]
    kh = tmp_path / "known_hosts"
    kh.write_text("\n".join(lines) + "\n")

    one = host_known_hosts(kh, "198.51.100.1", 22)
    assert one != kh and one.read_text().split() == lines[0].split()
    two = host_known_hosts(kh, "198.51.100.2", 2222)
    assert two.read_text().split() == lines[1].split()
    assert host_known_hosts(kh, "198.51.100.2", 22) == kh  # that host is only known on port 2222
    assert host_known_hosts(kh, "203.0.113.9", 22) == kh

    # a changed file is read again: a replaced key must not be served from the old copy
    new = _key_line("198.51.100.1")
    kh.write_text(new + "\n")
    os.utime(kh, ns=(1, 1))
    assert host_known_hosts(kh, "198.51.100.1", 22).read_text().split() == new.split()
