"""Sampling agents and bounded test traffic inside the namespace lab, with the collector in this process.

Where the agents run: only managed nodes (routers, firewalls) have a management interface, so one
`netchange agent` per managed node samples all of that node's lab links and exports to the collector
listening on the management bridge's gateway address in the root namespace.  Traffic hosts (ext1, srv1)
have no management path, so their links are watched from the router end of the same veth: what srv1
receives on `to-fw1` is exactly what fw1 sends on `to-srv1` (`host_point` mirrors the direction).

The collector accepts a datagram only when both its sFlow agent address and its UDP source are the
management address of an agent started here (the Collector checks both for every agent).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..lab import Lab
from ..lab.topology import check_prefix_allowed
from .collector import Collector
from .errors import TelemetryError
from .verify import Point

Direction = Literal["ingress", "egress"]
AGENT_START_TIMEOUT = 20.0     # the first agent may compile the eBPF object
AGENT_MAX_SECONDS = 900        # an agent never outlives a crashed deploy by more than this
MAX_PPS = 500
MAX_SECONDS = 120.0


def mirror(direction: Direction | None) -> Direction | None:
    return {"ingress": "egress", "egress": "ingress"}.get(direction) if direction else None  # type: ignore[return-value]


@dataclass
class _RunningAgent:
    node: str
    address: str
    proc: subprocess.Popen
    log: Path


def _ifindexes(namespace: str, names: list[str]) -> dict[str, int]:
    p = subprocess.run(["ip", "-n", namespace, "-j", "link", "show"], capture_output=True, text=True)
    try:
        links = json.loads(p.stdout or "[]")
    except json.JSONDecodeError:
        links = []
    found = {ln["ifname"]: ln["ifindex"] for ln in links}
    return {n: found[n] for n in names if n in found}


def _terminate(proc: subprocess.Popen, grace: float = 5.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the agent detaches its eBPF programs on SIGTERM
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class LabTelemetry:
    """Collector + one agent per managed lab node.  Use as a context manager; `stop` is idempotent."""

    def __init__(self, lab: Lab, sampling_rate: int = 10, nodes: list[str] | None = None):
        if sampling_rate < 1:
            raise TelemetryError("sampling rate must be >= 1 (1-in-N)")
        self.lab = lab
        self.sampling_rate = sampling_rate
        devices = lab.devices
        wanted = nodes if nodes is not None else [n for n, d in devices.items() if d.mgmt_address]
        self.nodes = [n for n in wanted if devices[n].mgmt_address and devices[n].interfaces]
        self.collector: Collector | None = None
        self.agents: list[_RunningAgent] = []
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def gateway(self) -> str:
        return str(self.lab.topology.mgmt_gateway().ip)

    def has_agent(self, node: str) -> bool:
        """An agent runs (or, before start, will run) on `node`."""
        return node in self.nodes

    def limit_to(self, nodes: set[str] | list[str]) -> None:
        """Start agents only on these nodes (before start: each agent costs about a second to load)."""
        if self.agents:
            raise TelemetryError("agents already running")
        unknown = set(nodes) - set(self.nodes)
        if unknown:
            raise TelemetryError(f"no agent can run on {', '.join(sorted(unknown))} (no management interface)")
        self.nodes = sorted(nodes)

    def start(self) -> "LabTelemetry":
        devices = self.lab.devices
        known = {n: devices[n].mgmt_address for n in self.nodes}
        self.collector = Collector(bind=(self.gateway, 0), agents=known, resolution=0.25).start()
        self._tmp = tempfile.TemporaryDirectory(prefix="netchange-agents-")
        try:
            for node in self.nodes:
                self._start_agent(node)
            self._wait_sampling()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_agent(self, node: str) -> None:
        d = self.lab.devices[node]
        assert self.collector is not None and self.collector.address is not None and self._tmp is not None  # start()
        assert d.mgmt_address is not None  # agents run on managed nodes
        ifnames = sorted(d.interfaces.values())
        argv = [sys.executable, "-m", "pipeline.cli", "agent", "-c", f"{self.gateway}:{self.collector.address[1]}",
                "--agent-address", d.mgmt_address, "--flush-interval", "0.1", "--counter-interval", "0",
                "--duration", str(AGENT_MAX_SECONDS)]
        for name in ifnames:
            argv += ["-i", f"{name}={self.sampling_rate}"]
        log = Path(self._tmp.name) / f"{node}.log"
        with open(log, "w") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", d.namespace, *argv], stdout=subprocess.DEVNULL, stderr=out,
                                    cwd=Path(__file__).resolve().parents[2])
        self.agents.append(_RunningAgent(node, d.mgmt_address, proc, log))
        self.collector.learn_interfaces(node, _ifindexes(d.namespace, ifnames))

    def _wait_sampling(self) -> None:
        """Every agent prints `sampling ...` once attached; an agent that exits first is an error with its message."""
        deadline = time.monotonic() + AGENT_START_TIMEOUT
        pending = list(self.agents)
        while pending:
            for a in list(pending):
                text = a.log.read_text()
                if "sampling" in text:
                    pending.remove(a)
                elif a.proc.poll() is not None:
                    raise TelemetryError(f"agent on {a.node} exited: {text.strip().splitlines()[-1] if text.strip() else 'no output'}")
            if pending and time.monotonic() > deadline:
                raise TelemetryError(f"agents on {', '.join(a.node for a in pending)} did not start within {AGENT_START_TIMEOUT:.0f}s")
            time.sleep(0.05)

    def stop(self) -> None:
        for a in self.agents:
            _terminate(a.proc)
        self.agents = []
        if self.collector is not None:
            self.collector.stop()
            self.collector = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "LabTelemetry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def pids(self) -> list[int]:
        return [a.proc.pid for a in self.agents if a.proc.poll() is None]

    # -- where to look ---------------------------------------------------------------------------
    def host_point(self, node: str, interface: str | None = None, direction: Direction | None = None) -> Point:
        """The sampling point for `node`'s `interface` (or its only link): itself if it runs an agent, else the
        router end of that link with the direction mirrored."""
        devices = self.lab.devices
        if node not in devices:
            raise TelemetryError(f"no node {node!r} in the lab")
        if self.has_agent(node):
            return Point(node, interface, direction)
        ifaces = devices[node].interfaces  # peer -> ifname
        peer: str | None
        if interface is None:
            if len(ifaces) != 1:
                raise TelemetryError(f"{node} has {len(ifaces)} links ({', '.join(sorted(ifaces.values()))}): "
                                     "name the interface in `at:`")
            [peer] = ifaces
        else:
            peer = next((p for p, i in ifaces.items() if i == interface), None)
            if peer is None:
                raise TelemetryError(f"{node} has no interface {interface!r} (it has {', '.join(sorted(ifaces.values()))})")
        if not self.has_agent(peer):
            raise TelemetryError(f"no agent watches {node}'s link to {peer}")
        return Point(peer, devices[peer].interfaces[node], mirror(direction))


# -- bounded test traffic -----------------------------------------------------------------------------

_SENDER = r"""
import socket, sys, time
proto, src, dst, port, pps, seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
udp = None
if proto == "udp":
    udp = socket.socket(fam, socket.SOCK_DGRAM)
    if src:
        udp.bind((src, 0))
