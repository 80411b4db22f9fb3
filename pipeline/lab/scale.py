"""Generated scale topology: N edge routers, each peering (IPv4 + IPv6 eBGP) with two shared upstreams.

Same policy shape as the demo lab's r1 (RM-U1-IN sets local-preference 200, RM-U2-IN 100), so one
change request can edit the same route-map on all N edges for the deploy benchmark.
Addresses: links 198.18.64.0/19 (u1) and 198.18.96.0/19 (u2), edge prefixes 198.18.128.0/17,
IPv6 under 2001:db8::/32; management 198.19.0.0/24 (so at most 120 edges).
"""

from __future__ import annotations

import ipaddress

from .topology import Expect, Link, Mgmt, Node, Route, Topology

UPSTREAMS = {"u1": (65002, 200, 2), "u2": (65003, 100, 3)}  # name: (asn, local-pref at the edges, id)
MAX_EDGES = 120


def edge_name(i: int, n: int) -> str:
    return f"e{i:0{max(2, len(str(n)))}d}"


def generate(n: int = 50) -> Topology:
    if not 1 <= n <= MAX_EDGES:
        raise ValueError(f"scale topology supports 1..{MAX_EDGES} edge routers")
    nodes: dict[str, Node] = {}
    links: list[Link] = []
    edges = [edge_name(i, n) for i in range(1, n + 1)]
    for u, (asn, _lp, k) in UPSTREAMS.items():
        own = ["203.0.113.0/24", f"198.18.{k}.0/24", "2001:db8:203::/48", f"2001:db8:{k}::/48"]
        pol = [f"ip prefix-list PL-{u.upper()}-OUT seq 10 permit 203.0.113.0/24",
               f"ip prefix-list PL-{u.upper()}-OUT seq 20 permit 198.18.{k}.0/24",
               f"ipv6 prefix-list PL-{u.upper()}-V6-OUT seq 10 permit 2001:db8:203::/48",
               f"ipv6 prefix-list PL-{u.upper()}-V6-OUT seq 20 permit 2001:db8:{k}::/48"]
        for i, e in enumerate(edges, 1):
            E = e.upper()
            pol += [f"ip prefix-list PL-{E}-IN seq 10 permit 198.18.{127 + i}.0/24",
                    f"ipv6 prefix-list PL-{E}-V6-IN seq 10 permit 2001:db8:e{i:03x}::/48",
                    f"route-map RM-{E}-IN permit 10", f" match ip address prefix-list PL-{E}-IN",
                    f"route-map RM-{E}-OUT permit 10", f" match ip address prefix-list PL-{u.upper()}-OUT",
                    f"route-map RM-{E}-V6-IN permit 10", f" match ipv6 address prefix-list PL-{E}-V6-IN",
                    f"route-map RM-{E}-V6-OUT permit 10", f" match ipv6 address prefix-list PL-{u.upper()}-V6-OUT"]
        nodes[u] = Node(kind="frr", role="upstream", asn=asn, router_id=f"198.51.100.{k}",
                        routes=[Route(prefix=p, via="blackhole") for p in own],
                        networks=[ipaddress.ip_network(p) for p in own], policy="\n".join(pol) + "\n",
                        expect={e: Expect(ipv4=1, ipv6=1) for e in edges})
    for i, e in enumerate(edges, 1):
        mine = [f"198.18.{127 + i}.0/24", f"2001:db8:e{i:03x}::/48"]
        pol = [f"ip prefix-list PL-LOCAL-OUT seq 10 permit {mine[0]}",
               f"ipv6 prefix-list PL-LOCAL-V6-OUT seq 10 permit {mine[1]}"]
        for u, (_asn, lp, k) in UPSTREAMS.items():
            U = u.upper()
            pol += [f"ip prefix-list PL-{U}-IN seq 10 permit 203.0.113.0/24",
                    f"ip prefix-list PL-{U}-IN seq 20 permit 198.18.{k}.0/24",
                    f"ipv6 prefix-list PL-{U}-V6-IN seq 10 permit 2001:db8:203::/48",
                    f"ipv6 prefix-list PL-{U}-V6-IN seq 20 permit 2001:db8:{k}::/48",
                    f"route-map RM-{U}-IN permit 10", f" match ip address prefix-list PL-{U}-IN",
                    f" set local-preference {lp}",
                    f"route-map RM-{U}-OUT permit 10", " match ip address prefix-list PL-LOCAL-OUT",
                    f"route-map RM-{U}-V6-IN permit 10", f" match ipv6 address prefix-list PL-{U}-V6-IN",
                    f" set local-preference {lp}",
                    f"route-map RM-{U}-V6-OUT permit 10", " match ipv6 address prefix-list PL-LOCAL-V6-OUT"]
            base = 64 if k == 2 else 96
            v4 = ipaddress.ip_network(f"198.18.{base}.0/19")
            links.append(Link(a=e, b=u, ipv4=ipaddress.ip_network(f"{v4[2 * i]}/31"),
                              ipv6=ipaddress.ip_network(f"2001:db8:{base:x}:{i:x}::/64"), bgp=True))
        nodes[e] = Node(kind="frr", role="edge", asn=65100 + i, router_id=f"198.18.{127 + i}.1",
                        routes=[Route(prefix=p, via="blackhole") for p in mine],
                        networks=[ipaddress.ip_network(p) for p in mine], policy="\n".join(pol) + "\n",
                        expect={u: Expect(ipv4=2, ipv6=2) for u in UPSTREAMS})
    # nodes: upstreams first so their management addresses stay put whatever N is
    return Topology(name=f"scale-{n}", mgmt=Mgmt(), nodes=nodes, links=links)
