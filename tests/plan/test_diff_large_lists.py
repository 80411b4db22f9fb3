"""The plan's diff of a large prefix-list: changes far apart in the list are hunks of their own, each numbered
by the lines of the whole list. (Drawing the diff from the changed entries and their neighbours alone merged
distant hunks into one, with entries thousands apart shown as neighbours and numbered by the lines shown.)"""

from __future__ import annotations

import ipaddress
import re

import pytest

from pipeline.drivers import get_driver
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import plan_device

HOSTS = {"frr": "r1", "cisco_ios": "ios1", "arista_eos": "eos1", "cisco_nxos": "nx1"}


def pfx(i: int) -> str:
    return str(ipaddress.ip_network((int(ipaddress.ip_address("198.18.0.0")) + i * 4, 30)))


def _hunks(diff: str) -> list[tuple[int, list[str]]]:
    """(old start line, old-side lines: context and removals) of each hunk."""
    out: list[tuple[int, list[str]]] = []
    for line in diff.splitlines():
        m = re.match(r"@@ -(\d+)", line)
        if m:
            out.append((int(m.group(1)), []))
        elif out and line[:1] in (" ", "-") and not line.startswith("---"):
            out[-1][1].append(line[1:])
    return out


@pytest.mark.parametrize("platform", sorted(HOSTS))
def test_changes_far_apart_are_hunks_of_their_own_numbered_as_the_list_is(fleet, platform):
    host = HOSTS[platform]
    old = [(i * 10 + 10, "permit", pfx(i)) for i in range(400)]
    new = list(old)
    for i in (0, 300, 302):  # one change at the top, two near each other far below
        new[i] = (new[i][0], "deny", new[i][2])
    change = ChangeRequest.model_validate({
        "id": "CHG-9310", "title": "t", "requested_by": "tests", "targets": {"hosts": [host]},
        "routing": {"prefix_lists": [{"name": "PL-BIG", "afi": "ipv4", "entries": [
            {"seq": s, "action": a, "prefix": p} for s, a, p in new]}]}})
    diff = plan_device(fleet.hosts[host], get_driver(platform), _running(platform, old), change, ObjectStore()).diff
    hunks = _hunks(diff)
    assert len(hunks) == 2, diff
    index = {s: i for i, (s, _, _) in enumerate(old)}
    shown = _running(platform, old).splitlines()  # how each platform prints the list (the device's own form)
    for start, lines in hunks:
        positions = [index[int(m.group(1))] for m in (re.search(r"seq (\d+)", ln) for ln in lines) if m]
        assert positions == list(range(positions[0], positions[0] + len(positions))), diff  # neighbours in the list
        assert shown[start - 1] == lines[0], diff  # numbered by the lines of the whole list
    assert [ln for ln in hunks[1][1] if "seq" in ln][0].split()[-3:] == ["2980", "permit", pfx(297)]


def _running(platform: str, entries) -> str:
    if platform == "arista_eos":
        return "ip prefix-list PL-BIG\n" + "".join(f"   seq {s} {a} {p}\n" for s, a, p in entries)
    return "".join(f"ip prefix-list PL-BIG seq {s} {a} {p}\n" for s, a, p in entries)
