"""FRR per router namespace: render the baseline config, start zebra/staticd/bgpd, read BGP state.

Each router keeps everything in its own directory (vty sockets, zserv socket, pid files, logs, frr.conf),
so nothing is written under /etc/frr or /var/run/frr and routers never see each other's sockets.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import NoReturn

from ..errors import LabError
from .netns import in_ns, run
from . import peergroups
from .options import frr_global, frr_neighbor, frr_switch
from .topology import Topology, route_map_names

FRR_BIN = Path("/usr/lib/frr")
DAEMONS = ("zebra", "staticd", "bgpd")


def render_config(topo: Topology, name: str) -> str:
    """Baseline config a careful operator would run (see the README of the lab for the why of each knob)."""
    node = topo.nodes[name]
    out = [
        "frr defaults traditional",
        f"hostname {name}",
        "service integrated-vtysh-config",
        "!",
        # With delay-timer 0 policy edits wait for an explicit `clear bgp ... soft` (options: "default" keeps 5 s).
        *frr_global(node.options),
        "!",
    ]
    for r in node.routes:
        kw = "ip" if r.prefix.version == 4 else "ipv6"
        for via in r.vias:
            if via == "blackhole":
                out.append(f"{kw} route {r.prefix} blackhole")
            else:
                out.append(f"{kw} route {r.prefix} {topo.next_hop(name, via, r.prefix.version)}")
    out.append("!")
    out += [ln.rstrip() for ln in node.policy.strip().splitlines()]
    out.append("!")
    sessions = topo.bgp_sessions(name)
    out += [f"router bgp {node.asn}", f" bgp router-id {node.router_id}",
            " no bgp default ipv4-unicast",  # each neighbor is activated only in its own address family
            " bgp log-neighbor-changes"]
    out += peergroups.declarations(node)
    for peer, _v, addr in sessions:
        out += [f" neighbor {addr} remote-as {topo.nodes[peer].asn}",
                f" neighbor {addr} description {peer}",
                f" neighbor {addr} timers connect 2"]  # the peer may start later; don't wait 120 s to retry
        out += peergroups.membership(node, peer, addr)
    for v, af in ((4, "ipv4 unicast"), (6, "ipv6 unicast")):
        nets = [n for n in node.networks if n.version == v]
        peers = [(p, a) for p, pv, a in sessions if pv == v]
        if not nets and not peers:
            continue
        out.append(f" address-family {af}")
        out += [f"  network {n}" for n in nets]
        out += peergroups.af_bindings(node, [p for p, _ in peers], v)
        for peer, addr in peers:
            rm_in, rm_out = route_map_names(peer, v)
            out += [f"  neighbor {addr} activate",
                    *frr_neighbor(node.options, str(addr))]
            if peergroups.group_of(node, peer) is None:  # a member takes its group's route-maps
                out += [f"  neighbor {addr} route-map {rm_in} in",
                        f"  neighbor {addr} route-map {rm_out} out"]
        out.append(" exit-address-family")
    out += ["exit", "!", "end"]
    return "\n".join(out) + "\n"


def switch_options(topo: Topology, new: Topology, name: str) -> list[str]:
    """vtysh lines turning router *name* of the running *topo* into *new*'s options (empty: nothing to do)."""
    afs: dict[str, list[str]] = {}
    for _peer, v, addr in topo.bgp_sessions(name):
        afs.setdefault("ipv4 unicast" if v == 4 else "ipv6 unicast", []).append(str(addr))
    asn = topo.nodes[name].asn
    assert asn is not None  # every frr node has one (Node validates it)
    return frr_switch(topo.nodes[name].options, new.nodes[name].options, asn, afs)


def start_command(name: str, rdir: Path, sshd_config: Path | None) -> str:
    """Shell command run inside the router's namespace under `unshare --uts`: FRR 8.4 takes the prompt
    and `show run` hostname from uname, so each router gets its own UTS namespace with its name."""
    cmds = [f"hostname {shlex.quote(name)}"]
    cmds += [shlex.join(daemon_argv(d, rdir)) for d in DAEMONS]
    if sshd_config is not None:
        cmds.append(shlex.join(["/usr/sbin/sshd", "-f", str(sshd_config)]))
    return " && ".join(cmds)