gap, start = 1.0 / pps, time.monotonic()
n = 0
while time.monotonic() - start < seconds:
    if udp is not None:
        try:
            udp.sendto(b"netchange-verify", (dst, port))
        except OSError:
            pass
    else:
        # one SYN per attempt: a non-blocking connect, closed at once (no retransmissions, no connection kept)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            if src:
                s.bind((src, 0))
            s.connect((dst, port))
        except OSError:
            pass
        s.close()
    n += 1
    time.sleep(max(0.0, start + n * gap - time.monotonic()))
"""


@dataclass(frozen=True)
class TrafficSpec:
    """One generated flow: from `node` (its namespace) to `dst`, `pps` packets a second for at most `seconds`."""

    node: str
    dst: str
    protocol: str = "udp"      # tcp (SYNs), udp, icmp or icmpv6 (echo requests)
    port: int = 9
    src: str | None = None      # bind to this address of the node (None: the kernel's choice)
    pps: float = 200.0


class TrafficGenerator:
    """Starts and stops bounded test flows in lab namespaces; refuses any destination outside the lab."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.procs: list[subprocess.Popen] = []
        self._lab_addresses = lab_addresses(lab)

    def start(self, spec: TrafficSpec, seconds: float) -> None:
        self.check(spec, self._lab_addresses, seconds)
        ns = self.lab.device(spec.node).namespace
        if spec.protocol in ("icmp", "icmpv6"):
            v = 6 if spec.protocol == "icmpv6" else 4
            argv = ["ping", f"-{v}", "-q", "-n", "-i", f"{1.0 / spec.pps:.4f}", "-c", str(int(spec.pps * seconds)),
                    "-w", str(int(seconds) + 1), *(["-I", spec.src] if spec.src else []), spec.dst]
        else:
            argv = [sys.executable, "-c", _SENDER, spec.protocol, spec.src or "", spec.dst, str(spec.port),
                    str(spec.pps), str(seconds)]
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", ns, *argv], stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL))

    @staticmethod
    def check(spec: TrafficSpec, lab_addresses: dict[str, str], seconds: float = 1.0) -> None:
        """Refuses unknown protocols, unbounded rates or durations, and any destination that is not a lab node's."""
        if spec.protocol not in ("tcp", "udp", "icmp", "icmpv6"):
            raise TelemetryError(f"cannot generate {spec.protocol} traffic (tcp, udp, icmp, icmpv6 only)")
        if not (0 < spec.pps <= MAX_PPS and 0 < seconds <= MAX_SECONDS):
            raise TelemetryError(f"test traffic is bounded: at most {MAX_PPS} packets/s for {MAX_SECONDS:.0f} s")
        try:
            addr = ipaddress.ip_address(spec.dst)
            check_prefix_allowed(addr)
        except ValueError as e:
            raise TelemetryError(f"refusing test traffic to {spec.dst}: {e}") from None
        if str(addr) not in lab_addresses:
            raise TelemetryError(f"refusing test traffic to {spec.dst}: not an address of a lab node")

    def stop(self) -> None:
        for p in self.procs:
            _terminate(p, grace=2.0)
        self.procs = []

    def __enter__(self) -> "TrafficGenerator":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def lab_addresses(lab: Lab) -> dict[str, str]:
    """Every address the lab assigns to a node: address -> node."""
    t = lab.topology
    out: dict[str, str] = {}
    for name, node in t.nodes.items():
        for a in node.loopback:
            out[str(a.ip)] = name
        for ln in t.links_of(name):
            for v in (4, 6):
                la = ln.address(name, v)
                if la is not None:
                    out[str(la.ip)] = name
    return out


@contextlib.contextmanager
def lab_telemetry(lab: Lab, sampling_rate: int = 10):
    """`with lab_telemetry(lab) as t:` agents and collector, always torn down."""
    t = LabTelemetry(lab, sampling_rate)
    try:
        yield t.start()
    finally:
        t.stop()
