"""The hand-written alternative netchange is measured against: nornir + nornir_netmiko, push one route-map
edit, soft-refresh inbound, no checks. Written as a competent user would, in its best configuration: one
worker per device, netmiko's fast mode, key login with strict host-key checking, one session per device.

    .venv/bin/python benchmarks/nornir_push.py --inventory INVENTORY_DIR --lp 250 [--hosts e01] \\
        --key KEY --known-hosts KNOWN_HOSTS

INVENTORY_DIR is a nornir SimpleInventory (hosts.yaml, groups.yaml, defaults.yaml), e.g. a lab's.
"""

from __future__ import annotations

import argparse
import sys

from nornir import InitNornir
from nornir.core.inventory import ConnectionOptions
from nornir.core.task import Task
from nornir_netmiko.tasks import netmiko_send_command, netmiko_send_config


def push(task: Task, lp: int) -> None:
    task.run(netmiko_send_config, config_commands=["route-map RM-U2-IN permit 10", f"set local-preference {lp}"])
    task.run(netmiko_send_command, command_string="clear bgp ipv4 unicast * soft in")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--lp", type=int, required=True)
    ap.add_argument("--hosts", help="comma-separated (default: every host of role edge)")
    ap.add_argument("--key", required=True)
    ap.add_argument("--known-hosts", required=True)
    args = ap.parse_args()
    d = args.inventory.rstrip("/")
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": 100}},
        inventory={"plugin": "SimpleInventory", "options": {"host_file": f"{d}/hosts.yaml",
                                                            "group_file": f"{d}/groups.yaml",
                                                            "defaults_file": f"{d}/defaults.yaml"}},
        logging={"enabled": False},
    )
    wanted = set(args.hosts.split(",")) if args.hosts else None
    nr = nr.filter(filter_func=lambda h: (h.name in wanted) if wanted else h.data.get("role") == "edge")
    for h in nr.inventory.hosts.values():
        h.platform = "cisco_ios"  # FRR's vtysh speaks netmiko's cisco_ios
        h.connection_options["netmiko"] = ConnectionOptions(extras={
            "use_keys": True, "key_file": args.key, "ssh_strict": True, "system_host_keys": False,
            "alt_host_keys": True, "alt_key_file": args.known_hosts, "allow_agent": False, "fast_cli": True})
    result = nr.run(task=push, lp=args.lp)
    nr.close_connections()
    if result.failed:
        for name, r in result.failed_hosts.items():
            print(f"{name}: {r.exception or r.result}", file=sys.stderr)
        return 1
    print(f"{len(result)} device(s) pushed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
