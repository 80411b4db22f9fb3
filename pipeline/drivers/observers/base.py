"""What the deployer asks a device about BGP: sessions and prefix counts (guards, post-checks), one prefix's
best path (route expectations), a neighbor's received and accepted routes (refresh confirmation, impact
preview) and its UPDATE counter (outbound refresh confirmation).

A question a platform's output cannot answer is left out of `answers`; the checks then say "not
observable on <platform>" instead of passing silently. Every command goes through the session's command
gate (cmdgate.py) like any other.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import DeviceError
from ...model.route import Route

READ_TIMEOUT = 60  # seconds per show command (netmiko's read_timeout)


@dataclass(frozen=True)
class Counters:
    """One neighbor's message counters (`show bgp neighbors X`): how a route refresh is confirmed where the
    device keeps no Adj-RIB-In. `enhanced`: Enhanced Route Refresh (RFC 7313) negotiated, so the peer frames
    its re-sent routes with BoRR/EoRR markers, which arrive (and are counted) as ROUTE-REFRESH messages."""

    refresh_sent: int
    refresh_received: int
    updates_received: int
    enhanced: bool = False
    adj_rib_in: frozenset[str] = frozenset()  # address families kept before policy (soft-reconfiguration inbound)


@dataclass(frozen=True)
class Session:
    """One neighbor in one address family. `state` is "Established" once up (every platform's spelling of
    it is mapped to that); `accepted`: prefixes accepted by the inbound policy."""

    state: str
    accepted: int = 0

    @property
    def up(self) -> bool:
        return self.state == "Established"


def afi_of(address: str) -> str:
    return "ipv6" if ipaddress.ip_address(address).version == 6 else "ipv4"


def as_path_numbers(text: str) -> tuple[int, ...]:
    """AS numbers of an AS path as printed (`65001 65002 i`, `{65003,65004}`, `1299 15169 I`; asdot
    `65111.1233` is 65111 * 65536 + 1233)."""
    import re

    out = []
    for token in re.findall(r"\d+(?:\.\d+)?", text):
        high, _, low = token.partition(".")
        out.append(int(high) * 65536 + int(low) if low else int(high))
    return tuple(out)


class Observer:
    """Reads one device. Subclasses implement the questions their platform's output answers."""

    # Questions this platform answers: sessions, route, received, accepted, updates_sent, counters, best_path.
    answers: ClassVar[frozenset[str]] = frozenset()
    # Address families whose sessions `sessions()` reports (a template that reads IPv4 neighbors only: ipv4).
    families: ClassVar[frozenset[str]] = frozenset({"ipv4", "ipv6"})
    # Address families whose paths `route()` reads.
    route_families: ClassVar[frozenset[str]] = frozenset({"ipv4", "ipv6"})
    platform: ClassVar[str] = ""

    def __init__(self, conn: Any, host: str):
        self.conn = conn
        self.host = host

    def show(self, command: str) -> str:
        return self.conn.send_command(command, read_timeout=READ_TIMEOUT)

    def json(self, command: str) -> Any:
        raw = self.show(command)
        start = min((i for i in (raw.find("{"), raw.find("[")) if i >= 0), default=-1)
        try:
            return json.loads(raw[start:] if start > 0 else raw)
        except ValueError:
            raise DeviceError(f"{self.host}: `{command}` did not return JSON: {raw.strip()[:200]}") from None

    # -- the questions (each returns None where this platform cannot tell)
    def sessions(self) -> dict[tuple[str, str], Session]:
        """(neighbor, afi) -> Session, for every configured neighbor of the default VRF."""
        raise NotImplementedError

    def route(self, prefix: str) -> Route | None:
        """The best path of exactly `prefix` in the BGP table, or None."""
        raise NotImplementedError

    def received(self, neighbor: str, afi: str) -> list[Route] | None:
        """The neighbor's Adj-RIB-In before policy; None when the device does not keep it."""
        return None

    def accepted(self, neighbor: str, afi: str) -> list[Route] | None:
        """What the inbound policy accepted from the neighbor (with the attributes it set)."""
        return None

    def updates_sent(self, neighbor: str) -> int | None:
        """UPDATE messages sent to the neighbor so far."""
        return None

    def counters(self, neighbor: str) -> Counters | None:
        """The neighbor's ROUTE-REFRESH / UPDATE counters; None where they are not read."""
        return None

    def best_path(self, address: str) -> tuple[str, Route] | None:
        """(peer, best path) of the longest-match BGP route for `address` (traffic attribution)."""
        return None


def textfsm_rows(template: str, text: str) -> list[dict[str, str]]:
    """Rows (lower-case keys) of TextFSM *template* over *text*: `ntc:NAME` is ntc-templates' NAME.textfsm
    (the templates netmiko's `use_textfsm=True` reads), a bare NAME one of ours beside this module."""
    from importlib import resources

    import textfsm

    if template.startswith("ntc:"):
        path = resources.files("ntc_templates") / "templates" / f"{template[4:]}.textfsm"
    else:
        path = resources.files(__package__) / "textfsm" / f"{template}.textfsm"
    with path.open() as f:
        fsm = textfsm.TextFSM(f)
    try:
        rows = fsm.ParseText(text)
    except textfsm.TextFSMError:  # the template's `Error` rule: output it does not recognise (an error message, a new format)
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        raise DeviceError(f"device output not understood ({template.removeprefix('ntc:')}): {first[:200]!r}") from None
    return [dict(zip((h.lower() for h in fsm.header), row)) for row in rows]
