"""Published JSON Schemas (draft 2020-12): change requests, plan files, deploy reports.

`netchange schema --kind change-request|plan|deploy-report`. The change-request schema comes from the
pydantic model, made to say what the YAML accepts (a port is 443 or "1024-65535", a protocol a name or a
number) and given a description for every property and examples for the main ones from
change-request.descriptions.yaml. The plan (`netchange-plan/1`) and deploy report (`netchange-deploy/1`)
schemas are written by hand next to it; tests validate real plans and reports against them.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
KINDS = ("change-request", "plan", "deploy-report")

_PORT = {
    "description": "A port (443) or an inclusive range (\"1024-65535\").",
    "anyOf": [
        {"type": "integer", "minimum": 0, "maximum": 65535},
        {"type": "string", "pattern": r"^\s*\d{1,5}\s*(-\s*\d{1,5}\s*)?$"},
        {"type": "object", "properties": {"lo": {"type": "integer", "minimum": 0, "maximum": 65535},
                                          "hi": {"type": "integer", "minimum": 0, "maximum": 65535}},
         "required": ["lo", "hi"], "additionalProperties": False},
    ],
    "examples": [443, "1024-65535"],
}


def _protocol() -> dict[str, Any]:
    from ..model.firewall import PROTOCOL_NUMBERS

    names = sorted(PROTOCOL_NUMBERS)
    return {"anyOf": [{"type": "string", "enum": names + [n.upper() for n in names]},
                      {"type": "string", "pattern": r"^\d{1,3}$"},
                      {"type": "integer", "minimum": 0, "maximum": 255}]}


def _dscp() -> dict[str, Any]:
    from ..model.matches import DSCP_NAMES

    return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 63},
                      {"type": "string", "enum": sorted(DSCP_NAMES) + sorted(n.upper() for n in DSCP_NAMES)}]}


def _icmp_type() -> dict[str, Any]:
    from ..model.matches import ICMP_TYPES

    names = sorted({n for table in ICMP_TYPES.values() for n in table})
    return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 255}, {"type": "string", "enum": names},
                      {"type": "string", "pattern": r"^\d{1,3}$"}]}


# Matches a term writes as text or a number, while the model keeps an object (see model/matches.py).
_TEXT_FORMS: dict[str, tuple[str, str, list[dict[str, Any]]]] = {  # model -> (new name, description, text forms)
    "ByteRange": ("HopLimit", "A hop limit / TTL (64) or an inclusive range (\"1-5\").",
                  [{"type": "integer", "minimum": 0, "maximum": 255},
                   {"type": "string", "pattern": r"^\s*\d{1,3}\s*(-\s*\d{1,3}\s*)?$"}]),
    "LogRate": ("LogRate", "At most so many log messages per second, minute, hour or day (\"10/minute\").",
                [{"type": "string", "pattern": r"^\s*\d{1,7}\s*/\s*(second|minute|hour|day)\s*$"}]),
}


def _descriptions() -> dict[str, dict[str, dict[str, Any]]]:
    from ruamel.yaml import YAML

    text = (files(__name__) / "change-request.descriptions.yaml").read_text(encoding="utf-8")
    return YAML(typ="safe", pure=True).load(text)


def _fix_protocols(props: dict[str, Any]) -> None:
    """pydantic sees a string; the YAML may say `tcp` or `6`."""
    for name, p in props.items():
        if name == "protocol":
            keep = {k: v for k, v in p.items() if k not in ("type",)}
            props[name] = {**keep, **_protocol()}
        elif name == "protocols" and p.get("type") == "array":
            p["items"] = _protocol()
        elif name == "dscp" and p.get("type") == "array":
            p["items"] = _dscp()
        elif name == "icmp_types" and p.get("type") == "array":
            p["items"] = _icmp_type()


@lru_cache(maxsize=1)
def _change_request() -> dict[str, Any]:
    from ..model.change import ChangeRequest

    s = ChangeRequest.model_json_schema(by_alias=True, mode="validation")
    s = {"$schema": DIALECT, "$id": "change-request.schema.json", **s}
    defs = s.setdefault("$defs", {})
    doc = _descriptions()
    for name, target in [("ChangeRequest", s), *defs.items()]:
        props = target.get("properties", {})
        _fix_protocols(props)
        for prop, extra in doc.get(name, {}).items():
            if prop in props:
                props[prop].update(extra)
    # After the descriptions: PortRange (the object form) is one of three ways to write a port.
    if "PortRange" in defs:
        defs["Port"] = {**_PORT, "anyOf": [*_PORT["anyOf"][:2], {**defs["PortRange"], "type": "object"}]}
        del defs["PortRange"]
        _retarget(s, "#/$defs/PortRange", "#/$defs/Port")
    for model, (new, description, forms) in _TEXT_FORMS.items():
        if model in defs:
            obj = {**defs.pop(model), "type": "object"}
            defs[new] = {"description": description, "anyOf": [*forms, obj]}
            _retarget(s, f"#/$defs/{model}", f"#/$defs/{new}")
    return s


def _retarget(node: Any, old: str, new: str) -> None:
    if isinstance(node, dict):
        if node.get("$ref") == old:
            node["$ref"] = new
        for v in node.values():
            _retarget(v, old, new)
    elif isinstance(node, list):
        for v in node:
            _retarget(v, old, new)


def schema(kind: str = "change-request") -> dict[str, Any]:
    """The JSON Schema of *kind* (a fresh copy)."""
    if kind == "change-request":
        return copy.deepcopy(_change_request())
    if kind in KINDS:
        doc = json.loads((files(__name__) / f"{kind}.schema.json").read_text(encoding="utf-8"))
        _platform_enums(doc)
        return doc
    raise KeyError(kind)


def _platform_enums(node: Any) -> None:
    """A host's `platform` is one of the drivers' keys: listed from them, so adding a platform edits no schema."""
    from ..inventory import Platform

    if isinstance(node, dict):
        if node.get("description") == "The host's driver.":
            node["enum"] = [p.value for p in Platform]
        for v in node.values():
            _platform_enums(v)
    elif isinstance(node, list):
        for v in node:
            _platform_enums(v)


def text(kind: str = "change-request") -> str:
    return json.dumps(schema(kind), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
