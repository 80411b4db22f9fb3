"""What every driver owes (NAPALM's getters conformance, for netchange's driver): the data it declares is
complete and read by something, every kind it claims prints, every capability flag is consulted, and the
platform is the driver's business alone (no branch on a platform name outside pipeline/drivers/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.base import Driver, capability_flags
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.driver import TemplateDriver
from pipeline.inventory import Platform
from pipeline.model import ops as O
from pipeline.model.policy import Attachment, ConcreteFilter, DevicePolicy, Rule
from pipeline.model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, NeighborBinding, PrefixList,
                                    PrefixListEntry, RouteMap, RouteMapEntry)

from fleetdata import PLATFORM_HOST

REPO = Path(__file__).resolve().parents[2]
PIPELINE = REPO / "pipeline"
PLATFORMS = all_platforms()


def test_platforms_come_from_the_enum_and_each_has_a_module_and_a_fleet_host():
    assert PLATFORMS == sorted(p.value for p in Platform)
    for p in PLATFORMS:
        assert (PIPELINE / "drivers" / f"{p}.py").is_file() and get_driver(p).platform.value == p
        assert (PIPELINE / "parsers" / f"{p}.py").is_file()
    assert sorted(PLATFORM_HOST) == PLATFORMS  # tests/fixtures/fleet: one host per driver


# ---------------------------------------------------------------- every kind it claims prints

PL = PrefixList(name="PL-A", entries=(PrefixListEntry(seq=10, action="permit", prefix="198.51.100.0/24"),
                                      PrefixListEntry(seq=20, action="permit", prefix="203.0.113.0/24")))
CL = CommunityList(name="CL-A", entries=(CommunityListEntry(seq=10, action="permit", communities=("65001:1",)),
                                         CommunityListEntry(seq=20, action="permit", communities=("65001:2",))))
ASP = AsPathList(name="100", entries=(AsPathEntry(seq=10, action="permit", regex="^65002 .*"),
                                      AsPathEntry(seq=20, action="permit", regex="^65003 .*")))
RM = RouteMap(name="RM-A", entries=(RouteMapEntry.model_validate({"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"},
                                                                   "set": {"local_preference": 200}}),
                                    RouteMapEntry(seq=20, action="deny")))
OBJECTS = {"prefix_list": PL, "community_list": CL, "as_path_list": ASP, "route_map": RM}


def _filter(platform: str, port: int) -> ConcreteFilter:
    att = Attachment(hook="forward") if platform == "nftables" else Attachment(interface="Ethernet1", direction="out")
    return ConcreteFilter(name="EDGE", rules=(Rule(name="web", family="ipv4", destinations=("203.0.113.0/26",),
                                                   action="accept"),
                                              Rule(name=f"p{port}", family="ipv4", action="deny")), attachments=(att,))


def ops_for(platform: str, kind: str) -> list[O.Op]:
    """Every edit of *kind* a plan may ask of a driver."""
    if kind == "binding":
        b = NeighborBinding(neighbor="198.51.100.2", afi="ipv4", direction="in", route_map="RM-A")
        return [O.Bind("binding", "x", b), O.Bind("binding", "x", b, b.model_copy(update={"route_map": "RM-OLD"})),
                O.Unbind("binding", "x", b)]
    if kind == "filter":
        old, new = _filter(platform, 22), _filter(platform, 23)
        return [O.Create("filter", "EDGE", old), O.ReplaceFilter("filter", "EDGE", old, new), O.Delete("filter", "EDGE", old)]
    obj = OBJECTS[kind]
    first, second = obj.entries
    shorter = obj.model_copy(update={"entries": (first,)})
    # a real edit of the entry (a ModifyEntry whose two sides are equal changes nothing and may print nothing)
    edited = second.model_copy(update={"prefix": "203.0.113.0/25"} if kind == "prefix_list" else {"communities": ("65001:3",)} if kind == "community_list"
                               else {"regex": "^65004 .*"} if kind == "as_path_list" else {"description": "edited"})
    changed = obj.model_copy(update={"entries": (first, edited)})
    return [O.Create(kind, obj.name, shorter), O.Delete(kind, obj.name, shorter), O.AddEntry(kind, obj.name, obj, second),
            O.RemoveEntry(kind, obj.name, obj, second), O.ModifyEntry(kind, obj.name, changed, second, edited)]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_kind_a_driver_claims_prints(platform, fleet):
    """Each op of each kind in `kinds` prints through the platform's macros (none is missing); a kind it does
    not claim is refused by name."""
    d = get_driver(platform)
    host = fleet.hosts[PLATFORM_HOST[platform]]
    intended = DevicePolicy(prefix_lists={"PL-A": PL}, community_lists={"CL-A": CL}, as_path_lists={"100": ASP},
                            route_maps={"RM-A": RM})
    for kind in ("prefix_list", "community_list", "as_path_list", "route_map", "binding", "filter"):
        for i, op in enumerate(ops_for(platform, kind)):
            if kind not in d.kinds:
                with pytest.raises(UnsupportedConstruct):
                    d.render_ops([op], intended, host)
                continue
            try:
                lines = d.render_ops([op], intended, host)
            except UnsupportedConstruct as e:
                assert "no template" not in str(e), e
                # a platform may refuse a construct (Junos: one community set per list), never a simple object
                assert i >= 2 or kind in ("binding", "filter") and i > 0, f"{platform}: {op.verb} {kind}: {e}"
                continue
            assert lines, f"{platform}: {op.verb} {kind} printed nothing"


# ---------------------------------------------------------------- declared data is read

def _sources() -> str:
    texts = [p.read_text() for p in PIPELINE.rglob("*.py")] + [p.read_text() for p in (REPO / "templates").rglob("*.j2")]
    return "\n".join(texts)


def test_every_capability_flag_is_consulted():
    """A flag nothing reads says something the platform's output does not act on: delete it or use it."""
    body = re.sub(r"class Capabilities\b.*?\n\n\n", "", _sources(), flags=re.S)  # not its own definition
    unread = [f for f in capability_flags() if not re.search(rf"(capabilities|caps)\.{f}\b", body)]
    assert not unread, f"Capabilities flags nothing reads: {unread}"


