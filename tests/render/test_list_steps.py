"""A list edited line by line (FRR, IOS, AOS-CX) prints every staged step in one template call (`<kind>_steps`):
the lines must be those the single-entry macros print for each step (a copy at its free seq), in the same
order, in both directions (the plan and its rollback), and every value still passes the print gate."""

from __future__ import annotations

import pytest

from pipeline.drivers import all_platforms, get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.drivers.render.list_edits import LIST_KINDS, _same_match
from pipeline.model.policy import DevicePolicy
from pipeline.model.routing import (AsPathEntry, AsPathList, CommunityList, CommunityListEntry, PrefixList,
                                    PrefixListEntry)
from pipeline.model.staging import Step, staged_edit
from pipeline.plan import ops as O

from .conftest import PLATFORM_HOST

LIVE = [(p, k) for p in all_platforms() for k in LIST_KINDS
        if get_driver(p).live_lines and k in get_driver(p).kinds and get_driver(p).entry_addressable(k)]


def _entries(kind: str, n: int, variant: str) -> list:
    """n entries at seqs 10, 20, ... and 1001, 1002 (side by side); `variant` changes some of them."""
    seqs = [10 * (i + 1) for i in range(n)] + [1001, 1002]
    out = []
    for i, seq in enumerate(seqs):
        action = "deny" if variant == "new" and i % 3 == 0 else "permit"  # action only: same match
        j = i + 1 if variant == "new" and i % 4 == 1 else i  # what it matches changes
        if kind == "prefix_list":
            out.append(PrefixListEntry(seq=seq, action=action, prefix=f"198.18.{j}.0/24", le=28 if j % 5 == 0 else None))
        elif kind == "community_list":
            out.append(CommunityListEntry(seq=seq, action=action, communities=(f"65001:{j}",)))
        else:
            out.append(AsPathEntry(seq=seq, action=action, regex=f"^6500{j % 10} .*"))
    if variant == "new":  # one removed, one added
        out = [e for e in out if e.seq != 50]
        out.append(out[0].model_copy(update={"seq": 55}))
        out.sort(key=lambda e: e.seq)
    return out


def _list(kind: str, entries: list):
    cls = {"prefix_list": PrefixList, "community_list": CommunityList, "as_path_list": AsPathList}[kind]
    return cls(name="L-STEPS" if kind != "as_path_list" else "100", entries=tuple(entries))


def _entry_ops(kind: str, old, new) -> list[O.Op]:
    olds, news = {e.seq: e for e in old.entries}, {e.seq: e for e in new.entries}
    ops: list[O.Op] = []
    for s in sorted(olds.keys() | news.keys()):
        o, n = olds.get(s), news.get(s)
        if o == n:
            continue
        ops.append(O.AddEntry(kind, new.name, new, n) if o is None else O.RemoveEntry(kind, old.name, old, o)
                   if n is None else O.ModifyEntry(kind, new.name, new, o, n))
    return ops


def _one_macro_per_step(d, kind: str, old, new, ctx) -> list[str]:
    """How list_edit printed before: each step through <kind>_entry / no_<kind>_entry, the entry copied to its seq."""
    steps = staged_edit({e.seq: e for e in old.entries}, {e.seq: e for e in new.entries},
                        lambda o, n: d.prefix_list_seq_overwrite, _same_match)
    out: list[str] = []
    for st in steps:
        ent = st.entry if st.entry.seq == st.seq else st.entry.model_copy(update={"seq": st.seq})
        out += d.emit(f"{kind}_entry", new, ent, ctx) if st.verb == "add" else d.emit(f"no_{kind}_entry", old, ent, ctx)
    return out


