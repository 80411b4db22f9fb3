"""Shadowing analysis of one firewall filter with 5,000 terms, beside the naive pairwise baseline.

    .venv/bin/python benchmarks/shadow_5000.py [--terms 5000] [--seed 7]

The filter is generated to look like a grown edge ACL: server subnets and hosts as destinations,
client networks, single hosts or 'any' as sources, TCP/UDP services and ICMP, ~15 % deny/reject, and
planted dead terms: ones covered by ONE earlier term and ones covered only by SEVERAL together
(two /25 halves before their /24; ports 1-1023 and 1024-65535 before 'all ports').

Every match dimension of issue 16 is in it too: ICMP types and codes, source exclusions, connection
state (a stateful `established, related` accept), TCP flags, DSCP, fragments and hop limits; dead terms
planted that only one of them kills (an echo-request deny behind an echo accept; a client /24 inside an
earlier term's /20-minus-one-/24), each next to a live twin the dimension keeps alive.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.model.firewall import Filter  # noqa: E402
from pipeline.model.objects import ObjectStore  # noqa: E402
from pipeline.model.resolve import term_rules  # noqa: E402
from pipeline.validate.rules.shadowing import FW_PREFIX_DIMS, rule_boxes, used_dims  # noqa: E402
from pipeline.validate.boxes import Budget  # noqa: E402
from pipeline.validate.rules.shadowing import LIST_SHARE  # noqa: E402
from pipeline.validate.shadow import Item, analyse, pairwise  # noqa: E402
from pipeline.validate.validator import WORK_LIMIT  # noqa: E402


def generate_terms(n: int, seed: int = 7) -> tuple[list[dict], set[int], set[int]]:
    """n term dicts; returns them plus the indices planted as single-covered and multi-covered."""
    rnd = random.Random(seed)
    servers = [f"10.{rnd.randrange(0, 64)}.{rnd.randrange(256)}.0/24" for _ in range(400)]
    clients = [f"172.{16 + rnd.randrange(16)}.{rnd.randrange(256)}.0/{rnd.choice((20, 22, 24))}" for _ in range(300)]
    clients = [str(ipaddress.ip_network(c, strict=False)) for c in clients]
    ports = [22, 25, 53, 80, 123, 443, 636, 993, 1433, 3306, 5432, 6443, 8080, 8443, 9090, 9100]
    terms: list[dict] = []
    single: set[int] = set()
    multi: set[int] = set()
    through: set[int] = set()  # dead only through an ICMP type or an exclusion
    alive: set[int] = set()  # their live twins: the five-dimension view would call them dead
    twin_dsts: set[str] = set()

    def add(t: dict) -> int:
        t["name"] = f"t{len(terms)}"
        terms.append(t)
        return len(terms) - 1

    while len(terms) < n - 1:
        r = rnd.random()
        if r < 0.04 and terms:  # a narrower copy of an earlier, simple term: covered by one
            prev = rnd.choice(terms)
            if prev.get("destinations") and prev.get("protocols") == ["tcp"] and "/24" in prev["destinations"][0]:
                net = ipaddress.ip_network(prev["destinations"][0])
                host = str(net.network_address + rnd.randrange(1, 255))
                single.add(add({**{k: v for k, v in prev.items() if k != "name"}, "destinations": [host]}))
            continue
        if r < 0.06:  # two halves, then the whole: covered only together
            net = ipaddress.ip_network(rnd.choice(servers))
            lo, hi = net.subnets(1)
            port = rnd.choice(ports)
            for half in (lo, hi):
                add({"destinations": [str(half)], "protocols": ["tcp"], "destination_ports": [port], "action": "accept"})
            multi.add(add({"destinations": [str(net)], "protocols": ["tcp"], "destination_ports": [port], "action": "accept"}))
            continue
        if r < 0.07:  # port halves, then all ports
            dst = rnd.choice(servers)
            add({"destinations": [dst], "protocols": ["udp"], "destination_ports": ["1-1023"], "action": "accept"})
            add({"destinations": [dst], "protocols": ["udp"], "destination_ports": ["1024-65535"], "action": "accept"})
            add({"destinations": [dst], "protocols": ["udp"], "destination_ports": ["0"], "action": "accept"})
            multi.add(add({"destinations": [dst], "protocols": ["udp"], "action": "accept"}))
            continue
        if r < 0.085:  # ICMP: echo accepted, then an echo-request deny (dead) and an unreachable deny (alive)
            dst = rnd.choice(servers)
            if dst in twin_dsts:  # a second group on the same server would kill the first one's twin
                continue
            twin_dsts.add(dst)
            add({"destinations": [dst], "protocols": ["icmp"], "icmp_types": ["echo-request", "echo-reply"], "action": "accept"})
            through.add(add({"destinations": [dst], "protocols": ["icmp"], "icmp_types": ["echo-request"], "action": "deny"}))
            alive.add(add({"destinations": [dst], "protocols": ["icmp"], "icmp_types": [3], "icmp_code": 4, "action": "deny"}))
            continue
        if r < 0.10:  # a /20 minus one /24 denied; another /24 inside it is dead, the excluded one is not
            client = ipaddress.ip_network(rnd.choice(clients)).supernet(new_prefix=20)
            subnets = list(client.subnets(new_prefix=24))
            out, other = rnd.sample(subnets, 2)
            dst = rnd.choice(servers)
            if dst in twin_dsts:
                continue
            twin_dsts.add(dst)
            add({"sources": [str(client)], "source_exclude": [str(out)], "destinations": [dst], "action": "deny"})
            through.add(add({"sources": [str(other)], "destinations": [dst], "protocols": ["tcp"],
                             "destination_ports": [rnd.choice(ports)], "action": "accept"}))
            alive.add(add({"sources": [str(out)], "destinations": [dst], "protocols": ["tcp"],
                           "destination_ports": [rnd.choice(ports)], "action": "accept"}))
            continue
        if r < 0.11:  # the other matches, now and then
            dst = rnd.choice(servers)
            extra = rnd.choice([{"connection_state": ["established", "related"]},
                                {"protocols": ["tcp"], "tcp_flags": {"syn": True, "ack": False}},
                                {"protocols": ["udp"], "dscp": [rnd.choice(["ef", "af41", "cs3"])]},
                                {"fragment": "non-first"}, {"hop_limit": f"1-{rnd.randrange(1, 6)}"}])
            add({"destinations": [dst], "action": rnd.choice(("accept", "deny")), **extra})
            continue
        t: dict = {"action": rnd.choices(("accept", "deny", "reject"), (85, 10, 5))[0]}
        d = rnd.choice(servers)
        if rnd.random() < 0.5:
            net = ipaddress.ip_network(d)
            d = str(net.network_address + rnd.randrange(1, 255))
        t["destinations"] = [d]
        s = rnd.random()
        if s < 0.6:
            t["sources"] = [rnd.choice(clients)]
        elif s < 0.7:
            t["sources"] = [f"192.0.2.{rnd.randrange(1, 255)}"]
        if rnd.random() < 0.9:
            t["protocols"] = ["tcp"] if rnd.random() < 0.8 else ["udp"]
            t["destination_ports"] = [rnd.choice(ports)] if rnd.random() < 0.8 else [f"{p}" for p in rnd.sample(ports, 3)]
        else:
            t["protocols"] = ["icmp"]
        add(t)
    add({"action": "deny", "log": True})
    return terms, single, multi, through, alive


def items_of(terms: list[dict]) -> tuple[list[Item], tuple[str, ...]]:
    f = Filter.model_validate({"name": "BIG", "terms": terms})
    store = ObjectStore()
    rules = [r for t in f.terms for r in term_rules(t, store) if r.family == "ipv4"]
    dims = used_dims(rules)
    return [Item(rule_boxes(r, dims), r.action, keep=r.log or r.counter) for r in rules], dims


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terms", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-pairwise", action="store_true")
    a = ap.parse_args()
    terms, single, multi, through, alive = generate_terms(a.terms, a.seed)
    items, dims = items_of(terms)
    assert len(items) == len(terms)
    # Timed without tracemalloc first (it slows Python code down), then once more for the memory peak.
    t0, c0 = time.perf_counter(), time.process_time()
    total = Budget(10**15)  # no limit, only counted: the work units validate charges to a change
    results = analyse(items, "deny", FW_PREFIX_DIMS["ipv4"], total)
    t_fast, c_fast = time.perf_counter() - t0, time.process_time() - c0  # CPU too: the machine is shared
    units = 10**15 - total.left
    _, _, peak = measure(lambda: analyse(items, "deny", FW_PREFIX_DIMS["ipv4"]))
    dead = {r.index for r in results if r.verdict in ("shadowed", "redundant")}
    # a twin is two terms after its group's first term (the echo accept, the /20-minus-/24 deny)
    wrong = {r.index for r in results if r.index in alive and r.index in dead and r.index - 2 in r.by}
    kinds = {v: sum(1 for r in results if r.verdict == v) for v in ("shadowed", "redundant", "fallthrough", "incomplete")}
    print(f"terms: {len(items)}  planted: {len(single)} covered by one, {len(multi)} covered only by several, "
          f"{len(through)} dead only through an ICMP type or an exclusion (+{len(alive)} live twins)")
    print(f"box dimensions: 5 + {len(dims)} ({', '.join(dims)}); boxes {sum(len(i.boxes) for i in items):,}")
    print(f"box analysis : {t_fast:7.2f} s wall, {c_fast:.2f} s CPU  peak {peak / 2**20:6.1f} MiB (tracemalloc)  findings {kinds}")
    print(f"               work units {units:,} (validate's limit per change: {WORK_LIMIT:,}; per list: {LIST_SHARE:,})")
    print(f"               planted single found {len(single & dead)}/{len(single)}, multi found {len(multi & dead)}/{len(multi)}, "
          f"through ICMP types/exclusions found {len(through & dead)}/{len(through)}, live twins called dead by their "
          f"own group's first term {len(wrong)}/{len(alive)} (by other terms: {len(alive & dead) - len(wrong)})")
    if not a.skip_pairwise:
        t0, c0 = time.perf_counter(), time.process_time()
        naive = set(pairwise(items))
        t_naive, c_naive = time.perf_counter() - t0, time.process_time() - c0
        _, _, peak_n = measure(lambda: None)
        print(f"pairwise     : {t_naive:7.2f} s wall, {c_naive:.2f} s CPU  dead terms found {len(naive)} "
              f"(multi-covered found {len(multi & naive)}/{len(multi)}, through ICMP/exclusions {len(through & naive)}/"
              f"{len(through)}); misses {len(dead - naive)} the box analysis finds")
    print(f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
