"""A throw-away project (the repository's objects and guardrails, the fixture fleet as inventory)."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from pipeline.project import Project
from pipeline.validate import Validator

REPO = Path(__file__).resolve().parents[2]
FLEET = REPO / "tests" / "fixtures" / "fleet"
EXAMPLES = REPO / "policies" / "changes" / "examples"
NOW = dt.datetime(2027, 1, 15, 12, 0, tzinfo=dt.timezone.utc)
_counter = itertools.count(1)


def dump(doc) -> str:
    if isinstance(doc, str):
        return doc
    y = YAML()
    y.default_flow_style = False
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


@pytest.fixture(autouse=True, scope="session")
def _register_commands_once():
    """pipeline.cli.main() registers every sub-command again on each call, so the command table grows
    with every call (thousands under hypothesis). Register once, then make it a no-op for our tests."""
    import pipeline.cli as root

    root._register()
    real = root._register
    root._register = lambda: None
    yield
    root._register = real


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Project:
    root = tmp_path_factory.mktemp("project")
    (root / "policies" / "changes").mkdir(parents=True)
    shutil.copytree(REPO / "policies" / "objects", root / "policies" / "objects")
    shutil.copy(REPO / "policies" / "guardrails.yaml", root / "policies" / "guardrails.yaml")
    shutil.copytree(FLEET, root / "inventory")
    return Project(root)


@pytest.fixture(scope="session")
def validator(project) -> Validator:
    return Validator(project, FLEET, NOW)


@pytest.fixture
def write(project):
    """Write a change (dict or raw text/bytes) as <id>.yaml in a fresh folder; returns the path."""

    def _write(doc, name: str | None = None) -> Path:
        d = project.changes_dir / f"t{next(_counter)}"
        d.mkdir()
        if name is None:
            name = "CHG-1"
        p = d / f"{name}.yaml"
        if isinstance(doc, bytes):
            p.write_bytes(doc)
        else:
            p.write_text(dump(doc), encoding="utf-8")
        return p

    return _write


@pytest.fixture
def check(write, validator):
    def _check(doc, name: str | None = None):
        return validator.validate(write(doc, name))

    return _check


def ids(findings) -> set[str]:
    return {f.rule for f in findings}


def base(**extra) -> dict:
    doc = {"id": "CHG-1", "title": "test change", "requested_by": "tester"}
    doc.update(extra)
    return doc


def fw(*terms, hosts=("fw1",), **filt) -> dict:
    f = {"name": "F", "attach": ["server-edge"], "terms": list(terms)}
    f.update(filt)
    return base(targets={"hosts": list(hosts)}, firewall={"filters": [f]})


def rt(hosts=("r1",), **routing) -> dict:
    return base(targets={"hosts": list(hosts)}, routing=routing)


def term(name: str, action: str = "accept", **kw) -> dict:
    return {"name": name, "action": action, **kw}