@pytest.mark.parametrize("platform,kind", LIVE)
@pytest.mark.parametrize("direction", ["plan", "rollback"])
def test_a_staged_edit_prints_what_one_entry_macro_per_step_printed(platform, kind, direction, fleet):
    d = get_driver(platform)
    old, new = _list(kind, _entries(kind, 24, "old")), _list(kind, _entries(kind, 24, "new"))
    if direction == "rollback":
        old, new = new, old
    h = fleet.hosts[PLATFORM_HOST[platform]]
    pol = DevicePolicy()
    pol.put(kind, new.name, new)
    lines = d.render_ops(_entry_ops(kind, old, new), pol, h)
    assert lines == _one_macro_per_step(d, kind, old, new, d.context(h, pol))
    taken = {f" seq {e.seq} " for e in (*old.entries, *new.entries)}  # the edit goes through copies at free seqs
    assert any(" seq " in ln and not any(t in ln + " " for t in taken) for ln in lines)


def test_every_live_line_platform_has_a_steps_macro_for_each_list_it_edits_by_seq():
    live = {p for p in all_platforms() if get_driver(p).live_lines}
    assert {"frr", "cisco_ios", "aruba_aoscx"} <= {p.value if hasattr(p, "value") else p for p in live}
    for platform, kind in LIVE:
        assert getattr(get_driver(platform).macros, f"{kind}_steps", None) is not None, (platform, kind)


@pytest.mark.parametrize("platform", ["frr", "cisco_ios", "aruba_aoscx"])
def test_the_steps_macro_refuses_a_value_with_a_line_break(platform, fleet):
    """An entry built without validation that reaches the template still meets print_gate and single_lines."""
    d = get_driver(platform)
    good = PrefixListEntry(seq=10, action="permit", prefix="198.18.0.0/24")
    bad = PrefixListEntry.model_construct(seq=10, action="permit 198.18.0.0/24\nno router bgp 65001", prefix=good.prefix,
                                          ge=None, le=None, description=None)
    pl = PrefixList(name="PL-A", entries=(good,))
    ctx = d.context(fleet.hosts[PLATFORM_HOST[platform]])
    assert d.emit("prefix_list_steps", pl, pl, [Step("add", 5, good)], ctx)  # the good one prints
    with pytest.raises(UnsupportedConstruct, match="line break"):
        d.emit("prefix_list_steps", pl, pl, [Step("add", 5, bad)], ctx)


def test_an_unvalidated_entry_in_a_staged_edit_is_refused(fleet):
    """The printer re-checks the list before staging it: an entry from model_construct does not get through."""
    d = get_driver("cisco_ios")
    old = _list("prefix_list", _entries("prefix_list", 6, "old"))
    bad = PrefixListEntry.model_construct(seq=20, action="permit permit", prefix=old.entries[1].prefix, ge=None, le=None,
                                          description=None)
    new = old.model_copy(update={"entries": (old.entries[0], bad, *old.entries[2:])})
    with pytest.raises(UnsupportedConstruct):
        d.render_ops([O.ModifyEntry("prefix_list", new.name, new, old.entries[1], bad)], DevicePolicy(),
                     fleet.hosts[PLATFORM_HOST["cisco_ios"]])


_PL = PrefixListEntry(seq=10, action="permit", prefix="198.18.0.0/24")
_CL = CommunityListEntry(seq=10, action="permit", communities=("65001:1",))


@pytest.mark.parametrize("old,new", [
    (_PL, _PL.model_copy(update={"action": "deny"})),
    (_PL, _PL.model_copy(update={"action": "deny", "seq": 20, "description": "moved"})),
    (_PL, _PL.model_copy(update={"le": 28})),
    (_PL, PrefixListEntry(seq=10, action="deny", prefix="198.18.1.0/24")),
    (_CL, _CL.model_copy(update={"action": "deny"})),
    (_CL, _CL.model_copy(update={"communities": ("65001:2",)})),
    (AsPathEntry(seq=10, action="permit", regex="^1$"), AsPathEntry(seq=10, action="deny", regex="^1$")),
    (AsPathEntry(seq=10, action="permit", regex="^1$"), AsPathEntry(seq=10, action="permit", regex="^2$")),
    (_PL, _CL),
])
def test_same_match_is_equality_but_for_action_seq_and_description(old, new):
    """_same_match compares fields directly; it must answer what the model copy and pydantic `==` answered."""
    update = {"action": new.action, "seq": new.seq}
    if hasattr(new, "description"):
        update["description"] = new.description
    assert _same_match(old, new) == (old.model_copy(update=update) == new)


