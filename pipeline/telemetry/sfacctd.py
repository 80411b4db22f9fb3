"""pmacct `sfacctd` as the receiving collector: netchange reads its print plugin's JSON output into the same
flow history, so deploys get the same API and the same verdicts as with netchange's own receiver.

sfacctd (running as its own service, config from `sfacctd_config`) takes the agents' datagrams, accepts
only the UDP sources in its allow file (written from the inventory's agents), aggregates per second of
arrival and writes one JSON file per second into a directory; `SfacctdReader` picks up each finished
file, adds it to the collector's history and deletes it.  Each record is one flow key of one second:

    {"peer_ip_src", "iface_in", "iface_out", "ip_src", "ip_dst", "ip_proto", "port_src", "port_dst",
     "sampling_rate", "timestamp_arrival", "packets" (= flow samples), "bytes" (their frame lengths)}

The data source and direction come from the interfaces: an agent of ours reports ingress samples with
only iface_in set and egress samples with only iface_out.  The history is complete up to the last file
read (`Collector.complete_until`), about one to two seconds behind: verdicts wait for it.
"""

from __future__ import annotations

import calendar
import json
import socket
import threading
import time
from pathlib import Path

from .errors import TelemetryError
from .packet import PROTOCOLS

AGGREGATE = ("peer_src_ip, in_iface, out_iface, src_host, dst_host, proto, src_port, dst_port, tcpflags, sampling_rate, "
             "timestamp_arrival")


def sfacctd_config(listen: str, port: int, directory: Path, allow_file: Path) -> str:
    """An sfacctd configuration whose output SfacctdReader reads (1 s files, UTC).  The plugin buffers stay at
    their defaults: the large buffers that make sfacctd fast on a capture file hold live samples back until
    a megabyte has arrived, so a quiet agent's samples would never reach a verdict in time."""
    return (f"daemonize: false\nsfacctd_ip: {listen}\nsfacctd_port: {port}\nsfacctd_allow_file: {allow_file}\n"
            f"plugins: print\naggregate: {AGGREGATE}\ntimestamps_secs: true\ntimestamps_utc: true\n"
            f"print_output: json\nprint_refresh_time: 1\nprint_output_file: {directory}/sfacctd-%s.json\n")


def allow_list(agents) -> str:
    """sfacctd's allow file: every UDP source a known agent may send from (collector.KnownAgent values)."""
    out = []
    for spec in agents.values():
        out += list(spec.sources or (spec.address,))
    return "\n".join(sorted(set(out))) + "\n"


def _packed(addr: str) -> bytes | None:
    try:
        return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)
    except (OSError, TypeError):
        return None


def _proto(v) -> int | None:
    if isinstance(v, int):
        return v
    if isinstance(v, str):
        return int(v) if v.isdigit() else PROTOCOLS.get(v.lower())
    return None


def record_key(name: str, r: dict) -> tuple | None:
    """The history key of one sfacctd record (None if it lacks what a key needs)."""
    iin, iout = int(r.get("iface_in") or 0), int(r.get("iface_out") or 0)
    if iin and not iout:
        index, direction = iin, "ingress"
    elif iout and not iin:
        index, direction = iout, "egress"
    else:
        index, direction = iin, None
    src, dst = _packed(r.get("ip_src", "")), _packed(r.get("ip_dst", ""))
    proto = _proto(r.get("ip_proto"))
    ported = proto in (6, 17)
    # TCP flags when the aggregate has them (pmacct ORs the flags of the flows it aggregates into a key, so a
    # key mixing SYNs and ACKs shows both); ICMP type and code are not in sfacctd's output: undecoded (None)
    flags = r.get("tcp_flags")
    detail = int(flags) if proto == 6 and isinstance(flags, (int, str)) and str(flags).isdigit() else None
    return (name, index, direction, src, dst, proto, int(r.get("port_src") or 0) if ported else None,
            int(r.get("port_dst") or 0) if ported else None, iout, None, detail)


def _epoch(stamp: str) -> float:
    return calendar.timegm(time.strptime(stamp.split(".")[0], "%Y-%m-%d %H:%M:%S"))


class SfacctdReader:
    """Moves sfacctd's finished output files into a Collector's history (a thread; `step` for tests)."""

    def __init__(self, collector, directory: Path | str, poll: float = 0.2):
        self.collector = collector
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise TelemetryError(f"{self.directory}: not a directory (sfacctd's print_output_file folder)")
        self.poll = poll
        self.records = 0
        self.unknown_agents = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        by_address = collector._agents[0] if collector._agents is not None else None
        self._names = by_address

    def step(self) -> int:
        """Reads every finished file (all but the newest, unless the newest is a second old); returns how many."""
        files = sorted(self.directory.glob("sfacctd-*.json"),
                       key=lambda p: int(p.stem.split("-")[1]) if p.stem.split("-")[1].isdigit() else 0)
        done = 0
        for i, path in enumerate(files):
            newest = i == len(files) - 1
            try:
                if newest and time.time() - path.stat().st_mtime < 1.0:
                    break  # sfacctd may still be writing it
                self._read(path)
                path.unlink()
            except FileNotFoundError:
                continue
            stem = path.stem.split("-")[1]
            if stem.isdigit():
                self.collector.complete_until = max(self.collector.complete_until or 0.0, float(stem))
            done += 1
        return done

    def _read(self, path: Path) -> None:
        c = self.collector
        h = c.history
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if not isinstance(r, dict) or r.get("event_type", "purge") != "purge":
                continue
            agent = str(r.get("peer_ip_src", ""))
            name = agent if self._names is None else self._names.get(agent)
            if name is None:
                self.unknown_agents += 1
                c._reject()
                continue
            key = record_key(name, r)
            try:
                t = _epoch(r["timestamp_arrival"])
                samples, nbytes, rate = int(r.get("packets") or 0), int(r.get("bytes") or 0), int(r.get("sampling_rate") or 1)
            except (KeyError, ValueError, TypeError):
                c._malformed()
                continue
            with h.lock:
                h.add_many(h.bucket(t), name, key, samples, samples * rate, nbytes * rate, rate)
            c.account_record(name, key, samples, samples * rate, nbytes * rate)
            self.records += 1

    def start(self) -> "SfacctdReader":
        def loop() -> None:
            while not self._stop.wait(self.poll):
                try:
                    self.step()
                except OSError:
                    continue
        self._thread = threading.Thread(target=loop, name="sfacctd-reader", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
