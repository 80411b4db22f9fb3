"""Hypothesis strategies for change requests: every construct of pipeline/model, valid and hostile.

A change is built as plain data (what a YAML file holds). Most values come from small pools that match
the fixture fleet (tests/fixtures/fleet: its hosts, neighbors, attachment points) and the project's
shared objects, so that most changes validate, render and plan, and that names collide with objects in
the generated running configs (edits and removals, not only additions). A few percent of the values are
hostile: control characters and Unicode line breaks, trailing newlines, quotes, CLI keywords, IPv6 scope
ids carrying commands, huge or negative numbers, wrong types, catastrophic regexes, huge lists and terms.
"""

from __future__ import annotations

import datetime as dt
import ipaddress


# ------------------------------------------------------------------ the fixture fleet and shared objects

HOSTS = ("r1", "fw1", "ios1", "eos1", "cx1", "junos1", "nx1")
NEIGHBORS = {"ipv4": ("198.51.100.2", "198.51.100.6"), "ipv6": ("2001:db8:12::2", "2001:db8:13::2")}
GROUPS, ROLES, SITES = ("frr_routers", "linux_firewalls"), ("edge", "firewall"), ("lab", "dc1", "dc2")
NETWORK_OBJECTS = ("SERVERS-V4", "SERVERS-V6", "WEB-SERVERS", "EXTERNAL-CLIENTS-V4", "EXTERNAL-CLIENTS-V6", "MONITORING")
DEEP_OBJECTS = ("DEEP-0", "LOOP-A")  # only in the fuzz project's networks.yaml (see harness.py)
SERVICES = ("HTTP", "HTTPS", "WEB", "DNS", "SSH", "PING", "EPHEMERAL-UDP")

# Names shared with the running-config generator (running.py), so changes edit and remove existing objects.
PREFIX_LISTS = ("PL-A", "PL-B", "PL-V6", "PL-BOGONS-V4")
COMMUNITY_LISTS = ("CL-A", "CL-B", "CL-NO-EXPORT")
AS_PATH_LISTS = ("100", "200", "AS-A")  # classic IOS numbers its AS-path lists
ROUTE_MAPS = ("RM-IN", "RM-OUT", "RM-X", "RM-MGMT")
FILTERS = ("F1", "EDGE-IN", "MGMT-ACL")
TERMS = ("web", "dns", "ping", "rest", "t1", "t2")

# ------------------------------------------------------------------ hostile values

