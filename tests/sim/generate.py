"""Generated running configurations (hypothesis strategies): a small policy - prefix-lists, route-maps
matching them, BGP neighbors bound to the route-maps, an interface ACL - typed into an empty simulator in
the platform's own CLI (so the configuration is what that device would print, not what netchange renders).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from hypothesis import strategies as st

from . import simulator


@dataclass
class Spec:
    asn: int = 65010
    prefix_lists: dict[str, list[tuple[int, str, str, int | None, int | None]]] = field(default_factory=dict)  # seq, action, prefix, ge, le
    route_maps: dict[str, list[tuple[int, str, str | None, int | None]]] = field(default_factory=dict)  # seq, action, match PL, local-pref
    neighbors: dict[str, tuple[int, str | None, str | None]] = field(default_factory=dict)  # address -> (remote AS, in RM, out RM)
    acl: list[tuple[str, str, int]] | None = None  # (action, destination host, tcp port)


@st.composite
def specs(draw) -> Spec:
    spec = Spec()
    n_pl = draw(st.integers(1, 3))
    for i in range(n_pl):
        entries = []
        for j in range(draw(st.integers(1, 4))):
            length = draw(st.integers(16, 28))
            third = draw(st.integers(0, 255))
            net = ipaddress.ip_network(f"198.18.{third}.0/{length}", strict=False)
            kind = draw(st.sampled_from(["exact", "le", "ge", "both"]))
            ge = le = None
            if kind in ("ge", "both"):
                ge = draw(st.integers(length + 1, 30))
            if kind in ("le", "both"):
                le = draw(st.integers(ge or length + 1, 32))
            entries.append((10 * (j + 1), draw(st.sampled_from(["permit", "permit", "deny"])), str(net), ge, le))
        spec.prefix_lists[f"PL-GEN-{i}"] = entries
    for i in range(draw(st.integers(1, 2))):
        entries = []
        for j in range(draw(st.integers(1, 3))):
            entries.append((10 * (j + 1), draw(st.sampled_from(["permit", "permit", "deny"])),
                            draw(st.sampled_from(sorted(spec.prefix_lists))), draw(st.one_of(st.none(), st.integers(50, 400)))))
        spec.route_maps[f"RM-GEN-{i}"] = entries
    rms = [None] + sorted(spec.route_maps)
    for i in range(draw(st.integers(1, 2))):
        spec.neighbors[f"198.51.100.{2 + 4 * i}"] = (65020 + i, draw(st.sampled_from(rms)), draw(st.sampled_from(rms)))
    if draw(st.booleans()):
        spec.acl = [(draw(st.sampled_from(["permit", "deny"])), f"203.0.113.{draw(st.integers(1, 200))}",
                     draw(st.sampled_from([22, 80, 443]))) for _ in range(draw(st.integers(1, 3)))]
    return spec


def _pl_tail(action: str, prefix: str, ge, le) -> str:
    return f"{action} {prefix}" + (f" ge {ge}" if ge is not None else "") + (f" le {le}" if le is not None else "")


def commands(platform: str, spec: Spec) -> list[str]:
    """The spec typed in `platform`'s CLI."""
    if platform == "juniper_junos":
        return _junos(spec)
    out: list[str] = []
    iface = {"cisco_ios": "GigabitEthernet0/1", "arista_eos": "Ethernet1", "aruba_aoscx": "1/1/1", "cisco_nxos": "Ethernet1/1"}.get(platform)
    if spec.acl and iface:
        if platform == "aruba_aoscx":
            out.append("access-list ip ACL-GEN")
            out += [f"{10 * (i + 1)} {a} tcp any {h} eq {p}" for i, (a, h, p) in enumerate(spec.acl)]
        elif platform == "cisco_ios":
            out.append("ip access-list extended ACL-GEN")
            out += [f"{a} tcp any host {h} eq {p}" for a, h, p in spec.acl]
        else:
            out.append("ip access-list ACL-GEN")
            out += [f"{10 * (i + 1)} {a} tcp any {h}/32 eq {p}" for i, (a, h, p) in enumerate(spec.acl)]
        out.append(f"interface {iface}")
        out.append({"aruba_aoscx": "apply access-list ip ACL-GEN out"}.get(platform, "ip access-group ACL-GEN out"))
    for name, entries in spec.prefix_lists.items():
        if platform == "arista_eos":
            out.append(f"ip prefix-list {name}")
            out += [f"seq {s} {_pl_tail(a, p, ge, le)}" for s, a, p, ge, le in entries]
        else:
            out += [f"ip prefix-list {name} seq {s} {_pl_tail(a, p, ge, le)}" for s, a, p, ge, le in entries]
    for name, entries in spec.route_maps.items():
        for seq, action, pl, lp in entries:
            out.append(f"route-map {name} {action} {'seq ' if platform == 'aruba_aoscx' else ''}{seq}")
            out.append(f"match ip address prefix-list {pl}")
            if lp is not None and action == "permit":
                out.append(f"set local-preference {lp}")
    out.append(f"router bgp {spec.asn}")
    if platform == "cisco_nxos":
        for addr, (ras, rin, rout) in spec.neighbors.items():
            fam = "ipv6" if ":" in addr else "ipv4"
            out += [f"neighbor {addr} remote-as {ras}", f"address-family {fam} unicast"]
            out += [f"route-map {rm} {d}" for rm, d in ((rin, "in"), (rout, "out")) if rm]
            out.append("exit")
            out.append("exit")
        return out
    out += [f"neighbor {addr} remote-as {ras}" for addr, (ras, _, _) in spec.neighbors.items()]
    out.append({"arista_eos": "address-family ipv4", "cisco_ios": "address-family ipv4"}.get(platform, "address-family ipv4 unicast"))
    for addr, (_, rin, rout) in spec.neighbors.items():
        out += [f"neighbor {addr} route-map {rm} {d}" for rm, d in ((rin, "in"), (rout, "out")) if rm]
    return out