def daemon_argv(d: str, rdir: Path) -> list[str]:
    return [str(FRR_BIN / d), "-d", "--vty_socket", str(rdir), "-i", str(rdir / f"{d}.pid"),
            "-z", str(rdir / "zserv.api"), "--log", f"file:{rdir / (d + '.log')}", "-P", "0",
            # FRR sizes per-fd tables from RLIMIT_NOFILE, which is huge in containers: cap it (memory).
            "--limit-fds", "1024"]


def restart_daemon(ns: str, name: str, rdir: Path, daemon: str) -> None:
    """Start one daemon again (after a crash) and load frr.conf into it (`vtysh -b`: the lab's baseline)."""
    for stale in (rdir / f"{daemon}.vty", rdir / f"{daemon}.pid"):
        stale.unlink(missing_ok=True)
    run(in_ns(ns, ["unshare", "--uts", "sh", "-c",
                   f"hostname {shlex.quote(name)} && {shlex.join(daemon_argv(daemon, rdir))}"]), timeout=30)
    deadline = time.monotonic() + 10
    while not (rdir / f"{daemon}.vty").exists():
        if time.monotonic() > deadline:
            raise_with_log(name, rdir, f"{daemon} did not open its vty socket within 10 s")
        time.sleep(0.02)
    run(vtysh(rdir, "-b"), check=False, timeout=30)


def start(ns: str, name: str, rdir: Path, sshd_config: Path | None) -> None:
    run(in_ns(ns, ["unshare", "--uts", "sh", "-c", start_command(name, rdir, sshd_config)]), timeout=30)
    deadline = time.monotonic() + 10
    while not all((rdir / f"{d}.vty").exists() for d in DAEMONS):
        if time.monotonic() > deadline:
            raise_with_log(name, rdir, "daemons did not open their vty sockets within 10 s")
        time.sleep(0.02)
    p = run(vtysh(rdir, "-b"), check=False, timeout=30)
    bad = [ln for ln in (p.stdout + p.stderr).splitlines() if "Unknown command" in ln or "rror" in ln]
    if p.returncode != 0 or bad:
        raise LabError(f"{name}: FRR rejected the baseline config ({rdir / 'frr.conf'}): {'; '.join(bad[:3]) or p.stderr.strip()}")


def raise_with_log(name: str, rdir: Path, why: str) -> NoReturn:
    tail = ""
    for d in DAEMONS:
        log = rdir / f"{d}.log"
        if log.exists():
            tail += f"\n  {d}: " + " | ".join(log.read_text(errors="replace").splitlines()[-2:])
    raise LabError(f"{name}: {why}{tail}")


def vtysh(rdir: Path, *args: str) -> list[str]:
    """vtysh bound to one router's sockets and config (works from any namespace: the sockets are files)."""
    return ["vtysh", "--vty_socket", str(rdir), "--config_dir", str(rdir), *args]


def show_json(rdir: Path, command: str) -> dict:
    p = run(vtysh(rdir, "-c", command), check=False, timeout=15)
    try:
        return json.loads(p.stdout or "{}")
    except json.JSONDecodeError:
        return {}


def bgp_peers(rdir: Path) -> dict[str, dict]:
    """{peer address: {state, pfxRcd, af}} from `show bgp summary json` across both address families."""
    data = show_json(rdir, "show bgp summary json")
    out: dict[str, dict] = {}
    for af_key, af in (("ipv4Unicast", "ipv4"), ("ipv6Unicast", "ipv6")):
        for addr, p in (data.get(af_key) or {}).get("peers", {}).items():
            out[addr] = {"state": p.get("state"), "pfxRcd": p.get("pfxRcd", 0), "af": af,
                         "peerState": p.get("peerState")}
    return out