V6_OLD = PrefixList(name="PL-V6", entries=(PrefixListEntry(seq=10, action="permit", prefix="2001:db8::/32", le=48),
                                           PrefixListEntry(seq=20, action="permit", prefix="2001:db8:1::/48"),
                                           PrefixListEntry(seq=30, action="deny", prefix="2001:db8:2::/48")))
V6_NEW = PrefixList(name="PL-V6", entries=(PrefixListEntry(seq=10, action="permit", prefix="2001:db8::/32", ge=40, le=48),
                                           PrefixListEntry(seq=30, action="deny", prefix="2001:db8:2::/48"),
                                           PrefixListEntry(seq=40, action="permit", prefix="2001:db8:3::/48")))


@pytest.mark.parametrize("platform,expected", [
    ("cisco_ios", ["ipv6 prefix-list PL-V6 seq 5 permit 2001:db8::/32 ge 40 le 48",
                   "ipv6 prefix-list PL-V6 seq 40 permit 2001:db8:3::/48", "no ipv6 prefix-list PL-V6 seq 20",
                   "no ipv6 prefix-list PL-V6 seq 10", "ipv6 prefix-list PL-V6 seq 10 permit 2001:db8::/32 ge 40 le 48",
                   "no ipv6 prefix-list PL-V6 seq 5"]),
    ("frr", ["ipv6 prefix-list PL-V6 seq 5 permit 2001:db8::/32 ge 40 le 48", "ipv6 prefix-list PL-V6 seq 40 permit 2001:db8:3::/48",
             "no ipv6 prefix-list PL-V6 seq 20 permit 2001:db8:1::/48",
             "ipv6 prefix-list PL-V6 seq 10 permit 2001:db8::/32 ge 40 le 48",
             "no ipv6 prefix-list PL-V6 seq 5 permit 2001:db8::/32 ge 40 le 48"]),
])
def test_a_staged_ipv6_edit_prints_these_lines(platform, expected, fleet):
    """The lines themselves (the macros above are compared with each other): copy, add, remove, replace, drop the copy."""
    d = get_driver(platform)
    pol = DevicePolicy()
    pol.put("prefix_list", "PL-V6", V6_NEW)
    assert d.render_ops(_entry_ops("prefix_list", V6_OLD, V6_NEW), pol, fleet.hosts[PLATFORM_HOST[platform]]) == expected


COMMITTED = [p for p in all_platforms() if not get_driver(p).live_lines and getattr(get_driver(p).macros, "prefix_list_steps", None)]


@pytest.mark.parametrize("platform", COMMITTED)
def test_where_a_commit_applies_the_lines_the_ops_print_one_after_the_other(platform, fleet):
    """Inside a configure session (EOS, NX-OS) the entry ops of a list print in their order as op_lines prints
    each, now in one steps call."""
    d = get_driver(platform)
    old, new = _list("prefix_list", _entries("prefix_list", 24, "old")), _list("prefix_list", _entries("prefix_list", 24, "new"))
    h = fleet.hosts[PLATFORM_HOST[platform]]
    pol = DevicePolicy()
    pol.put("prefix_list", new.name, new)
    ops = _entry_ops("prefix_list", old, new)
    ctx = d.context(h, pol)
    assert d.render_ops(ops, pol, h) == [line for op in ops for line in d.op_lines(op, ctx)]


def test_eos_prints_each_entry_edit_in_the_lists_mode(fleet):
    pol = DevicePolicy()
    pol.put("prefix_list", "PL-V6", V6_NEW)
    assert get_driver("arista_eos").render_ops(_entry_ops("prefix_list", V6_OLD, V6_NEW), pol, fleet.hosts[PLATFORM_HOST["arista_eos"]]) == [
        "ipv6 prefix-list PL-V6", "   no seq 10", "ipv6 prefix-list PL-V6", "   seq 10 permit 2001:db8::/32 ge 40 le 48",
        "ipv6 prefix-list PL-V6", "   no seq 20", "ipv6 prefix-list PL-V6", "   seq 40 permit 2001:db8:3::/48"]
