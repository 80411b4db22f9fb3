"""The IOS-family corpus, planned one object at a time: every prefix-list, route-map and ACL of every
config is changed by a change that names only it. Either the plan is refused, listing exactly the lines
the parser could not model inside that object, or its commands edit that object and nothing else; and
no line of the object is lost silently: each of its device lines is read into the model or listed."""

from __future__ import annotations

import importlib
import re

import pytest

from pipeline.drivers import get_driver
from pipeline.model.change import ChangeRequest
from pipeline.plan.planner import UnmodelledConfig, plan_device
from corpus import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
HOSTS = {"cisco_ios": "ios1", "arista_eos": "eos1", "aruba_aoscx": "cx1", "frr": "r1"}
FILES = [(platform, f) for platform in HOSTS for f in sorted((CORPUS / platform).glob("*"))]
# Top-level lines that open (or remove) one object: the word after the keyword is its name.
HEADERS = re.compile(r"^(?:no )?(?:ipv6 prefix-list|ip prefix-list|route-map|ip access-list(?: standard| extended)?|"
                     r"ipv6 access-list|access-list(?: ip| ipv6)?|ip community-list(?: standard| expanded)?|"
                     r"ip as-path access-list|ip aspath-list|bgp community-list|bgp as-path access-list) (\S+)")


def _change(hostname: str, **sections) -> ChangeRequest:
    return ChangeRequest.model_validate({"id": "CHG-7003", "title": "t", "requested_by": "tests",
                                         "targets": {"hosts": [hostname]}, **sections})


def _changes(policy, hostname: str):
    """(kind, name, change that edits just that object) for each object the change language can name."""
    for name, pl in policy.prefix_lists.items():
        extra = "203.0.113.0/24" if pl.family == "ipv4" else "2001:db8:ffff::/48"
        entries = [e.model_dump(mode="json") for e in pl.entries]
        entries.append({"seq": max((e.seq for e in pl.entries), default=0) + 5, "action": "permit", "prefix": extra})
        yield "prefix_list", name, {"routing": {"prefix_lists": [{"name": name, "entries": entries}]}}
    for name, rm in policy.route_maps.items():
        entries = [e.model_dump(mode="json", by_alias=True) for e in rm.entries]
        entries.append({"seq": max((e.seq for e in rm.entries), default=0) + 10, "action": "deny"})
        yield "route_map", name, {"routing": {"route_maps": [{"name": name, "entries": entries}]}}
    for name in policy.filters:
        yield "filter", name, {"firewall": {"filters": [{"name": name, "attach": ["server-edge"], "terms": [
            {"name": "web", "destinations": ["203.0.113.0/26"], "protocols": ["tcp"], "destination_ports": [443],
             "action": "accept"}]}]}}


def _edited_names(commands: list[str]) -> set[str]:
    """Objects the commands open or remove, by logical name (IOS swaps an ACL for `NAME-v<N>`)."""
    return {re.sub(r"(-v|\.nc)\d+$", "", m.group(1)) for c in commands if (m := HEADERS.match(c))}


@pytest.mark.parametrize("platform,path", FILES, ids=lambda v: getattr(v, "name", v))
def test_a_plan_naming_one_object_edits_that_object_or_refuses(platform, path, fleet, store):
    text = path.read_bytes().decode("utf-8", errors="replace")
    host = fleet.hosts[HOSTS[platform]]
    driver = get_driver(platform)
    running = importlib.import_module(f"pipeline.parsers.{platform}").parse(text)
    planned = refused = 0
    for kind, name, sections in _changes(running, host.name):
        try:
            chg = _change(host.name, **sections)
        except ValueError:
            continue  # a name or value the change language does not accept: no change can name this object
        notes = running.unmodelled_in({(kind, name)})
        try:
            plan = plan_device(host, driver, text, chg, store)
        except UnmodelledConfig as e:
            refused += 1
            assert [r["note"] for r in e.plan.refused] == [str(n) for n in notes]
            assert all(r["line"] is None or r["line"] in text for r in e.plan.refused), e.plan.refused
            continue
        except Exception as e:  # the platform cannot express something of the object (refused, with a reason)
            assert type(e).__name__ == "UnsupportedConstruct", (name, e)
            continue
        assert not notes, (name, notes)
        assert _edited_names(plan.commands + plan.switch_commands) <= {name}, (name, plan.commands)
        planned += 1
    print(f"{platform} {path.name}: {planned} object plan(s) edit only their object, {refused} refused")


def _raw_prefix_list_entries(text: str, name: str) -> int:
    """Entry lines of prefix-list `name` in the device text (one-line and EOS block forms)."""
    count, block = 0, False
    for line in text.splitlines():
        m = re.match(rf"^ipv?6? ?prefix-list {re.escape(name)}(?: (.*))?$", line.replace("ipv6 prefix-list", "ip prefix-list"))
        if line and line[0] not in " \t":
            block = bool(m) and not m.group(1)
            if m and m.group(1) and not m.group(1).startswith("description"):
                count += 1
        elif block and line.strip().startswith(("seq ", "permit ", "deny ")):
            count += 1
    return count


@pytest.mark.parametrize("platform,path", FILES, ids=lambda v: getattr(v, "name", v))
def test_no_prefix_list_entry_is_lost_silently(platform, path):
    """Independent of the parser's own notes: every entry line of a prefix-list in the text is either an
    entry of the parsed list or a note owned by that list (so a plan refuses to rewrite it)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    policy = importlib.import_module(f"pipeline.parsers.{platform}").parse(text)
    for name, pl in policy.prefix_lists.items():
        owned = [s for s in policy.unmodelled_in({("prefix_list", name)}) if "entry skipped" in s]
        assert _raw_prefix_list_entries(text, name) == len(pl.entries) + len(owned), (name, owned)
