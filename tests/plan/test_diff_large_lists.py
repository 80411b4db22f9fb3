"""The plan's diff of a large prefix-list is drawn from its changed entries and their neighbours only (a plan
of a 20,000-entry list rendered every unchanged entry twice for it): the hunks a reader sees must be exactly
those of the whole list's diff, on every platform that prints a prefix-list one line per entry."""

from __future__ import annotations

import ipaddress
import random

import pytest

from pipeline.drivers import get_driver
from pipeline.model import ObjectStore
from pipeline.model.change import ChangeRequest
from pipeline.plan import planner
from pipeline.plan.planner import plan_device

HOSTS = {"frr": ("r1", 65001), "cisco_ios": ("ios1", 65101), "arista_eos": ("eos1", 65102),
         "cisco_nxos": ("nx1", 65105)}


def pfx(i: int) -> str:
    return str(ipaddress.ip_network((int(ipaddress.ip_address("198.18.0.0")) + i * 4, 30)))


def hunks(diff: str) -> list[str]:
    """The diff's lines without its headers (@@ line numbers count the lines of the text shown)."""
    return [ln for ln in diff.splitlines() if not ln.startswith(("@@", "---", "+++"))]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("platform", sorted(HOSTS))
def test_the_diff_of_a_large_list_shows_the_hunks_of_the_whole_list(fleet, platform, seed, monkeypatch):
    rnd = random.Random(seed)
    host, _ = HOSTS[platform]
    driver = get_driver(platform)
    n = 400
    old = [(i * 10 + 10, "permit", pfx(i)) for i in range(n)]
    new = list(old)
    for _ in range(rnd.randint(1, 6)):  # a few edits, some next to each other
        i = rnd.randrange(len(new))
        what = rnd.choice(["modify", "remove", "add"])
        if what == "modify":
            new[i] = (new[i][0], "deny", new[i][2])
        elif what == "remove" and len(new) > 1:
            del new[i]
        else:
            new.insert(i, (new[i][0] - 5, "permit", pfx(n + i)))
    text = _running(platform, old)
    change = ChangeRequest.model_validate({
        "id": "CHG-9310", "title": "t", "requested_by": "tests", "targets": {"hosts": [host]},
        "routing": {"prefix_lists": [{"name": "PL-BIG", "afi": "ipv4", "entries": [
            {"seq": s, "action": a, "prefix": p} for s, a, p in new]}]}})
    shown = plan_device(fleet.hosts[host], driver, text, change, ObjectStore()).diff
    monkeypatch.setattr(planner, "_shown_lists", lambda *a: ({}, {}))
    whole = plan_device(fleet.hosts[host], driver, text, change, ObjectStore()).diff
    assert hunks(shown) == hunks(whole)
    assert shown.count("\n") <= whole.count("\n")


def test_junos_shows_its_lists_whole():
    """A Junos prefix-list becomes a route-filter-list once any entry has ge/le: a few entries of it would not
    print as the list prints."""
    assert not get_driver("juniper_junos").prefix_list_line_per_entry


def _running(platform: str, entries) -> str:
    if platform == "arista_eos":
        return "ip prefix-list PL-BIG\n" + "".join(f"   seq {s} {a} {p}\n" for s, a, p in entries)
    return "".join(f"ip prefix-list PL-BIG seq {s} {a} {p}\n" for s, a, p in entries)
