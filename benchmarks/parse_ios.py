"""Micro benchmark: parse one synthetic IOS running config with both engines.

    .venv/bin/python benchmarks/parse_ios.py [--lines 20000] [--repeat 5] [--mix typical|acl-heavy]

`typical` is shaped like an edge router: most lines are interfaces and other non-policy config, about a
third is policy (ACLs, prefix-lists, community/as-path lists, route-maps, BGP). `acl-heavy` is all
extended ACL entries, the most expensive case per line. Reports wall and CPU time per config (best of
--repeat) and the peak Python memory of one parse (tracemalloc, measured in a separate run). The fast
engine caches parsed ACL entries by their text: "cold" clears that cache before every parse (a device
unlike any seen before), "warm" does not (a fleet built from shared templates).
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc

from pipeline.parsers import cisco_ios
from pipeline.parsers.ios_aces import parse_ace


def typical_config(target_lines: int, seed: int = 7) -> str:
    rnd = random.Random(seed)
    out: list[str] = ["!", "version 17.9", "hostname bench-edge-01", "!"]
    budget = target_lines
    policy_share = budget // 3
    acl_lines = policy_share * 45 // 100
    for a in range(max(1, acl_lines // 101)):
        out.append(f"ip access-list extended ACL-{a:03d}")
        out.append(f" remark term-{a}")
        for i in range(100):
            src = f"10.{a % 250}.{i % 250}.0 0.0.0.255"
            proto, port = rnd.choice([("tcp", "eq 443"), ("udp", "eq domain"), ("tcp", "range 1024 2048"), ("ip", "")])
            out.append(f" permit {proto} {src} host 192.0.2.{i % 250} {port}".rstrip())
    for p in range(max(1, policy_share * 20 // 100 // 10)):
        for i in range(10):
            out.append(f"ip prefix-list PL-{p:03d} seq {5 * (i + 1)} permit 198.{p % 250}.{i}.0/24 le 32")
    for c in range(max(1, policy_share * 5 // 100)):
        out.append(f"ip community-list standard CL-{c % 50} permit 65000:{c}")
    for c in range(max(1, policy_share * 5 // 100)):
        out.append(f"ip as-path access-list AP-{c % 50} permit ^{64512 + c}_")
    for r in range(max(1, policy_share * 15 // 100 // 15)):
        for seq in (10, 20, 30):
            out += [f"route-map RM-{r:03d} permit {seq}", f" match ip address prefix-list PL-{r % 50:03d}",
                    f" match community CL-{r % 50}", " set local-preference 200", " !"]
    out.append("router bgp 65000")
    for n in range(max(1, policy_share * 10 // 100 // 3)):
        peer = f"172.{16 + n // 250}.{n % 250}.1"
        out += [f" neighbor {peer} remote-as {65001 + n}", f" neighbor {peer} route-map RM-{n % 50:03d} in",
                f" neighbor {peer} route-map RM-{(n + 1) % 50:03d} out"]
    out.append("!")
    i = 0
    while len(out) < target_lines - 1:  # interfaces and other config the scanner must skip cheaply
        out += [f"interface GigabitEthernet0/{i}", f" description uplink {i}", f" ip address 100.64.{i % 250}.1 255.255.255.0",
                " ip access-group ACL-000 in" if i % 20 == 0 else " no ip redirects", " no shutdown", "!",
                f"logging host 203.0.113.{i % 250}", f"snmp-server host 203.0.113.{i % 250} public"]
        i += 1
    out.append("end")
    return "\n".join(out[:target_lines]) + "\n"


def acl_heavy_config(target_lines: int) -> str:
    out: list[str] = []
    a = 0
    while len(out) < target_lines:
        out.append(f"ip access-list extended BULK-{a:04d}")
        out += [f" permit tcp any host 192.0.2.{i % 250} eq {1000 + i}" for i in range(199)]
        a += 1
    return "\n".join(out[:target_lines]) + "\n"


def best_time(fn, repeat: int) -> tuple[float, float]:
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def peak_memory(fn) -> int:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mix", choices=("typical", "acl-heavy"), default="typical")
    args = ap.parse_args()
    text = typical_config(args.lines) if args.mix == "typical" else acl_heavy_config(args.lines)
    lines = text.count("\n")
    print(f"{args.mix} config: {lines} lines, {len(text) / 1e6:.2f} MB")
    cases = (("fast, cold cache", "fast", True, args.repeat), ("fast, warm cache", "fast", False, args.repeat),
             ("ciscoconfparse2", "ciscoconfparse2", True, max(1, min(args.repeat, 2))))
    for label, engine, cold, repeat in cases:
        def run(engine=engine, cold=cold):
            if cold:  # a device whose ACL entries the parser has not seen before
                parse_ace.cache_clear()
            return cisco_ios.parse(text, engine=engine)

        policy = run()  # warm-up (imports) and sanity
        wall, cpu = best_time(run, repeat)
        peak = peak_memory(run)
        print(f"  {label:17s} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms  "
              f"({cpu / lines * 1e6:5.1f} us/line cpu)  peak {peak / 1e6:5.1f} MB  objects {sum(policy.counts().values())}")


if __name__ == "__main__":
    main()
