"""`validate` refuses (NC105) deleting or emptying a routing object that is still used, as far as it can
know without a device: users in the change itself and in the baseline every router carries
(policies/objects/routing.yaml). `plan` checks the running config too (tests/plan/test_references.py)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.project import Project
from pipeline.validate import Validator

from .conftest import FLEET, NOW, REPO, dump, rt

BASELINE_EXTRA = """
route_maps:
  - name: RM-BASE
    entries:
      - {seq: 10, action: permit, match: {prefix_list: PL-BASE}}
bindings:
  - {neighbor: 198.51.100.6, afi: ipv4, direction: in, route_map: RM-BASE}
"""


@pytest.fixture(scope="module")
def validator(tmp_path_factory) -> Validator:
    root = tmp_path_factory.mktemp("baseline-project")
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    routing = root / "policies" / "objects" / "routing.yaml"
    text = routing.read_text().replace("prefix_lists:\n", "prefix_lists:\n  - name: PL-BASE\n    afi: ipv4\n    entries:\n"
                                       "      - {seq: 10, action: permit, prefix: 203.0.113.0/24}\n", 1)
    routing.write_text(text + BASELINE_EXTRA)
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    shutil.copytree(FLEET, root / "inventory")
    return Validator(Project(root), FLEET, NOW)


def _check(validator, tmp_path, doc):
    p = tmp_path / "CHG-1.yaml"
    p.write_text(dump(doc))
    return [f for f in validator.validate(p) if f.rule == "NC105"]


ABSENT = {"state": "absent"}


def test_removing_a_list_a_baseline_route_map_uses_is_refused(validator, tmp_path):
    found = _check(validator, tmp_path, rt(prefix_lists=[{"name": "PL-BASE", **ABSENT}]))
    assert found and found[0].is_error
    assert "RM-BASE" in found[0].message and found[0].location.field == "routing.prefix_lists[0].name"
    assert found[0].location.line


def test_removing_a_route_map_the_baseline_binds_is_refused(validator, tmp_path):
    found = _check(validator, tmp_path, rt(route_maps=[{"name": "RM-BASE", **ABSENT}]))
    assert found and "198.51.100.6 ipv4 in" in found[0].message


def test_removing_the_users_too_is_clean(validator, tmp_path):
    doc = rt(prefix_lists=[{"name": "PL-BASE", **ABSENT}], route_maps=[{"name": "RM-BASE", **ABSENT}],
             bindings=[{"neighbor": "198.51.100.6", "afi": "ipv4", "direction": "in", **ABSENT}])
    assert _check(validator, tmp_path, doc) == []


def test_emptying_a_list_the_change_matches_is_refused(validator, tmp_path):
    doc = rt(prefix_lists=[{"name": "PL-A", "afi": "ipv4", "entries": []}],
             route_maps=[{"name": "RM-A", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"}}]}])
    found = _check(validator, tmp_path, doc)
    assert found and "empties" in found[0].message and found[0].location.field == "routing.route_maps[0].entries[0].match.prefix_list"
