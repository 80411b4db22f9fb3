"""Focused parsing (what a plan reads): everything a plan depends on is identical to a full parse."""

from __future__ import annotations

import importlib

import pytest

from pipeline.parsers.focus import Focus
from corpus import CORPUS as CORPUS_ROOT

CORPUS = CORPUS_ROOT
PLATFORMS = ("cisco_ios", "cisco_nxos", "arista_eos", "aruba_aoscx", "frr")


@pytest.mark.parametrize("path", [pytest.param(f, id=f"{p}/{f.name}") for p in PLATFORMS
                                  for f in sorted((CORPUS / p).iterdir()) if f.is_file()])
def test_focused_parse_keeps_what_a_plan_needs(path):
    mod = importlib.import_module(f"pipeline.parsers.{path.parent.name}")
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    full = mod.parse(text)
    one_list = sorted(full.prefix_lists)[:1]
    one_filter = sorted(full.filters)[:1]
    focused = mod.parse(text, focus=Focus(lists=frozenset(one_list), filters=frozenset(one_filter)))
    assert focused.route_maps == full.route_maps and focused.bindings == full.bindings
    for name in one_list:
        assert focused.prefix_lists[name] == full.prefix_lists[name]
    for name in one_filter:
        assert focused.filters[name] == full.filters[name]
    referenced = {n for rm in full.route_maps.values() for _, n in rm.references()}
    for kind in ("prefix_list", "community_list", "as_path_list"):
        table, whole = focused.table(kind), full.table(kind)
        assert {n for n in whole if n in referenced} <= set(table), f"{kind} referenced by a route-map is read"
        assert set(table) <= set(whole)
    assert set(focused.filters) == set(one_filter) & set(full.filters)


def test_versions_of_a_focused_name_are_read():
    from pipeline.parsers import cisco_ios

    text = "\n".join(["ip prefix-list PL-A seq 5 permit 198.18.0.0/24", "ip prefix-list PL-A.nc2 seq 5 permit 198.18.1.0/24",
                      "ip prefix-list PL-B seq 5 permit 198.18.2.0/24", "ip access-list extended F-v3", " permit ip any any",
                      "ip access-list extended G", " deny ip any any"]) + "\n"
    p = cisco_ios.parse(text, focus=Focus(lists=frozenset({"PL-A"}), filters=frozenset({"F"})))
    assert set(p.prefix_lists) == {"PL-A", "PL-A.nc2"} and set(p.filters) == {"F-v3"}
    assert any("focused parse" in s for s in p.skipped)