def _junos(spec: Spec) -> list[str]:
    out = [f"set routing-options autonomous-system {spec.asn}"]
    for name, entries in spec.prefix_lists.items():
        # Junos prefix-lists are plain sets of prefixes (route-filter-lists carry lengths)
        out += [f"set policy-options prefix-list {name} {p}" for _, _, p, _, _ in entries]
    for name, entries in spec.route_maps.items():
        for seq, action, pl, lp in entries:
            t = f"set policy-options policy-statement {name} term {seq}"
            out.append(f"{t} from prefix-list {pl}")
            if lp is not None and action == "permit":
                out.append(f"{t} then local-preference {lp}")
            out.append(f"{t} then {'accept' if action == 'permit' else 'reject'}")
        out.append(f"set policy-options policy-statement {name} term final then reject")
    for addr, (ras, rin, rout) in spec.neighbors.items():
        g = f"set protocols bgp group AS{ras}"
        out += [f"{g} type external", f"{g} peer-as {ras}", f"{g} neighbor {addr}"]
        out += [f"{g} neighbor {addr} {word} {rm}" for rm, word in ((rin, "import"), (rout, "export")) if rm]
    if spec.acl:
        for i, (a, h, p) in enumerate(spec.acl):
            t = f"set firewall family inet filter ACL-GEN term t{i}"
            out += [f"{t} from destination-address {h}/32", f"{t} from protocol tcp", f"{t} from destination-port {p}",
                    f"{t} then {'accept' if a == 'permit' else 'discard'}"]
        out.append("set interfaces ge-0/0/1 unit 0 family inet filter output ACL-GEN")
    return out


BASE = {"cisco_ios": "interface GigabitEthernet0/1\n ip address 203.0.113.1 255.255.255.0\n",
        "arista_eos": "interface Ethernet1\n   no switchport\n   ip address 203.0.113.1/24\n",
        "aruba_aoscx": "interface 1/1/1\n    no shutdown\n    ip address 203.0.113.1/24\n",
        "cisco_nxos": "interface Ethernet1/1\n  no switchport\n  ip address 203.0.113.1/24\n",
        "juniper_junos": "set interfaces ge-0/0/1 unit 0 family inet address 203.0.113.1/24\n", "frr": ""}


def running_config(platform: str, spec: Spec) -> str:
    sim = simulator(platform, BASE[platform])
    for _ in sim.push(commands(platform, spec), "generate"):
        pass
    return sim.show()
