"""Network namespaces, veth links and the management bridge, plus the sweep that removes them.

Names: namespace `<prefix>-<node>`, management bridge `<prefix>-mgmt`, root-side management veth
`<prefix>-<node>-m` (prefix <= 6 and node <= 6 characters keep this within Linux's 15-character limit).
Matching is exact (`^<prefix>-<node>$` with dash-free node names), so another lab's or another tool's
namespaces (e.g. `nct-*`) are never touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import LabError

PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,5}$")
MGMT_IF_IN_NS = "mgmt0"


def check_prefix(prefix: str) -> str:
    if not PREFIX_RE.fullmatch(prefix):  # not match(): `$` lets a trailing newline through
        raise LabError(f"lab prefix {prefix!r} is invalid: use 1-6 lowercase letters/digits starting with a letter "
                       "(interface names are limited to 15 characters)")
    return prefix


def ns_name(prefix: str, node: str) -> str:
    return f"{prefix}-{node}"


def bridge_name(prefix: str) -> str:
    return f"{prefix}-mgmt"


def mgmt_veth_name(prefix: str, node: str) -> str:
    return f"{prefix}-{node}-m"


def run(argv: Sequence[str], *, check: bool = True, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a command; on failure raise LabError with the command's own message (never a traceback)."""
    try:
        p = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise LabError(f"command not found: {argv[0]}") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"command timed out after {timeout:.0f}s: {' '.join(argv)}") from None
    if check and p.returncode != 0:
        msg = (p.stderr or p.stdout).strip().splitlines()
        raise LabError(f"`{' '.join(argv)}` failed (exit {p.returncode}): {msg[-1] if msg else 'no output'}")
    return p


def in_ns(ns: str, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


def list_namespaces() -> list[str]:
    p = run(["ip", "-j", "netns", "list"], check=False)
    try:
        return [e["name"] for e in json.loads(p.stdout or "[]")]
    except json.JSONDecodeError:
        return []


def list_root_links() -> list[str]:
    p = run(["ip", "-j", "link", "show"], check=False)
    try:
        return [e["ifname"] for e in json.loads(p.stdout or "[]")]
    except json.JSONDecodeError:
        return []


def owned_namespaces(prefix: str, names: list[str] | None = None) -> list[str]:
    pat = re.compile(rf"^{re.escape(prefix)}-[a-z][a-z0-9]{{0,5}}$")
    return [n for n in (names if names is not None else list_namespaces()) if pat.match(n) and n != bridge_name(prefix)]


def owned_root_links(prefix: str, names: list[str] | None = None) -> list[str]:
    pat = re.compile(rf"^{re.escape(prefix)}-(mgmt|[a-z][a-z0-9]{{0,5}}-m)$")
    return [n for n in (names if names is not None else list_root_links()) if pat.match(n)]


def add_namespace(ns: str) -> None:
    run(["ip", "netns", "add", ns])
    # No DAD: IPv6 addresses are usable at once (saves ~2 s per link); forwarding is set per node kind later.
    run(in_ns(ns, ["sh", "-c", "ip link set lo up && "
                   "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 "
                   "net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.keep_addr_on_down=1"]))


def set_forwarding(ns: str, on: bool) -> None:
    v = "1" if on else "0"
    run(in_ns(ns, ["sysctl", "-qw", f"net.ipv4.ip_forward={v}", f"net.ipv6.conf.all.forwarding={v}"]))


def add_veth(ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
    """Create a veth pair directly inside both namespaces (nothing transient in the root namespace)."""
    run(["ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b, "netns", ns_b])
    for ns, ifn in ((ns_a, if_a), (ns_b, if_b)):
        if shutil.which("ethtool"):  # offloads off so samplers see wire packets, not GSO super-packets
            run(["ip", "netns", "exec", ns, "ethtool", "-K", ifn, "tso", "off", "gso", "off", "gro", "off"], check=False)
        run(["ip", "-n", ns, "link", "set", ifn, "up"])


def add_address(ns: str, ifname: str, addr: str) -> None:
    extra = ["nodad"] if ":" in addr else []
    run(["ip", "-n", ns, "addr", "add", addr, "dev", ifname, *extra])


def add_route(ns: str, prefix: str, nexthops: list[str], src: str | None = None) -> None:
    fam = "-6" if ":" in prefix else "-4"
    argv = ["ip", fam, "-n", ns, "route", "replace", prefix]
    if src:
        argv += ["src", src]
    if len(nexthops) == 1:
        argv += ["via", nexthops[0]]
    else:
        for nh in nexthops:
            argv += ["nexthop", "via", nh]
    run(argv)


def ensure_bridge(prefix: str, gateway: str) -> None:
    br = bridge_name(prefix)
    if br not in list_root_links():
        run(["ip", "link", "add", br, "type", "bridge"])
    run(["ip", "addr", "replace", gateway, "dev", br])
    run(["ip", "link", "set", br, "up"])


def attach_mgmt(prefix: str, node: str, ns: str, address: str) -> None:
    root_if = mgmt_veth_name(prefix, node)
    run(["ip", "link", "add", root_if, "type", "veth", "peer", "name", MGMT_IF_IN_NS, "netns", ns])
    run(["ip", "link", "set", root_if, "master", bridge_name(prefix), "up"])
    run(["ip", "-n", ns, "addr", "add", address, "dev", MGMT_IF_IN_NS])
    run(["ip", "-n", ns, "link", "set", MGMT_IF_IN_NS, "up"])


def namespace_pids(ns: str) -> list[int]:
    p = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def kill_pids(pids: list[int], grace: float = 2.0) -> None:
    """SIGTERM, wait up to *grace* seconds, then SIGKILL what is left."""
    alive = set(pids)
    for pid in list(alive):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            alive.discard(pid)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            if not pid_alive(pid):
                alive.discard(pid)
        time.sleep(0.05)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # zombies are dead for our purpose


def delete_namespace(ns: str) -> None:
    kill_pids(namespace_pids(ns))
    run(["ip", "netns", "del", ns], check=False)


def leftover_mounts(prefix: str) -> list[str]:
    pat = re.compile(rf"/run/netns/{re.escape(prefix)}-[a-z][a-z0-9]{{0,5}}$")
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    return [ln.split()[1] for ln in lines if len(ln.split()) > 1 and pat.search(ln.split()[1])]
