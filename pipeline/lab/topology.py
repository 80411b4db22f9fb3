"""The lab's topology file: nodes, point-to-point links, addressing and the expected converged state.

Everything the lab builds is derived from this model, so addresses are checked here once: only
documentation/benchmark prefixes (198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15, 2001:db8::/32) are
accepted, and 192.0.2.0/24 (this machine's uplink) is refused explicitly.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import yamlio
from .options import OptionsOverride, RouterOptions

IPNet = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
IPIface = Union[ipaddress.IPv4Interface, ipaddress.IPv6Interface]
IPAddr = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]

ALLOWED = tuple(ipaddress.ip_network(n) for n in ("198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32"))
FORBIDDEN = ipaddress.ip_network("192.0.2.0/24")
NODE_NAME = re.compile(r"^[a-z][a-z0-9]{0,5}$")  # no dashes: keeps "<prefix>-<node>" unambiguous
RESERVED_NODE_NAMES = {"mgmt"}  # "<prefix>-mgmt" is the management bridge


def check_prefix_allowed(net: IPNet | IPIface | IPAddr) -> None:
    n = ipaddress.ip_network(str(net), strict=False)
    if n.version == 4 and n.overlaps(FORBIDDEN):
        raise ValueError(f"{net} overlaps 192.0.2.0/24, this machine's uplink: never use it in the lab")
    if not any(n.version == a.version and n.subnet_of(a) for a in ALLOWED):  # type: ignore[arg-type]  # same version
        raise ValueError(f"{net} is outside the documentation/benchmark prefixes ({', '.join(map(str, ALLOWED))})")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Route(Strict):
    """A static route. `via` names a directly linked node (its address on that link is used) or 'blackhole'."""

    prefix: IPNet
    via: str | list[str]
    src: IPAddr | None = None  # hosts: source address for traffic they originate (their service address)

    @field_validator("prefix")
    @classmethod
    def _allowed(cls, v: IPNet) -> IPNet:
        if v.prefixlen != 0:  # a default route names no addresses
            check_prefix_allowed(v)
        return v

    @field_validator("src")
    @classmethod
    def _src_allowed(cls, v):
        if v is not None:
            check_prefix_allowed(v)
        return v

    @property
    def vias(self) -> list[str]:
        return [self.via] if isinstance(self.via, str) else list(self.via)


class Expect(Strict):
    """Accepted prefixes (pfxRcd) per address family on one BGP session, once converged."""

    ipv4: int | None = None
    ipv6: int | None = None


class Node(Strict):
    kind: Literal["frr", "nftables", "host"]
    role: str | None = None  # inventory role (edge, upstream, firewall); hosts have none
    site: str = "lab"
    asn: int | None = Field(default=None, ge=1, le=4294967295)
    router_id: ipaddress.IPv4Address | None = None
    loopback: list[IPIface] = []  # addresses on lo (service addresses, router loopbacks)
    routes: list[Route] = []  # frr: staticd routes; others: kernel routes
    networks: list[IPNet] = []  # frr: originated with BGP `network` statements
    policy: str = ""  # frr: prefix-lists and route-maps, verbatim FRR syntax
    nftables: str = ""  # nftables: baseline ruleset, verbatim nft syntax
    expect: dict[str, Expect] = {}  # frr: per peer node, accepted prefixes at convergence
    # How the pipeline logs in over SSH: the lab's key, or only a password (as TACACS+/RADIUS fleets do);
    # the password is generated at `lab up` and kept in the lab's state dir, never in the inventory.
    login: Literal["key", "password"] = "key"
    options: RouterOptions = RouterOptions()  # frr: soft-reconfiguration, delay timer (lab/options.py)
    # frr: peer-groups by name, each with the peers whose sessions join it (pipeline/lab/peergroups.py)
    peer_groups: dict[str, list[str]] = {}

    @field_validator("loopback", "networks")
    @classmethod
    def _allowed(cls, v: list) -> list:
        for x in v:
            check_prefix_allowed(x)
        return v

    @model_validator(mode="after")
    def _kind_fields(self) -> "Node":
        if self.kind == "frr" and (self.asn is None or self.router_id is None):
            raise ValueError("an frr node needs asn and router_id")
        if self.kind != "frr" and (self.asn or self.policy or self.networks or self.expect):
            raise ValueError("asn/policy/networks/expect are only for frr nodes")
        if self.kind != "nftables" and self.nftables:
            raise ValueError("nftables ruleset given for a non-nftables node")
        if self.kind != "frr" and "options" in self.model_fields_set:
            raise ValueError("options are for frr nodes")
        if self.kind != "frr" and self.login != "key":
            raise ValueError("login: password is for frr nodes (the firewall and hosts log in by key)")
        return self

    @property
    def managed(self) -> bool:
        """Managed devices get SSH on the management network and an inventory entry."""
        return self.kind != "host"


class Link(Strict):
    """A point-to-point veth link. Side a takes the first host address of each subnet, side b the second."""

    a: str
    b: str
    ipv4: ipaddress.IPv4Network | None = None
    ipv6: ipaddress.IPv6Network | None = None
    bgp: bool = False  # eBGP session(s) over this link, one per address family present

    @field_validator("ipv4", "ipv6")
    @classmethod
    def _allowed(cls, v):
        if v is not None:
            check_prefix_allowed(v)
            if v.num_addresses < 2:
                raise ValueError(f"{v} has room for fewer than two addresses")
        return v

    def address(self, node: str, version: int) -> IPIface | None:
        net = self.ipv4 if version == 4 else self.ipv6
        if net is None:
            return None
        if net.num_addresses == 2:  # /31, /127: both addresses are usable
            hosts = [net[0], net[1]]
        else:
            hosts = [net[1], net[2]]
        ip = hosts[0] if node == self.a else hosts[1]
        return ipaddress.ip_interface(f"{ip}/{net.prefixlen}")

    def peer(self, node: str) -> str:
        return self.b if node == self.a else self.a


class Mgmt(Strict):
    subnet: ipaddress.IPv4Network = ipaddress.IPv4Network("198.19.0.0/24")

    @field_validator("subnet")
    @classmethod
    def _allowed(cls, v):
        check_prefix_allowed(v)
        return v


class Topology(Strict):
    name: str
    mgmt: Mgmt = Mgmt()
    nodes: dict[str, Node]
    links: list[Link]
    # Named sets of router options ("*": every router), e.g. `production`: no soft-reconfiguration inbound,
    # FRR's default delay timer. `lab up --profile NAME` builds with one; tests switch a running lab.
    profiles: dict[str, dict[str, OptionsOverride]] = {}

    @model_validator(mode="after")
    def _consistent(self) -> "Topology":
        for name in self.nodes:
            if not NODE_NAME.fullmatch(name) or name in RESERVED_NODE_NAMES:
                raise ValueError(f"node name {name!r}: 1-6 lowercase letters/digits, starting with a letter, not 'mgmt'")
        pairs = set()
        for ln in self.links:
            for end in (ln.a, ln.b):
                if end not in self.nodes:
                    raise ValueError(f"link {ln.a}-{ln.b}: unknown node {end!r}")
            key = frozenset((ln.a, ln.b))
            if ln.a == ln.b or key in pairs:
                raise ValueError(f"link {ln.a}-{ln.b}: self-links and parallel links are not supported")
            pairs.add(key)
            if ln.bgp and not (self.nodes[ln.a].kind == self.nodes[ln.b].kind == "frr"):
                raise ValueError(f"link {ln.a}-{ln.b}: bgp needs frr on both ends")
        for name, node in self.nodes.items():
            for r in node.routes:
                for via in r.vias:
                    if via != "blackhole" and self.link_between(name, via) is None:
                        raise ValueError(f"{name}: route {r.prefix} via {via}: no direct link to {via}")
            for peer in node.expect:
                link = self.link_between(name, peer)
                if link is None or not link.bgp:
                    raise ValueError(f"{name}: expect names {peer}, which is not a BGP peer")
            from .peergroups import check

            check(self, name)
            for rm in sorted(set(self.route_maps_needed(name)) - defined_route_maps(node.policy)):
                raise ValueError(f"{name}: route-map {rm} is bound to a session but not defined in policy")
        for pname, prof in self.profiles.items():
            for who in prof:
                if who != "*" and (who not in self.nodes or self.nodes[who].kind != "frr"):
                    raise ValueError(f"profile {pname}: {who!r} is not a router of this topology")
        if len([n for n in self.nodes.values() if n.managed]) > self.mgmt.subnet.num_addresses - 12:
            raise ValueError("management subnet too small for the managed nodes")
        return self

    # ---- derived views -------------------------------------------------------------------------
    def with_profile(self, name: str) -> "Topology":
        """This topology with profile *name*'s router options applied (ValueError for an unknown name)."""
        if name not in self.profiles:
            raise ValueError(f"no profile {name!r} in topology {self.name} (known: {', '.join(sorted(self.profiles)) or 'none'})")
        prof = self.profiles[name]
        nodes = {}
        for n, node in self.nodes.items():
            opts = node.options
            for who in ("*", n):
                if node.kind == "frr" and who in prof:
                    opts = opts.merged(prof[who])
            nodes[n] = node.model_copy(update={"options": opts})
        return self.model_copy(update={"nodes": nodes})

    def link_between(self, a: str, b: str) -> Link | None:
        return next((ln for ln in self.links if {ln.a, ln.b} == {a, b}), None)

    def next_hop(self, node: str, via: str, version: int) -> IPAddr:
        """The address of *via* on its link with *node*: a route's next hop (validated to exist)."""
        link = self.link_between(node, via)
        addr = link.address(via, version) if link is not None else None
        if addr is None:
            raise ValueError(f"{node}: no IPv{version} link address of {via}")
        return addr.ip

    def links_of(self, node: str) -> list[Link]:
        return [ln for ln in self.links if node in (ln.a, ln.b)]

    def bgp_sessions(self, node: str) -> list[tuple[str, int, IPAddr]]:
        """(peer node, IP version, peer address) for every eBGP session of *node*."""
        out = []
        for ln in self.links_of(node):
            if not ln.bgp:
                continue
            peer = ln.peer(node)
            for v in (4, 6):
                addr = ln.address(peer, v)
                if addr is not None:
                    out.append((peer, v, addr.ip))
        return out

    def route_maps_needed(self, node: str) -> list[str]:
        from .peergroups import route_maps_needed

        return route_maps_needed(self.nodes[node], self.bgp_sessions(node))

    def mgmt_address(self, node: str) -> ipaddress.IPv4Interface | None:
        managed = [n for n, d in self.nodes.items() if d.managed]
        if node not in managed:
            return None
        return ipaddress.IPv4Interface(f"{self.mgmt.subnet[10 + managed.index(node)]}/{self.mgmt.subnet.prefixlen}")

    def mgmt_gateway(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(f"{self.mgmt.subnet[1]}/{self.mgmt.subnet.prefixlen}")

    def interface_name(self, node: str, peer: str) -> str:
        """Interface on *node* facing *peer* (inside node's namespace; no prefix needed)."""
        return f"to-{peer}"

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def route_map_names(peer: str, version: int) -> tuple[str, str]:
    """Route-maps bound to the session with *peer*: RM-R2-IN/RM-R2-OUT, RM-R2-V6-IN/RM-R2-V6-OUT."""
    base = f"RM-{peer.upper()}" + ("-V6" if version == 6 else "")
    return f"{base}-IN", f"{base}-OUT"


def defined_route_maps(policy: str) -> set[str]:
    return set(re.findall(r"^route-map\s+(\S+)\s+(?:permit|deny)\s", policy, flags=re.M))


def load(path: Path | str) -> Topology:
    """Read and validate a topology file; errors name the file, line and field."""
    path = Path(path)
    return yamlio.validate_model(Topology, yamlio.load(path), path)


def mgmt_subnet_for_prefix(prefix: str, default: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """Default prefix keeps the topology's subnet; other prefixes get their own /24 in 198.19.0.0/16,
    so two labs can coexist in the root namespace without overlapping routes."""
    if prefix == "nc":
        return default
    n = 1 + int(hashlib.sha256(prefix.encode()).hexdigest(), 16) % 254
    return ipaddress.IPv4Network(f"198.19.{n}.0/24")
