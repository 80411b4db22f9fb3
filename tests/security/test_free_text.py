"""Issue 12 item 6: ordinary text is not an attack. Fields that never reach a device take any printable
one-line text; descriptions print whole on their own line, or are refused by the platform whose CLI
reads a character as syntax, with the platform and the field named."""

from __future__ import annotations

import json

import pytest

from pipeline.drivers import all_platforms, get_driver

from .conftest import PLATFORM_HOSTS

HEADER = "id: CHG-0700\ntitle: {title}\nrequested_by: {who}\nticket: {ticket}\ntargets: {{hosts: [{hosts}]}}\n"


def _change(title="t", who="t", ticket="T-1", hosts=", ".join(PLATFORM_HOSTS), body=""):
    return HEADER.format(title=title, who=who, ticket=ticket, hosts=hosts) + body


def test_apostrophe_title_validates_clean(project, cli):
    f = project("CHG-0700", _change(title="\"Filter and prefer r3's own prefixes\"", who="\"Ana O'Neil <ana@example.net>\"",
                                    ticket="\"NET-42 (r3's #1 ask); see {wiki} | $HOME\"",
                                    body="routing:\n  prefix_lists: [{name: PL-R3, entries: [{seq: 5, action: permit, prefix: 203.0.113.0/24}]}]\n"))
    code, out, err = cli("validate", str(f), "--format", "json", "--project", str(f.parents[2]))
    doc = json.loads(out)
    assert code == 0 and doc["summary"]["errors"] == 0 and doc["files"][0]["findings"] == [], out


@pytest.mark.parametrize("field", ["title", "who", "ticket"])
def test_one_line_fields_still_refuse_line_breaks(project, cli, field):
    f = project("CHG-0700", _change(**{field: '"ok\\nexit"'}))
    code, out, err = cli("validate", str(f), "--format", "json", "--project", str(f.parents[2]))
    (finding,) = json.loads(out)["files"][0]["findings"]
    assert code == 1 and finding["rule"] == "NC004" and finding["line"]


DESCRIBED = """firewall:
  filters:
    - name: F1
      attach: [server-edge]
      terms: [{{name: t1, description: {d}, action: deny}}]
routing:
  prefix_lists: [{{name: PL1, description: {d}, entries: [{{seq: 5, action: permit, prefix: 203.0.113.0/24}}]}}]
  route_maps: [{{name: RM1, entries: [{{seq: 10, action: permit, description: {d}, match: {{prefix_list: PL1}}}}]}}]
"""


def test_apostrophes_and_punctuation_print_whole_on_every_platform(project, cli):
    text = "it's r3's link: 50% of {a} ! # ; $x `y` <z> & \\ (ok)"
    f = project("CHG-0700", _change(body=DESCRIBED.format(d=json.dumps(text))))
    for host, platform in PLATFORM_HOSTS.items():
        code, out, err = cli("render", str(f), "--host", host)
        assert code == 0, (host, err)
        if platform == "juniper_junos":
            continue  # Junos prints no descriptions
        lines = [ln for ln in out.splitlines() if text in ln]
        assert lines, (host, out)  # printed whole, on one line, never split


def _reading(char: str) -> set[str]:
    """Platforms whose interactive CLI reads *char* as syntax (each driver's `text_refused`)."""
    return {p for p in all_platforms() if char in (getattr(get_driver(p), "text_refused", None) or {})}


@pytest.mark.parametrize("char, platforms", [
    ("?", _reading("?")),  # the CLI's help key
    ("|", _reading("|")),  # the CLI's output pipe
    ('\\"', {"nftables"}),  # nft strings have no escape for it
])
def test_text_a_cli_cannot_carry_is_refused_by_that_platform_only(project, cli, char, platforms):
    f = project("CHG-0700", _change(body=DESCRIBED.format(d=f'"why{char} not"')))
    for host, platform in PLATFORM_HOSTS.items():
        code, out, err = cli("render", str(f), "--host", host)
        if platform in platforms:
            assert code == 1 and out == "" and platform in err and "reword it" in err and "Traceback" not in err, (host, err)
            assert "description" in err or "remark" in err or "comment" in err, err
        else:
            assert code == 0, (host, err)
