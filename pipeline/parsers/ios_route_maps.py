"""IOS-style route-map clauses: `match` and `set` lines -> the model's clause fields."""

from __future__ import annotations

import re


from .ios_values import Unsupported, _address, asn, community


def _single(names: list[str], what: str) -> str:
    if len(names) != 1:
        raise Unsupported(f"{what} with {len(names)} names (model holds one)")
    return names[0]


def _match_clause(t: list[str]) -> tuple[str, str]:
    """`match ...` tokens -> (Match field, value)."""
    body = t[1:]
    if body[:3] in (["ip", "address", "prefix-list"], ["ipv6", "address", "prefix-list"]):
        return "prefix_list", _single(body[3:], "prefix-list match")
    if body[:3] in (["ip", "next-hop", "prefix-list"], ["ipv6", "next-hop", "prefix-list"]):
        return "next_hop_prefix_list", _single(body[3:], "next-hop prefix-list match")
    if body[:1] == ["community"]:
        if "exact-match" in body:
            raise Unsupported("exact-match community matching is not modelled")
        return "community_list", _single(body[1:], "community match")
    if body[:1] == ["large-community"]:
        if "exact-match" in body:
            raise Unsupported("exact-match community matching is not modelled")
        return "large_community_list", _single(body[1:], "large-community match")
    if body[:1] == ["as-path"] or body[:1] == ["aspath-list"]:  # AOS-CX: `match aspath-list X`
        return "as_path", _single(body[1:], "as-path match")
    if body[:1] == ["community-list"]:  # AOS-CX: `match community-list X`
        return "community_list", _single(body[1:], "community match")
    raise Unsupported("match condition not modelled")


def _set_clause(t: list[str]) -> list[tuple[str, object]]:
    """`set ...` tokens -> [(SetClause field, value)]."""
    body = t[1:]
    head = body[0]
    if head in ("local-preference", "weight", "metric") and len(body) == 2:
        if not body[1].isdigit():
            raise Unsupported(f"relative or non-numeric {head} is not modelled")
        return [({"local-preference": "local_preference", "metric": "med"}.get(head, head), int(body[1]))]
    if head == "community":
        return _set_community(body[1:])
    if head == "large-community":
        values = body[1:]
        if values[-1:] != ["additive"] or len(values) < 2:
            raise Unsupported("replacing or clearing large communities is not modelled (only additive)")
        return [("large_community_add", tuple(values[:-1]))]
    if head == "comm-list":  # IOS/NX-OS `set comm-list X delete`; FRR also `set comm-list delete X`
        rest = body[1:]
        if len(rest) == 2 and rest[1] == "delete":
            return [("community_delete", rest[0])]
        if len(rest) == 2 and rest[0] == "delete":
            return [("community_delete", rest[1])]
        raise Unsupported("comm-list operation not modelled (only delete)")
    if body[:2] == ["as-path", "prepend"]:
        values = body[2:]
        if not values or not all(re.fullmatch(r"\d+(\.\d+)?", v) for v in values):
            raise Unsupported("as-path prepend form not modelled (only literal AS numbers)")
        return [("as_path_prepend", tuple(asn(v) for v in values))]
    if body[:2] in (["ip", "next-hop"], ["ipv6", "next-hop"]):
        values = body[2:]
        if values[:1] == ["global"]:  # FRR `set ipv6 next-hop global A`
            values = values[1:]
        if values == ["peer-address"]:
            return [("next_hop", "peer-address")]
        if values == ["self"]:
            return [("next_hop", "self")]
        if len(values) == 1 and _address(values[0]) is not None:
            return [("next_hop", _address(values[0]))]
        raise Unsupported("next-hop form not modelled")
    if body == ["next-hop-self"]:
        return [("next_hop", "self")]
    raise Unsupported("set action not modelled")


def _set_community(values: list[str]) -> list[tuple[str, object]]:
    if values == ["none"]:
        raise Unsupported("'set community none' (remove all) has no field in the model")
    if values[:1] == ["community-list"]:  # EOS `set community community-list X delete`
        if len(values) == 3 and values[2] == "delete":
            return [("community_delete", values[1])]
        raise Unsupported("community-list based set is not modelled (only delete)")
    if values[-1:] == ["delete"]:
        raise Unsupported("deleting listed communities is not modelled (use a comm-list delete)")
    additive = values[-1:] == ["additive"]
    communities = tuple(community(v) for v in (values[:-1] if additive else values))
    if not communities:
        raise Unsupported("no communities")
    return [("community_add" if additive else "community_replace", communities)]
