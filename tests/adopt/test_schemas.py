"""Published JSON Schemas: the change-request schema accepts every bundled change and refuses broken ones
(as `netchange validate` does), describes every property; plan files and deploy reports have schemas that
real outputs satisfy (the lab test checks a real deploy report)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from pipeline import schemas

from .conftest import REPO

CHANGES = sorted((REPO / "policies" / "changes").rglob("*.yaml")) + [Path(__file__).parent / "plain_nornir" / "CHG-0310.yaml"]


def as_json(path: Path):
    """The YAML as an editor's schema validator sees it (dates are strings)."""
    return json.loads(json.dumps(YAML(typ="safe", pure=True).load(path.read_text()), default=str))


def validator(kind: str) -> jsonschema.Draft202012Validator:
    s = schemas.schema(kind)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


@pytest.mark.parametrize("path", CHANGES, ids=lambda p: p.stem)
def test_every_bundled_change_request_is_valid(path):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator("change-request").iter_errors(as_json(path))]
    assert errors == []


BROKEN = {
    "no targets": ("targets:\n  hosts: [r1]\n", ""),
    "unknown field": ("risk: low\n", "risk: low\nchange_window: tonight\n"),
    "port out of range": ("destination_ports: [80]", "destination_ports: [70000]"),
    "unknown action": ("action: reject", "action: allow"),
    "unknown protocol": ("protocols: [tcp]", "protocols: [tcpp]"),
    "seq below 1": ("seq: 10", "seq: 0"),
}
BASE = """\
id: CHG-0900
title: Broken on purpose
requested_by: alice@example.net
risk: low
targets:
  hosts: [r1]
firewall:
  filters:
    - name: WEB-IN
      attach: [forward]
      terms:
        - name: http
          protocols: [tcp]
          destination_ports: [80]
          action: reject
routing:
  route_maps:
    - name: RM-X
      entries:
        - seq: 10
          action: permit
"""


@pytest.mark.parametrize("case", BROKEN, ids=str)
def test_broken_change_requests_are_refused_by_the_schema_and_by_validate(case, tmp_path, run_cli):
    old, new = BROKEN[case]
    assert old in BASE
    path = tmp_path / "CHG-0900.yaml"
    path.write_text(BASE)
    assert list(validator("change-request").iter_errors(as_json(path))) == []  # the base is fine
    path.write_text(BASE.replace(old, new, 1))
    assert list(validator("change-request").iter_errors(as_json(path))), case
    p = run_cli("validate", str(path), cwd=REPO)
    assert p.returncode == 1 and " error " in p.stdout, p.stdout + p.stderr


def _properties(node, where=""):
    """(where, name, schema) of every property anywhere in a schema."""
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            yield f"{where}.{name}", name, sub
        for k, v in node.items():
            yield from _properties(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _properties(v, f"{where}[{i}]")


@pytest.mark.parametrize("kind", schemas.KINDS)
def test_every_property_is_described(kind):
    missing = [w for w, _, sub in _properties(schemas.schema(kind)) if not sub.get("description")]
    assert missing == []


def test_main_properties_have_examples_and_descriptions_name_real_properties():
    s = schemas.schema("change-request")
    top = s["properties"]
    for name in ("id", "title", "requested_by", "targets", "strategy"):
        assert top[name].get("examples"), name
    term = s["$defs"]["Term"]["properties"]
    for name in ("sources", "destinations", "protocols", "destination_ports", "action"):
        assert term[name].get("examples"), name
    described = schemas._descriptions()
    defs = {"ChangeRequest": s, **s["$defs"], "PortRange": s["$defs"]["Port"]["anyOf"][2],
            "ByteRange": s["$defs"]["HopLimit"]["anyOf"][-1], "LogRate": s["$defs"]["LogRate"]["anyOf"][-1]}
    stale = [f"{d}.{p}" for d, props in described.items() for p in props
             if p not in defs.get(d, {}).get("properties", {})]
    assert stale == []


def test_ports_and_protocols_are_typed_as_written():
    v = validator("change-request")
    base = as_json(REPO / "policies" / "changes" / "CHG-0001.yaml")
    for ports, ok in (([80, "1024-65535", {"lo": 1, "hi": 2}], True), ([-1], False), (["80-"], False)):
        doc = copy.deepcopy(base)
        doc["firewall"]["filters"][0]["terms"][0]["destination_ports"] = ports
        assert (list(v.iter_errors(doc)) == []) is ok, ports
    doc = copy.deepcopy(base)
    doc["firewall"]["filters"][0]["terms"][0]["protocols"] = ["tcp", 6, "17"]
    assert list(v.iter_errors(doc)) == []


def test_plan_files_satisfy_the_plan_schema(tmp_path, run_cli):
    from .test_inventory_adoption import project

    root = project(tmp_path)
    p = run_cli("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", "--format", "json", cwd=root)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert len(doc["devices"]) == 4
    v = validator("plan")
    assert [e.message for e in v.iter_errors(doc)] == []
    (root / "snapshots" / "fw-1.json").unlink()  # a plan with an error is a valid document too
    p = run_cli("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", "--format", "json", cwd=root)
    doc = json.loads(p.stdout)
    assert doc["errors"] and [e.message for e in v.iter_errors(doc)] == []
    doc["devices"][0].pop("running_hash")
    assert list(v.iter_errors(doc))  # the schema does check
    assert list(v.iter_errors({**json.loads(p.stdout), "format": "netchange-plan/2"}))


def test_schema_command_writes_each_kind(tmp_path, run_cli):
    for kind in schemas.KINDS:
        p = run_cli("schema", "--kind", kind, "-o", str(tmp_path / f"{kind}.json"), cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        assert json.loads((tmp_path / f"{kind}.json").read_text())["$id"] == f"{kind}.schema.json"
    assert (REPO / "policies" / "change-request.schema.json").read_text() == schemas.text("change-request")