CONTROL = ["\n", "\r", "\r\n", "\x00", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029", "\t"]
INJECTED_LINES = ["no router bgp 65001", "router bgp 65001", "end", "exit", "}", "flush ruleset",
                  "delete protocols bgp", "commit", " neighbor 198.51.100.2 shutdown", "! ok", "#"]
HOSTILE_NAMES = [
    "RM1\n", "RM1\r", "X\nno router bgp 65001", "X\u2028Y", "X\x85Y", "X\x00", "X Y", "X\tY", 'X"Y', "X'Y", "X;Y",
    "X{Y", "X}Y", "X!Y", "X#Y", "X|Y", "X`id`", "X$(id)", "{{ 7*7 }}", "exit", "end", "no", "EXIT", "-X", ".X",
    "é", "Ｘ", "X\u200bY", "A" * 64, "A" * 300, "", " ", "0", "../x", "x/../../y", "hook-input", "X.nc1", "F1-v1",
    "RM-IN.nc2", "route-map", "permit", "RM-IN\n", "PL-A\n", "F1\n",
]
HOSTILE_TEXT = [
    "line one\nline two", "desc\r\nexit", "a\u2028b", "a\x85b", "x" * 201, "x" * 5000, 'quote " inside', "it's",
    "semi; colon", "brace { }", "bang ! here", "hash # here", "back\\slash", "{{ 7*7 }}", "{% raw %}", "end",
    "exit", "  no  ", "\x1b[2J", "tab\there", "é ü 漢字", "\u202e right-to-left", "$(reboot)", "`id`",
]
HOSTILE_ADDRESSES = [
    "fe80::1%x\nno router bgp 65001\nrouter bgp 65001", "fe80::1%eth0", "fe80::1%", "fe80::1%25", "fe80::1%x y",
    "2001:db8:12::2%\n}\n}\nflush ruleset", "198.51.100.2\n", " 198.51.100.2", "198.51.100.2 ", "198.051.100.2",
    "::ffff:198.51.100.2", "198.51.100.256", "1.2.3", "0.0.0.0", "::", "255.255.255.255", "2001:db8::1/64",
    "198.51.100.2/32", "", "x", "fe80::1%\u2028no router bgp 1",
]
HOSTILE_PREFIXES = [
    "fe80::%x\n/64", "fe80::%eth0/64", "2001:db8::%x\nexit/48", "198.51.100.0/24\n", "198.51.100.1/24", "0.0.0.0/0",
    "::/0", "198.51.100.0/33", "2001:db8::/129", "198.51.100.0/-1", "198.51.100.0/", "/24", "198.51.100.0/024",
    "2001:db8::/32 ", "10.0.0.0/8", "1.2.3.4", "2001:db8::1", "203.0.113.0/255.255.255.0",
]
CATASTROPHIC_REGEXES = ["^([0-9]+ ?)+x$", "^(.*)*x$", "^((6|65)+)+$", "(.+)+_999$", "^([0-9]+_)+x$"]
HOSTILE_REGEXES = CATASTROPHIC_REGEXES + [
    "(", ")", "[", "a\nb", "^65001$\nexit", "\\d", "a{1,99999}", "_" * 200, "x" * 201, "  ", "^65001 \u2028",
    '"', "'", ";", "#", "!", "{", "}",
]
HUGE_NUMBERS = [0, -1, 65536, 4294967295, 4294967296, 2 ** 63, 2 ** 64 + 1, 10 ** 40, -(2 ** 63), 1.5, True, "10", None]

# ------------------------------------------------------------------ helpers



class Gen:
    """The random choices of one generated case, backed by a `random.Random` that hypothesis seeds
    (`st.randoms(use_true_random=True)`): a case takes thousands of choices, and a hypothesis draw for each
    would make generating a case slower than running it; the seed keeps every run reproducible.

    `hostile` is decided per case: half the changes are well-formed (they validate, render and plan, so
    the deep paths are exercised), the other half carry a few hostile values each (`bad(p)`)."""

    _ALPHABET = "abcXYZ019 _-.:/\\\"'!#;{}|$`%\t\n\r\x00\x1b\x7f\x85\u2028\u2029é漢\u200b\ufeff"

    def __init__(self, rnd, hostile: bool = True):
        self.rnd = rnd
        self.hostile = hostile

    def int(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)

    def chance(self, percent: float) -> bool:
        return self.rnd.random() * 100 < percent

    def bad(self, percent: float) -> bool:
        """True (rarely) when this case may carry hostile values."""
        return self.hostile and self.chance(percent)

    def pick(self, values):
        seq = values if isinstance(values, (list, tuple, str)) else list(values)
        return seq[self.rnd.randrange(len(seq))]

    def subset(self, values) -> list:
        return [v for v in values if self.rnd.randrange(2)]

    def text(self, max_size: int) -> str:
        return "".join(self.pick(self._ALPHABET) for _ in range(self.int(0, max_size)))


def with_control(g: Gen, base: str) -> str:
    """`base` with a control character, Unicode line break or injected line inserted somewhere."""
    at = g.int(0, len(base))
    bad = g.pick(CONTROL) + (g.pick(INJECTED_LINES) if g.chance(50) else "")
    return base[:at] + bad + base[at:]


def name(g: Gen, pool) -> object:
    if g.bad(8):
        return g.pick(HOSTILE_NAMES) if g.chance(60) else with_control(g, g.pick(pool)) if g.chance(80) else g.text(12)
    return g.pick(pool)


def text(g: Gen) -> object:
    if g.bad(8):
        return g.pick(HOSTILE_TEXT) if g.chance(70) else with_control(g, "some text")
    return g.pick(["customer aggregates", "edge policy", "temporary", "see NET-4712", "r3 upstream"])


def number(g: Gen, lo: int, hi: int) -> object:
    return g.pick(HUGE_NUMBERS) if g.bad(4) else g.int(lo, hi)


def address(g: Gen, family: str | None = None, percent_hostile: float = 5) -> str:
    if g.bad(percent_hostile):
        return g.pick(HOSTILE_ADDRESSES)
    fam = family or g.pick(["ipv4", "ipv6"])
    if fam == "ipv4":
        return str(ipaddress.ip_address(int(ipaddress.ip_address("198.51.100.0")) + g.int(1, 254)))
    return str(ipaddress.ip_address(int(ipaddress.ip_address("2001:db8::")) + g.int(1, 2 ** 32)))


_BASES = {"ipv4": [("198.18.0.0", 15), ("198.51.100.0", 24), ("203.0.113.0", 24)], "ipv6": [("2001:db8::", 32)]}


def prefix(g: Gen, family: str | None = None, percent_hostile: float = 5) -> str:
    """A prefix without host bits inside the documentation ranges (or a hostile one)."""
    if g.bad(percent_hostile):
        return g.pick(HOSTILE_PREFIXES)
    fam = family or g.pick(["ipv4", "ipv6"])
    base, blen = g.pick(_BASES[fam])
    maxlen = 32 if fam == "ipv4" else 128
    plen = g.int(blen, min(maxlen, blen + (8 if fam == "ipv4" else 32)))
    net = ipaddress.ip_network(f"{base}/{blen}")
    sub = g.int(0, 2 ** (plen - blen) - 1) if plen > blen else 0
    start = int(net.network_address) + (sub << (maxlen - plen))
    return f"{ipaddress.ip_address(start) if fam == 'ipv4' else ipaddress.IPv6Address(start)}/{plen}"


def nth_prefix(fam: str, i: int) -> str:
    if fam == "ipv4":
        return str(ipaddress.ip_network((int(ipaddress.ip_address("198.18.0.0")) + (i << 8), 24)))
    return str(ipaddress.ip_network((int(ipaddress.ip_address("2001:db8::")) + (i << 80), 48)))


def community(g: Gen) -> object:
    if g.bad(4):
        return g.pick(["65536:1", "1:65536", "no-export\n", "65001:100\nexit", "x", "", 65001, "65001:1:1"])
    if g.chance(15):
        return g.pick(["no-export", "no-advertise", "local-as", "internet", "graceful-shutdown", "blackhole"])
    return f"{g.pick([65001, 65002, 65003, 65535])}:{g.int(0, 999)}"


def large_community(g: Gen) -> object:
    if g.bad(4):
        return g.pick(["4294967296:1:1", "1:1", "1:1:1\nexit", ""])
    return f"{g.pick([65001, 65002, 4200000000])}:{g.int(0, 9)}:{g.int(0, 9)}"


def regex(g: Gen, community_regex: bool = False) -> object:
    if g.bad(4):
        return g.pick(HOSTILE_REGEXES)
    if community_regex:
        return g.pick(["^65535:666$", "^65001:1[0-9]+$", "65001:.*", "_65002:7_", "^6500[1-3]:"])
    return g.pick(["^65002_", "^65003 .*", "_65001$", "^$", ".*", "^(65001|65002)_", "_6500[0-9]_", "^65002 65003$", "[0-9]+"])


def seq(g: Gen, good: int) -> object:
    return number(g, 1, 65535) if g.bad(3) else good


def unique(g: Gen, objs: list[dict], key: str = "name") -> list[dict]:
    """Well-formed changes name each object once (duplicates are a hostile case of their own)."""
    if g.hostile:
        return objs
    seen, out = set(), []
    for o in objs:
        k = str(o.get(key))
        if k not in seen:
            seen.add(k)
            out.append(o)
    return out


# ------------------------------------------------------------------ routing objects


def prefix_list(g: Gen, nm=None) -> dict:
    fam = "ipv6" if nm == "PL-V6" or (nm is None and g.chance(30)) else "ipv4"
    d: dict = {"name": nm if nm is not None else name(g, PREFIX_LISTS[:3] if not g.hostile else PREFIX_LISTS)}
    if str(d["name"]) == "PL-V6":
        fam = "ipv6"
    if g.chance(40):
        d["afi"] = g.pick(["ipv5", "IPV4", 4, "ipv6" if fam == "ipv4" else "ipv4"]) if g.bad(5) else fam
    if g.chance(20):
        d["description"] = text(g)
    if g.chance(12):
        d["state"] = "absent"
        return d
    n = g.int(0 if g.hostile else 1, 4)
    if g.chance(0.5):
        n = g.pick([300, 1000])  # plan time must stay linear in the size of a touched list
    maxlen = 32 if fam == "ipv4" else 128
    entries = []
    seqs = sorted(g.rnd.sample(range(1, 1001), n)) if n <= 4 else range(5, 5 * n + 5, 5)
    for s in seqs:
        p = prefix(g, fam) if n <= 4 else nth_prefix(fam, s)
        e: dict = {"seq": seq(g, s), "action": g.pick(["permit", "permit", "deny"]), "prefix": p}
        if n <= 4 and g.chance(40):
            plen = int(p.rsplit("/", 1)[1]) if "/" in p and p.rsplit("/", 1)[1].isdigit() else 24
            if g.hostile:
                for bound in ("ge", "le"):
                    if g.chance(50):
                        e[bound] = number(g, 0, maxlen)
            elif plen < maxlen:
                ge = g.int(plen + 1, maxlen)
                if g.chance(60):
                    e["ge"] = ge
                if g.chance(60):
                    e["le"] = g.int(ge, maxlen)
        if n <= 4 and g.chance(5):
            e["description"] = text(g)
        entries.append(e)
    d["entries"] = entries
    return d


def community_list(g: Gen) -> dict:
    kind = g.pick(["standard", "standard", "expanded", "large", "large-expanded"])
    d: dict = {"name": name(g, COMMUNITY_LISTS[:2] if not g.hostile else COMMUNITY_LISTS),
               "kind": g.pick(["regexp", "", 1]) if g.bad(3) else kind}
    if g.chance(10):
        d["description"] = text(g)
    if g.chance(10):
        d["state"] = "absent"
        return d
    entries = []
    for i in range(g.int(0 if g.hostile else 1, 3)):
        e: dict = {"action": g.pick(["permit", "deny"])}
        if g.chance(70):
            e["seq"] = seq(g, (i + 1) * 10)
        if kind.endswith("expanded"):
            e["regex"] = regex(g, community_regex=True)
        elif kind == "large":
            e["communities"] = [large_community(g) for _ in range(g.int(1, 3))]
        else:
            e["communities"] = [community(g) for _ in range(g.int(1, 3))]
        if g.bad(3):  # both or neither
            e["regex" if "communities" in e else "communities"] = regex(g) if "communities" in e else ["65001:1"]
        entries.append(e)
    d["entries"] = entries
    return d


def as_path_list(g: Gen) -> dict:
    d: dict = {"name": name(g, AS_PATH_LISTS)}
    if g.chance(10):
        d["state"] = "absent"
        return d
    entries = []
    for i in range(g.int(0 if g.hostile else 1, 3)):
        e: dict = {"action": g.pick(["permit", "permit", "deny"]), "regex": regex(g)}
        if g.chance(70):
            e["seq"] = seq(g, (i + 1) * 10)
        entries.append(e)
    d["entries"] = entries
    return d


SHARED = {"prefix_list": ("PL-BOGONS-V4",), "community_list": ("CL-NO-EXPORT",), "as_path_list": ()}


def ref(g: Gen, kind: str, defined: dict[str, list[str]], pool) -> object | None:
    """A list name a route-map matches: in well-formed changes one the change or the shared objects define."""
    if g.hostile:
        return name(g, pool)
    names = defined.get(kind, []) + list(SHARED[kind])
    return g.pick(names) if names else None


def route_map_entry(g: Gen, s: int, defined: dict[str, list[str]]) -> dict:
    e: dict = {"seq": seq(g, s), "action": g.pick(["permit", "permit", "deny"])}
    if g.chance(10):
        e["description"] = text(g)
    match: dict = {}
    for field, kind, pool, pct in (("prefix_list", "prefix_list", PREFIX_LISTS, 50), ("community_list", "community_list", COMMUNITY_LISTS, 25),
                                   ("as_path", "as_path_list", AS_PATH_LISTS, 20), ("large_community_list", "community_list", COMMUNITY_LISTS, 5),
                                   ("next_hop_prefix_list", "prefix_list", PREFIX_LISTS, 5)):
        if g.chance(pct):
            r = ref(g, kind, defined, pool)
            if r is not None:
                match[field] = r
    if match:
        e["match"] = match
    sets: dict = {}
    if g.chance(30):
        sets["local_preference"] = number(g, 0, 1000)
    if g.chance(20):
        sets["med"] = number(g, 0, 1000)
    if g.chance(8):
        sets["weight"] = number(g, 0, 65535)
    if g.chance(20):
        sets["community_add" if g.chance(60) else "community_replace"] = [community(g) for _ in range(g.int(1, 2))]
    if g.chance(8):
        r = ref(g, "community_list", defined, COMMUNITY_LISTS)
        if r is not None:
            sets["community_delete"] = r
    if g.chance(8):
        sets["large_community_add"] = [large_community(g)]
    if g.chance(15):
        sets["as_path_prepend"] = [number(g, 64512, 65535) for _ in range(g.int(1, 3))]
    if g.chance(20):
        roll = g.int(0, 9)
        sets["next_hop"] = "self" if roll == 0 else "peer-address" if roll == 1 else address(g, percent_hostile=30)
    if sets:
        e["set"] = sets
    if g.chance(8):
        e["continue"] = seq(g, s + 10)
    return e


def route_map(g: Gen, defined: dict[str, list[str]] | None = None) -> dict:
    d: dict = {"name": name(g, ROUTE_MAPS[:3] if not g.hostile else ROUTE_MAPS)}
    if g.chance(10):
        d["description"] = text(g)
    if g.chance(12):
        d["state"] = "absent"
        return d
    n = g.int(0 if g.hostile else 1, 4)
    d["entries"] = [route_map_entry(g, (i + 1) * 10, defined or {}) for i in range(n)]
    if not g.hostile and len(d["entries"]) > 1:
        for e in d["entries"][:-1]:
            e.pop("continue", None)
        d["entries"][-1].pop("continue", None)
    return d


def binding(g: Gen, route_maps: list[str], only_r1: bool = False) -> dict | None:
    afi = g.pick(["ipv4", "ipv6"])
    neighbors = NEIGHBORS[afi] if only_r1 else NEIGHBORS[afi][:1]  # only r1 has the second upstream
    d: dict = {"neighbor": address(g, afi, percent_hostile=100) if g.bad(10) else g.pick(neighbors),
               "afi": g.pick(["ipv4", "ipv6"]) if g.bad(5) else afi, "direction": g.pick(["in", "out"])}
    if g.chance(15):
        d["state"] = "absent"
        if g.chance(50):
            d["route_map"] = name(g, ROUTE_MAPS)
        return d
    if not route_maps and not g.hostile:
        return None
    d["route_map"] = name(g, ROUTE_MAPS) if g.hostile or g.chance(10) else g.pick(route_maps)
    return d


# ------------------------------------------------------------------ firewall

_OBJECTS = {"ipv4": ("SERVERS-V4", "EXTERNAL-CLIENTS-V4", "MONITORING"), "ipv6": ("SERVERS-V6", "EXTERNAL-CLIENTS-V6"),
            None: NETWORK_OBJECTS}


def addr_ref(g: Gen, fam: str | None) -> object:
    if g.bad(5):
        return g.pick(DEEP_OBJECTS + ("NO-SUCH-OBJECT", "WEB-SERVERS"))
    roll = g.int(0, 99)
    if roll < 55:
        return prefix(g, fam)
    if roll < 75:
        return address(g, fam)
    return g.pick(_OBJECTS[fam])


def port(g: Gen) -> object:
    if g.bad(5):
        return g.pick([0, 65536, -1, "1-", "10-1", "80\n", "http", 2 ** 40, True])
    if g.chance(20):
        lo = g.int(1, 65000)
        return f"{lo}-{lo + g.int(0, 500)}"
    return g.pick([22, 53, 80, 443, 8080, 179, 123])


def term(g: Gen, tname: str, huge: bool = False) -> dict:
    t: dict = {"name": tname, "action": g.pick(["accept", "deny", "reject"])}
    if g.chance(15):
        t["description"] = text(g)
    if huge:  # validate's analysis must stay within a budget (issue 11: 60 x 60 x 60 took > 300 s)
        t["sources"] = [nth_prefix("ipv4", i) for i in range(60)]
        t["destinations"] = [str(ipaddress.ip_network((int(ipaddress.ip_address("203.0.113.0")) + i, 32))) for i in range(60)]
        t["protocols"] = ["tcp"]
        t["destination_ports"] = list(range(1000, 1060))
        return t
    fam = g.pick(["ipv4", "ipv6", None]) if g.hostile else g.pick(["ipv4", "ipv6"])
    if g.chance(60):
        t["sources"] = [addr_ref(g, fam) for _ in range(g.int(1, 3))]
    if g.chance(60):
        t["destinations"] = [addr_ref(g, fam) for _ in range(g.int(1, 3))]
    if g.chance(30):
        t["services"] = ["NO-SUCH-SERVICE" if g.bad(5) else g.pick(SERVICES) for _ in range(g.int(1, 2))]
    elif g.chance(60) or (not g.hostile and t["action"] == "accept" and not (t.get("sources") or t.get("destinations"))):
        ported = g.chance(50)
        protos = ["tcp", "udp", "sctp"] if ported else ["tcp", "udp", "icmp" if fam != "ipv6" else "icmpv6", "gre", 6, 17]
        t["protocols"] = [g.pick([300, "TCP", "any", "tcp\n", -1]) if g.bad(3) else g.pick(protos) for _ in range(g.int(1, 2))]
        if ported and g.chance(80):
            t["destination_ports"] = [port(g) for _ in range(g.int(1, 3))]
        if ported and g.chance(15):
            t["source_ports"] = [port(g) for _ in range(g.int(1, 2))]
    for flag in ("log", "counter"):
        if g.chance(20):
            t[flag] = g.pick(["yes", 2, None]) if g.bad(5) else True
    if g.chance(5):
        t["expires"] = g.pick(["2026-01-01", "tomorrow", 20300101]) if g.bad(50) else "2030-12-31"
    return t


def filter_(g: Gen) -> dict:
    f: dict = {"name": name(g, FILTERS[:2] if not g.hostile else FILTERS)}
    if g.chance(15):
        f["description"] = text(g)
    if g.chance(10):
        f["state"] = "absent"
        return f
    f["attach"] = [g.pick(["no-such-point", "server-edge\n", "../x"])] if g.bad(10) else ["server-edge"]
    huge = g.chance(0.5)
    names = g.rnd.sample(TERMS, g.int(1, 4)) if not g.hostile else [name(g, TERMS) for _ in range(g.int(1, 4))]
    f["terms"] = [term(g, names[0], huge=True)] if huge else [term(g, n) for n in names]
    return f


# ------------------------------------------------------------------ verify, targets, the change


def verify(g: Gen) -> dict:
    v: dict = {}
    if g.chance(50):
        routes = []
        for _ in range(g.int(1, 2)):
            r: dict = {"device": name(g, ("r1", "ios1", "nx1", "eos1")), "prefix": prefix(g, percent_hostile=15),
                       "expect": g.pick(["present", "absent"])}
            if r["expect"] == "present" and g.chance(40):
                r["attributes"] = {"local_preference": number(g, 0, 500), "next_hop": address(g, percent_hostile=30),
                                   "communities": [community(g)]}
            routes.append(r)
        v["routes"] = routes
    if g.chance(40):
        traffic = []
        for i in range(g.int(1, 2)):
            t: dict = {"name": f"check{i}", "source": g.pick(["srv1", "h1"]) if g.chance(50) else address(g, percent_hostile=20),
                       "destination": prefix(g, percent_hostile=20), "expect": g.pick(["allowed", "blocked", "via"])}
            if t["expect"] == "via":
                t["via"] = {"next_hop": address(g, percent_hostile=30)} if g.chance(50) else {"host": "r3"}
            if g.chance(30):
                t["port"] = port(g)
            traffic.append(t)
        v["traffic"] = traffic
    if g.chance(10):
        v["max_prefix_loss"] = g.pick([1.5, -1, "x"]) if g.bad(50) else 0.1
    return v


def targets(g: Gen) -> dict:
    roll = g.int(0, 99)
    if roll < 75:
        hosts = list(HOSTS) if g.chance(60) else g.rnd.sample(HOSTS, g.int(1, len(HOSTS)))
        if g.bad(3):
            hosts.append(g.pick(["no-such-host", "../../etc/passwd", "r1\n", "R1"]))
        return {"hosts": hosts}
    if roll < 85:
        return {"groups": [g.pick(GROUPS)]}
    if roll < 95:
        return {"roles": [g.pick(ROLES)]}
    return {"sites": [g.pick(SITES)]}


def change_doc(g: Gen) -> dict:
    """A change request as plain data; `id` is the file name it is written to (harness.change_file_name)."""
    g.hostile = g.chance(50)
    doc: dict = {"id": g.pick(["chg-1", "CHG-1\n", "X", 7]) if g.bad(2) else f"CHG-{g.int(1, 9999)}",
                 "title": text(g), "requested_by": "fuzz@example.net", "targets": targets(g)}
    only_r1 = doc["targets"].get("hosts") == ["r1"]
    if g.chance(20):
        doc["description"] = g.pick(["x" * 4001, "ctl\x01char"]) if g.bad(50) else "multi\nline prose"
    if g.chance(30):
        doc["strategy"] = "big-bang" if g.bad(3) else g.pick(["in_place", "versioned"])
    if g.chance(10):
        start = dt.datetime(2027, 1, 15, tzinfo=dt.timezone.utc) + dt.timedelta(days=g.int(-2, 2) if not g.hostile else g.int(-30, 30))
        hours = g.int(-2, 48) if g.hostile else g.int(1, 48)
        doc["window"] = {"not_before": start.isoformat(), "not_after": (start + dt.timedelta(hours=hours)).isoformat()}
    routing: dict = {}
    firewall: dict = {}
    sections = g.subset(["pl", "cl", "al", "rm", "bind", "fw"]) or [g.pick(["pl", "cl", "al", "rm", "bind", "fw"])]
    if "pl" in sections:
        routing["prefix_lists"] = unique(g, [prefix_list(g) for _ in range(g.int(1, 3))])
    if "cl" in sections:
        routing["community_lists"] = unique(g, [community_list(g) for _ in range(g.int(1, 2))])
    if "al" in sections:
        routing["as_path_lists"] = unique(g, [as_path_list(g) for _ in range(g.int(1, 2))])
    defined = {kind: [str(o["name"]) for o in routing.get(key, []) if o.get("state") != "absent"]
               for kind, key in (("prefix_list", "prefix_lists"), ("community_list", "community_lists"), ("as_path_list", "as_path_lists"))}
    if "rm" in sections:
        routing["route_maps"] = unique(g, [route_map(g, defined) for _ in range(g.int(1, 2))])
    if "bind" in sections:
        rms = [str(r["name"]) for r in routing.get("route_maps", []) if r.get("state") != "absent"]
        bindings = [b for b in (binding(g, rms, only_r1) for _ in range(g.int(1, 3))) if b is not None]
        if bindings:
            routing["bindings"] = bindings if g.hostile else list({(b["neighbor"], b["afi"], b["direction"]): b for b in bindings}.values())
    if "fw" in sections:
        firewall["filters"] = unique(g, [filter_(g) for _ in range(g.int(1, 2))])
    if routing:
        doc["routing"] = routing
    if firewall:
        doc["firewall"] = firewall
    if g.chance(30):
        doc["verify"] = verify(g)
    if g.bad(10):
        _mutate(g, doc)
    return doc


def _mutate(g: Gen, doc: dict) -> None:
    """A structural mistake somewhere: a dropped key, a wrong type, an unknown key."""
    paths = list(_paths(doc))
    if not paths:
        return
    path = g.pick(paths)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    op = g.pick(["drop", "type", "unknown"])
    if op == "drop" and isinstance(parent, dict):
        del parent[key]
    elif op == "type":
        parent[key] = g.pick([None, 0, -1, "", [], {}, [[]], {"a": 1}, True, 1e308, "x" * 300])
    elif isinstance(parent, dict):
        parent["unknown_key"] = 1


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))
