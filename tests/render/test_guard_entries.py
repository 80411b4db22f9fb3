"""The printer's re-validation (render.guard) checks each entry of a list once per process (drivers/render/guarded.py):
copies of a list that share entries with one already checked must still be refused for what is new in them,
and for what the list as a whole does not allow."""

from __future__ import annotations

import ipaddress
import json

import pytest

from pipeline.drivers.render import UnsupportedConstruct, guarded
from pipeline.drivers.render.guards import guard
from pipeline.model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, PrefixList, PrefixListEntry,
                                    RouteMapEntry)


def _big() -> PrefixList:
    return PrefixList.model_validate({"name": "PL-BIG", "entries": [
        {"seq": 10 + i, "action": "permit", "prefix": f"198.18.{i}.0/24"} for i in range(50)]})


def test_a_copy_with_one_unvalidated_entry_is_refused():
    pl = _big()
    guard("prefix_list", pl)  # every entry now counts as checked
    bad = PrefixListEntry.model_construct(seq=99, action="permit permit", prefix=pl.entries[0].prefix)
    copy = pl.model_copy(update={"entries": pl.entries + (bad,)})
    with pytest.raises(UnsupportedConstruct, match="PL-BIG"):
        guard("prefix_list", copy)


def test_a_copy_with_a_unicode_line_break_in_a_new_entry_is_refused():
    pl = _big()
    guard("prefix_list", pl)
    bad = PrefixListEntry.model_construct(seq=99, action="permit", prefix=pl.entries[0].prefix, ge=None, le=None,
                                          description="x\u2028no router bgp 65001")
    with pytest.raises(UnsupportedConstruct, match="line break"):
        guard("prefix_list", pl.model_copy(update={"entries": (bad,) + pl.entries}))


def test_checked_entries_still_meet_the_lists_own_rules():
    std = CommunityList.model_validate({"name": "CL-A", "kind": "standard", "entries": [
        {"seq": 10, "action": "permit", "communities": ["65001:1"]}]})
    guard("community_list", std)
    # the same (checked) entry in a list whose kind it does not fit: the list-level validator must still run
    wrong = std.model_copy(update={"kind": "expanded"})
    with pytest.raises(UnsupportedConstruct, match="needs a regex"):
        guard("community_list", wrong)
    assert isinstance(wrong.entries[0], CommunityListEntry)


# -- entries of plain values skip both dumps (guarded._flat): the same verdicts and messages as the dumps gave

def _by_dumps(kind: str, obj: object) -> str | None:
    """The check before the fast path: every entry's JSON dump scanned, the list validated from its python dump."""
    name = getattr(obj, "name", "")
    if guarded.LINE_BREAKS.search(json.dumps(obj.model_dump(mode="json"), ensure_ascii=False)):  # type: ignore[attr-defined]
        return f"refusing to print {kind} {name!r}: it contains a Unicode line break"
    dump = obj.model_dump(by_alias=True, exclude={"entries"})  # type: ignore[attr-defined]
    dump["entries"] = [e.model_dump(by_alias=True) for e in obj.entries]  # type: ignore[attr-defined]
    try:
        type(obj).model_validate(dump)
    except ValueError as e:
        return f"refusing to print {kind} {name!r}: {e}"
    return None


def _verdict(kind: str, obj: object) -> str | None:
    try:
        guard(kind, obj)
    except UnsupportedConstruct as e:
        return str(e)
    return None


def _pl(*entries: PrefixListEntry, name: str = "PL-X") -> PrefixList:
    good = PrefixListEntry(seq=5, action="permit", prefix="198.18.0.0/24")
    return PrefixList.model_construct(name=name, afi=None, description=None, state="present", entries=(good,) + entries)


def _ple(**kw: object) -> PrefixListEntry:
    fields: dict[str, object] = {"seq": 10, "action": "permit", "prefix": ipaddress.ip_network("198.18.1.0/24"),
                                 "ge": None, "le": None, "description": None}
    return PrefixListEntry.model_construct(**{**fields, **kw})