def _declared(cls: type) -> dict[str, int]:
    """Attributes a driver class body assigns (name -> line)."""
    import inspect

    tree = ast.parse(inspect.getsource(cls))
    out = {}
    for node in tree.body[0].body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            if isinstance(t, ast.Name):
                out[t.id] = node.lineno
    return out


def test_every_driver_attribute_is_read():
    """Twelve attributes once declared data nobody used (a `commit check` that never ran): every attribute a
    driver class declares is read somewhere (`.name` in pipeline code, or by name in a template)."""
    classes = {Driver, TemplateDriver} | {type(get_driver(p)) for p in PLATFORMS}
    declared = {name for cls in classes for name in _declared(cls)}
    body = _sources()
    unread = sorted(n for n in declared if not re.search(rf"\.{n}\b", body) and not re.search(rf"\{{\{{[^}}]*\b{n}\b", body))
    assert not unread, f"driver attributes nothing reads: {unread}"


# ---------------------------------------------------------------- the platform is the driver's business

def test_device_sessions_have_no_platform_branch():
    src = (PIPELINE / "deploy" / "device.py").read_text()
    for word in [*PLATFORMS, "commit_mode ==", "Platform.", "junos", "eos", "candidate", "commit confirmed", "configure session"]:
        assert word not in src, f"deploy/device.py mentions {word!r}: a platform's behaviour belongs in its driver"


def test_no_module_outside_the_drivers_names_a_platform():
    """Outside pipeline/drivers/ (and parsers/, each named for its platform), no string is a platform key and no
    code picks a Platform member. inventory.py defines the keys and nornir's names for them; lab/ builds the
    lab's FRR routers and nftables host (node kinds of its topology, not drivers)."""
    found = []
    for path in sorted(PIPELINE.rglob("*.py")):
        rel = path.relative_to(PIPELINE)
        if rel.parts[0] in ("drivers", "parsers", "lab") or rel.as_posix() == "inventory.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in PLATFORMS:
                found.append(f"{rel}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Platform":
                found.append(f"{rel}:{node.lineno} Platform.{node.attr}")
    assert not found, "platform branches outside the drivers:\n" + "\n".join(found)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_lifecycle_data_is_consistent(platform):
    from netmiko.ssh_dispatcher import CLASS_MAPPER

    d = get_driver(platform)
    assert d.netmiko_device_type in CLASS_MAPPER
    mode = d.commit_mode
    # FRR-style binding switches go out in phase 2, after a phase-1 commit: a held phase-1 commit would
    # then be confirmed by the switch's own commit (or need a second timer). No platform may have both.
    assert not (d.binding_switch_is_refresh and mode.holds()), platform
    if mode.timer is not None:
        unit, lo, hi = mode.timer
        assert mode.timer_value(lo * unit) == lo and 0 < lo <= hi
    assert d.snapshot_suffix.startswith(".") and d.fetch_command


def test_published_schemas_list_every_platform():
    from pipeline.schemas import schema

    for kind in ("plan", "deploy-report"):
        text = str(schema(kind))
        for p in PLATFORMS:
            assert f"'{p}'" in text, (kind, p)
