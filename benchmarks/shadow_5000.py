"""Shadowing analysis of one firewall filter with 5,000 terms, beside the naive pairwise baseline.

    .venv/bin/python benchmarks/shadow_5000.py [--terms 5000] [--seed 7]

The filter is generated to look like a grown edge ACL: server subnets and hosts as destinations,
client networks, single hosts or 'any' as sources, TCP/UDP services and ICMP, ~15 % deny/reject, and
planted dead terms: ones covered by ONE earlier term and ones covered only by SEVERAL together
(two /25 halves before their /24; ports 1-1023 and 1024-65535 before 'all ports').
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
from pipeline.validate.rules.shadowing import FW_PREFIX_DIMS, rule_boxes  # noqa: E402
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
    return terms, single, multi


def items_of(terms: list[dict]) -> list[Item]:
    f = Filter.model_validate({"name": "BIG", "terms": terms})
    store = ObjectStore()
    items = []
    for t in f.terms:
        for r in term_rules(t, store):
            if r.family == "ipv4":
                items.append(Item(rule_boxes(r), r.action, keep=r.log or r.counter))
    return items


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
    terms, single, multi = generate_terms(a.terms, a.seed)
    items = items_of(terms)
    assert len(items) == len(terms)
    # Timed without tracemalloc first (it slows Python code down), then once more for the memory peak.
    t0 = time.perf_counter()
    total = Budget(10**15)  # no limit, only counted: the work units validate charges to a change
    results = analyse(items, "deny", FW_PREFIX_DIMS["ipv4"], total)
    t_fast = time.perf_counter() - t0
    units = 10**15 - total.left
    _, _, peak = measure(lambda: analyse(items, "deny", FW_PREFIX_DIMS["ipv4"]))
    dead = {r.index for r in results if r.verdict in ("shadowed", "redundant")}
    kinds = {v: sum(1 for r in results if r.verdict == v) for v in ("shadowed", "redundant", "fallthrough", "incomplete")}
    print(f"terms: {len(items)}  planted: {len(single)} covered by one, {len(multi)} covered only by several")
    print(f"box analysis : {t_fast:7.2f} s  peak {peak / 2**20:6.1f} MiB (tracemalloc)  findings {kinds}")
    print(f"               work units {units:,} (validate's limit per change: {WORK_LIMIT:,}; per list: {LIST_SHARE:,})")
    print(f"               planted single found {len(single & dead)}/{len(single)}, multi found {len(multi & dead)}/{len(multi)}")
    if not a.skip_pairwise:
        t0 = time.perf_counter()
        naive = set(pairwise(items))
        t_naive = time.perf_counter() - t0
        _, _, peak_n = measure(lambda: None)
        print(f"pairwise     : {t_naive:7.2f} s  dead terms found {len(naive)} "
              f"(multi-covered found {len(multi & naive)}/{len(multi)}); misses {len(dead - naive)} the box analysis finds")
    print(f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