def _scoped(scope: str) -> ipaddress.IPv6Network:
    return ipaddress.ip_network(f"2001:db8::%{scope}/32")


HOSTILE = [
    ("prefix_list", _pl(_ple(description="x\u2028no router bgp 65001"))),
    ("prefix_list", _pl(_ple(action="permit\x85"))),
    ("prefix_list", _pl(_ple(action="permit\nno router bgp 65001"))),
    ("prefix_list", _pl(_ple(action="allow"))),
    ("prefix_list", _pl(_ple(prefix="198.18.1.1/24"))),  # host bits, a string where a network belongs
    ("prefix_list", _pl(_ple(prefix="198.18.1.0/24\u2029"))),
    ("prefix_list", _pl(_ple(prefix="not a prefix"))),
    ("prefix_list", _pl(_ple(prefix="2001:db8::%eth0/32"))),
    ("prefix_list", _pl(_ple(prefix=_scoped("x\u2028y")))),  # a scope prints as text: the JSON dump sees it
    ("prefix_list", _pl(_ple(prefix=_scoped("eth0")))),
    ("prefix_list", _pl(_ple(seq=0))),
    ("prefix_list", _pl(_ple(seq="10"))),
    ("prefix_list", _pl(_ple(ge=200))),
    ("prefix_list", _pl(_ple(description="  padded  "))),
    ("prefix_list", _pl(_ple(description='quote " and ; semicolon'))),
    ("prefix_list", _pl(_ple(), name="PL X\u2028")),
    ("prefix_list", _pl(_ple(), name="bad name")),
    ("prefix_list", _pl(_ple(seq=11, prefix=ipaddress.ip_network("2001:db8::/32")))),  # mixed families
    ("prefix_list", _pl(_ple(seq=12))),  # nothing wrong
    ("community_list", CommunityList.model_construct(name="CL-X", kind="standard", description=None, state="present", entries=(
        CommunityListEntry.model_construct(seq=10, action="permit", communities=("65001:1", "65001:2\u2028"), regex=None),))),
    ("community_list", CommunityList.model_construct(name="CL-X", kind="standard", description=None, state="present", entries=(
        CommunityListEntry.model_construct(seq=10, action="permit", communities=("65001:1", "99999:1"), regex=None),))),
    ("community_list", CommunityList.model_construct(name="CL-X", kind="expanded", description=None, state="present", entries=(
        CommunityListEntry.model_construct(seq=10, action="permit", communities=(), regex="^65001:\n"),))),
    ("as_path_list", AsPathList.model_construct(name="AS-X", description=None, state="present", entries=(
        AsPathEntry.model_construct(seq=10, action="deny", regex="_65001_\u2028"),))),
    ("as_path_list", AsPathList.model_construct(name="AS-X", description=None, state="present", entries=(
        AsPathEntry.model_construct(seq=10, action="deny", regex="(unclosed"),))),
]


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize("kind,obj", HOSTILE, ids=range(len(HOSTILE)))
def test_entries_of_plain_values_get_the_verdict_their_dumps_gave(kind: str, obj: object) -> None:
    assert _verdict(kind, obj) == _by_dumps(kind, obj)


def test_plain_entries_take_the_fast_path_and_nested_or_scoped_ones_do_not() -> None:
    # what the test above covers: both paths; the benchmark's entries must take the fast one
    assert guarded._flat(_ple())
    assert guarded._flat(_ple(prefix="198.18.1.1/24", description="x\u2028"))
    assert guarded._flat(CommunityListEntry.model_construct(seq=1, action="permit", communities=("65001:1",), regex=None))
    assert not guarded._flat(_ple(prefix=_scoped("eth0")))
    assert not guarded._flat(_ple(description=type("S", (str,), {})("sub")))
    assert not guarded._flat(RouteMapEntry(seq=10, action="permit"))
