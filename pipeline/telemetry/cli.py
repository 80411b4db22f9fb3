"""`netchange agent` and `netchange collect`."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

from .errors import TelemetryError


def _parse_interface(text: str, default_rate: int) -> tuple[str, int]:
    name, _, rate = text.partition("=")
    try:
        return name, int(rate) if rate else default_rate
    except ValueError:
        raise TelemetryError(f"bad interface {text!r}: expected NAME or NAME=RATE") from None


def parse_listen(text: str, option: str = "--listen", default_host: str = "0.0.0.0") -> tuple[str, int]:
    """ADDRESS:PORT, [V6ADDR]:PORT or :PORT -> (address, port), with a clear error for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise TelemetryError(f"bad {option} {text!r}: expected ADDRESS:PORT")
    return host.strip("[]") or default_host, check_port(int(port), option)


def check_port(port: int, option: str) -> int:
    if not 0 <= port <= 65535:
        raise TelemetryError(f"bad {option}: port {port} is out of range (0-65535)")
    return port


def _on_signals(stop) -> None:
    """SIGINT and SIGTERM end the main loop, which then detaches cleanly."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop())


def agent(
    interface: list[str] = typer.Option(..., "--interface", "-i", help="Interface to sample, NAME or NAME=RATE (repeatable)."),
    collector: list[str] = typer.Option(..., "--collector", "-c", help="Collector HOST[:PORT] (repeatable; default port 6343)."),
    rate: int = typer.Option(1000, help="Default 1-in-N sampling rate."),
    agent_address: Optional[str] = typer.Option(None, help="sFlow agent address (default: our source address towards the first collector)."),
    header_bytes: int = typer.Option(128, help="Sampled header bytes (up to 256)."),
    counter_interval: float = typer.Option(20.0, help="Seconds between counter samples (0: none)."),
    flush_interval: float = typer.Option(0.25, help="Longest time a sample waits for its datagram."),
    direction: str = typer.Option("both", help="ingress, egress or both."),
    attach: str = typer.Option("auto", help="auto (TCX, else clsact), tcx or tc."),
    duration: Optional[float] = typer.Option(None, help="Stop after this many seconds."),
    max_rate: Optional[float] = typer.Option(None, help="Export at most this many samples per second (the rest overflows the ring buffer and is counted as drops)."),
    ring_kb: Optional[int] = typer.Option(None, help="Kernel ring buffer size in KiB (power of two; default 4096)."),
) -> None:
    """Sample packets on host interfaces with eBPF and export them as sFlow v5."""
    from .agent import Agent, Interface, parse_collector
    from .bpf_loader import EGRESS, INGRESS

    dirs = {"both": (INGRESS, EGRESS), "ingress": (INGRESS,), "egress": (EGRESS,)}.get(direction)
    if dirs is None:
        raise TelemetryError(f"--direction must be ingress, egress or both, not {direction!r}")
    if attach not in ("auto", "tcx", "tc"):
        raise TelemetryError(f"--attach must be auto, tcx or tc, not {attach!r}")
    if not 14 <= header_bytes <= 256:
        raise TelemetryError("--header-bytes must be between 14 and 256")
    itfs = [Interface(*_parse_interface(t, rate)) for t in interface]
    a = Agent(itfs, [parse_collector(c) for c in collector], agent_address=agent_address, snaplen=header_bytes,
              counter_interval=counter_interval, flush_interval=flush_interval, directions=dirs, attach=attach,
              max_rate=max_rate, ring_bytes=ring_kb * 1024 if ring_kb is not None else None)
    _on_signals(a.stop)
    a.start()
    where = ", ".join(f"{n} {d} ({m})" for n, d, m in a.attached)
    print(f"netchange agent {a.agent_address}: sampling {where}; exporting to {', '.join(collector)}", file=sys.stderr, flush=True)
    stats = a.run(duration)
    pool, taken, drops = (sum(v[i] for v in stats.kernel.values()) for i in range(3))
    print(f"netchange agent: {stats.samples} samples in {stats.datagrams} datagrams, {drops} drops; "
          f"kernel: {pool} packets seen, {taken} samples taken; detached", file=sys.stderr, flush=True)


def collect(
    listen: str = typer.Option("0.0.0.0:6343", help="UDP ADDRESS:PORT to listen on."),
    read: Optional[Path] = typer.Option(None, "--read", help="Read sFlow datagrams from a pcap/pcapng file instead."),
    port: int = typer.Option(6343, help="With --read: UDP destination port of the sFlow datagrams."),
    agent: list[str] = typer.Option([], "--agent", help="Known agent ADDRESS or NAME=ADDRESS (repeatable)."),
    inventory: Optional[Path] = typer.Option(None, help="Take known agents from this inventory folder."),
    any_agent: bool = typer.Option(False, "--any-agent", help="Accept datagrams from every agent (debugging)."),
    jsonl: Optional[Path] = typer.Option(None, help="Write samples as JSON lines to this file ('-' for stdout)."),
    metrics_port: Optional[int] = typer.Option(None, help="Serve Prometheus metrics on this port."),
    metrics_address: str = typer.Option("127.0.0.1", help="Address the metrics are served on."),
    api: Optional[str] = typer.Option(None, help="Serve the deploy API (queries, verdicts) on ADDRESS:PORT, e.g. 127.0.0.1:9996."),
    from_sfacctd: Optional[Path] = typer.Option(None, "--from-sfacctd", help="pmacct sfacctd receives (on --listen) instead: write DIR/sfacctd.conf and DIR/allow.txt for it, and read its output from DIR."),
    max_flows: int = typer.Option(100_000, help="Entries of the flow history, over all buckets (oldest buckets go first)."),
    history_seconds: float = typer.Option(900.0, help="Seconds of flow history kept (at most)."),
    resolution: float = typer.Option(1.0, help="Seconds per history bucket."),
    duration: Optional[float] = typer.Option(None, help="Stop after this many seconds."),
    top: int = typer.Option(20, help="Flows to show in the final summary."),
) -> None:
    """Collect sFlow v5 from known agents: decode, keep recent flow history, answer deploys, export metrics."""
    from .collector import Collector, agents_from_inventory

    if max_flows < 1:
        raise TelemetryError(f"--max-flows must be at least 1, not {max_flows}")
    if metrics_port is not None:
        check_port(metrics_port, "--metrics-port")
    bind = parse_listen(listen)
    api_bind = parse_listen(api, "--api", "127.0.0.1") if api else None
    if not (0.05 <= resolution <= 60 and resolution <= history_seconds <= 86400):
        raise TelemetryError("--resolution must be 0.05-60 s and --history-seconds between it and 86400")
    agents: dict | None
    agents = {}
    points = interfaces = None
    for a in agent:
        name, _, addr = a.rpartition("=")
        agents[name or addr] = addr
    if inventory is not None:
        from ..inventory import Inventory

        from .points import Points

        inv = Inventory(inventory)
        agents.update(agents_from_inventory(inv))
        pts = Points(inv)
        points, interfaces = pts.names(), pts.interfaces()
    if any_agent:
        agents = None
    elif not agents:
        raise TelemetryError("no known agents: give --agent or --inventory (or --any-agent to accept all)")

    out = None
    if jsonl is not None:
        out = sys.stdout if str(jsonl) == "-" else open(jsonl, "a", buffering=1)
    try:
        c = Collector(bind=bind, agents=agents, max_flows=max_flows, jsonl=out, points=points, interfaces=interfaces,
                      resolution=resolution, max_age=history_seconds)
        if metrics_port is not None:
            from prometheus_client import start_http_server

            try:
                start_http_server(metrics_port, metrics_address, registry=c.metrics.registry)
            except OSError as e:
                raise TelemetryError(f"cannot serve metrics on port {metrics_port}: {e.strerror}") from None
        server = None
        if api_bind is not None and read is None:
            from .api import ApiServer

            server = ApiServer(api_bind, c).start()
        if read is not None:
            n = c.read_pcap(read, port)
            print(f"read {n} datagrams from {read}", file=sys.stderr)
        elif from_sfacctd is not None:
            from .sfacctd import SfacctdReader, allow_list, sfacctd_config

            if agents is None:
                raise TelemetryError("--from-sfacctd needs known agents (sfacctd's allow file is made from them)")
            from_sfacctd.mkdir(parents=True, exist_ok=True)
            (from_sfacctd / "allow.txt").write_text(allow_list(c.known_agents()))
            conf = from_sfacctd / "sfacctd.conf"
            conf.write_text(sfacctd_config(bind[0], bind[1], from_sfacctd.resolve(), (from_sfacctd / "allow.txt").resolve()))
            reader = SfacctdReader(c, from_sfacctd).start()
            stop = threading.Event()
            _on_signals(stop.set)
            where = f"; API on {api_bind[0]}:{server.server_address[1]}" if server and api_bind else ""
            print(f"netchange collect: reading sfacctd output in {from_sfacctd} (run: sfacctd -f {conf}){where}",
                  file=sys.stderr, flush=True)
            stop.wait(duration)
            reader.stop()
            if server is not None:
                server.stop()
        else:
            stop = threading.Event()
            _on_signals(stop.set)
            c.start()
            where = f"; API on {api_bind[0]}:{server.server_address[1]}" if server and api_bind else ""
            assert c.address is not None  # bound by start()
            print(f"netchange collect: listening on {c.address[0]}:{c.address[1]}{where}", file=sys.stderr, flush=True)
            stop.wait(duration)
            if server is not None:
                server.stop()
            c.stop()
        print(json.dumps(c.snapshot(top), indent=2), file=sys.stderr if out is sys.stdout else sys.stdout)
    finally:
        if out is not None and out is not sys.stdout:
            out.close()


def register(app: typer.Typer) -> None:
    """Adds the `agent` and `collect` commands."""
    app.command("agent")(agent)
    app.command("collect")(collect)
