"""Mutated running configs per platform, seeded from the shared corpus of real configs and from configs the
project's own drivers print (with the unmodelled lines of running.py), plus a small change to plan
against each one.

Text platforms get line-level mutations (drop, duplicate, swap, move lines; swap or replace tokens;
truncate; control characters and Unicode line breaks; deep indentation and brace nesting; huge numbers;
very long lines; CRLF; lines spliced in from other seeds). nftables snapshots (`nft -j list ruleset`) and
FRR received-routes files get structural JSON mutations (dropped keys, wrong types, hostile strings, huge
numbers, deep nesting, duplicated and swapped items) and truncation.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import json
import os
import re

from . import changes as C
from .harness import FLEET, PLATFORM_HOST, REPO, find_corpus
from .running import ASN, FOREIGN, IFACE, NFT_FOREIGN, bgp_policy, firewall_policy, nft_ruleset, received_routes, render_running

TEXT_PLATFORMS = ("frr", "cisco_ios", "arista_eos", "aruba_aoscx", "juniper_junos", "cisco_nxos")
PLATFORMS = TEXT_PLATFORMS + ("nftables",)
_IDENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}\Z")
MAX_SEED_LINES = 3000  # longer corpus files are fuzzed as windows of this many lines (most of the time)

HOSTILE_TOKENS = ["99999999999999999999999", "-1", "0", "4294967296", "65536", "256.256.256.256", "::::", "1.2.3.4/99",
                  "fe80::1%x", '"', "'", "{", "}", ";", "!", "#", "\\", "\x00", "\x1b", "\u2028", "\x85", "\t", "exit", "end",
                  "no", "permit", "deny", "seq", "route-map", "A" * 300, "é", "%", "/", "-", "..", "../../x"]


@functools.lru_cache(maxsize=None)
def corpus_seeds(platform: str) -> tuple[tuple[str, str], ...]:
    """(name, text) of the corpus files of a platform; nftables text is turned into `nft -j` JSON by nft
    itself in a throwaway namespace (root only)."""
    corpus = find_corpus()
    if corpus is None or not (corpus / platform).is_dir():
        return ()
    out = []
    for f in sorted((corpus / platform).iterdir()):
        if not f.is_file():
            continue
        text = f.read_bytes().decode("utf-8", errors="surrogateescape")
        if platform == "nftables":
            if os.geteuid() != 0:
                continue
            from pipeline.parsers.nft_load import NftLoadError, ruleset_json

            try:
                data, _ = ruleset_json(text)
            except NftLoadError:
                continue
            text = json.dumps(data)
        out.append((f.name, text))
    return tuple(out)


@functools.lru_cache(maxsize=None)
def fixture_seeds(platform: str) -> tuple[tuple[str, str], ...]:
    if platform == "frr":
        return (("tests/gitlab/snapshots/r1.cfg", (REPO / "tests" / "gitlab" / "snapshots" / "r1.cfg").read_text()),)
    return ()


@functools.lru_cache(maxsize=1)
def inventory():
    from pipeline.inventory import Inventory

    return Inventory(FLEET)


def generated_seed(g: C.Gen, platform: str) -> tuple[str, str]:
    """A running config the platform's driver prints for a random policy, with unmodelled lines."""
    inv = inventory()
    if platform == "nftables":
        host = inv.hosts["fw1"]
        policy = firewall_policy(g, host.data.firewall.attachments["server-edge"])
        return "generated", nft_ruleset(policy, {f for f in NFT_FOREIGN if g.chance(30)})
    host_name = PLATFORM_HOST.get(platform, "ios1")  # NX-OS: IOS-printed config through the NX-OS parser
    host = inv.hosts[host_name]
    policy = bgp_policy(g, host_name)
    att = host.data.firewall.attachments.get("server-edge")
    if att is not None and g.chance(50):
        policy.filters.update(firewall_policy(g, att).filters)
    fplat = host.platform.value
    foreign = [line.format(asn=ASN[host_name], iface=IFACE.get(host_name, "")) for line in FOREIGN[fplat] if g.chance(30)]
    return "generated", render_running(host, policy, foreign)


def seed(g: C.Gen, platform: str) -> tuple[str, str]:
    pool = corpus_seeds(platform) + fixture_seeds(platform)
    if pool and g.chance(60):
        name, text = g.pick(pool)
        lines = text.split("\n")
        if len(lines) > MAX_SEED_LINES and platform != "nftables" and g.chance(95):
            start = g.int(0, len(lines) - MAX_SEED_LINES)
            text = "\n".join(lines[start:start + MAX_SEED_LINES])
        return name, text
    return generated_seed(g, platform)


# ------------------------------------------------------------------ text mutations

def _token_spans(line: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", line)]


def mutated_text(g: C.Gen, text: str, platform: str) -> str:
    lines = text.split("\n")
    others = [t for _, t in corpus_seeds(platform)] or [text]
    for _ in range(g.int(1, 4)):
        n = len(lines)
        i = g.int(0, max(n - 1, 0))
        j = g.int(0, max(n - 1, 0))
        op = g.pick(["drop", "drop", "dup", "swap", "move", "token_swap", "token_hostile", "token_hostile", "truncate",
                     "control", "deep", "huge_number", "long_line", "crlf", "splice", "indent", "repeat_block", "empty_lines"])
        if not lines:
            lines = [""]
            n, i, j = 1, 0, 0
        if op == "drop" and n > 1:
            k = g.int(1, min(20, n))
            del lines[i:i + k]
        elif op == "dup":
            lines[i:i] = lines[i:i + g.int(1, 10)]
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "move":
            lines.insert(j, lines.pop(i))
        elif op == "token_swap":
            spans = _token_spans(lines[i])
            if len(spans) > 1:
                a, b = g.pick(spans), g.pick(spans)
                if a != b:
                    (a, b) = sorted((a, b))
                    s = lines[i]
                    lines[i] = s[:a[0]] + s[b[0]:b[1]] + s[a[1]:b[0]] + s[a[0]:a[1]] + s[b[1]:]
        elif op == "token_hostile":
            spans = _token_spans(lines[i])
            tok = g.pick(HOSTILE_TOKENS)
            if spans:
                a, b = g.pick(spans)
                lines[i] = lines[i][:a] + tok + lines[i][b:]
            else:
                lines[i] = tok
        elif op == "truncate":
            joined = "\n".join(lines)
            cut = g.int(0, len(joined))
            lines = joined[:cut].split("\n")
        elif op == "control":
            at = g.int(0, len(lines[i]))
            lines[i] = lines[i][:at] + g.pick(C.CONTROL + ["\x00", "\x1b[0m", "\ufeff"]) + lines[i][at:]
        elif op == "deep":
            depth = g.pick([200, 2000, 20000])
            if platform == "juniper_junos" or g.chance(30):
                lines.insert(i, "a { " * depth + "}" * depth)
            else:  # one line more deeply indented than the previous, `depth` times
                lines[i:i] = [" " * k + "match tag 1" for k in range(1, min(depth, 1000))]
        elif op == "huge_number":
            lines[i] = re.sub(r"\d+", lambda m: g.pick(["99999999999999999999999", "4294967296", "65536", "0", "-1"]),
                              lines[i], count=g.int(1, 3))
        elif op == "long_line":
            lines.insert(i, g.pick(["description ", "ip prefix-list X seq 5 permit ", "set policy-options community X members ",
                                    " remark ", "route-map X permit "]) + "A" * g.pick([1000, 100000]))
        elif op == "crlf":
            lines = [ln + "\r" for ln in lines]
        elif op == "splice":
            other = g.pick(others).split("\n")
            k = g.int(0, max(len(other) - 1, 0))
            lines[i:i] = other[k:k + g.int(1, 30)]
        elif op == "indent":
            lines[i] = lines[i].strip() if lines[i][:1].isspace() else " " * g.int(1, 8) + lines[i]
        elif op == "repeat_block":
            lines[i:i] = lines[i:i + 5] * g.pick([10, 200])
        elif op == "empty_lines":
            lines[i:i] = [""] * g.int(1, 50)
    return "\n".join(lines)


# ------------------------------------------------------------------ JSON mutations (nft -j, FRR routes)

def _json_paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _json_paths(v, prefix + (i,))


_HOSTILE_JSON = [None, True, 0, -1, 2 ** 70, 1e308, -1e308, "", "x", "\n", "a\nb", "inet", "netchange", "hook-input", "accept",
                 "drop", "jump", "@set", "0.0.0.0/0", "::/0", "65536", [], {}, [None], {"": None}, {"jump": {"target": "x"}},
                 {"prefix": {"addr": "1.2.3.4", "len": 99}}, {"range": [10, 1]}, {"set": []}, {"map": {}}, "A" * 10000]


def mutated_json(g: C.Gen, text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return mutated_text(g, text, "nftables")
    for _ in range(g.int(1, 5)):
        paths = list(_json_paths(doc))
        path = g.pick(paths[1:] or paths)
        if not path:
            doc = copy.deepcopy(g.pick(_HOSTILE_JSON))
            continue
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = g.pick(["drop", "retype", "retype", "swap", "dup", "rename", "string"])
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = copy.deepcopy(g.pick(_HOSTILE_JSON))  # a shared [] placed twice could become its own child
        elif op == "swap":
            other = g.pick(paths)
            node = doc
            try:
                for k in other:
                    node = node[k]
                parent[key] = json.loads(json.dumps(node))
            except (KeyError, IndexError, TypeError, RecursionError):
                pass
        elif op == "dup" and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        elif op == "rename" and isinstance(parent, dict):
            parent[g.pick(["x", "", "family", "table", "chain", "name", "expr", "handle", "hook", "policy"])] = parent.pop(key)
        elif op == "string" and isinstance(parent[key], str):
            s = parent[key]
            at = g.int(0, len(s))
            parent[key] = s[:at] + g.pick(C.CONTROL + ['"', "\\", "}", " ", "%x"]) + s[at:]
    out = json.dumps(doc)
    if g.chance(10):
        depth = g.pick([1000, 100000])
        out = '{"deep": ' + "[" * depth + "]" * depth + ", " + out[1:] if out.startswith("{") and len(out) > 2 else out
    if g.chance(8):
        out = out[:g.int(0, len(out))]
    return out


# ------------------------------------------------------------------ the change planned against a mutated config

@functools.lru_cache(maxsize=256)
def _names_in(platform: str, digest: str, text: str) -> dict[str, tuple[str, ...]]:
    """Object names of the unmutated seed, by kind (so the change edits objects the device has)."""
    try:
        policy = importlib.import_module(f"pipeline.parsers.{platform}").parse(text)
    except Exception:  # noqa: BLE001 - the config cases themselves report parser failures
        return {}
    return {kind: tuple(sorted(str(k) for k in policy.table(kind)))
            for kind in ("prefix_list", "community_list", "as_path_list", "route_map", "filter")}


def names_in(platform: str, text: str) -> dict[str, tuple[str, ...]]:
    return _names_in(platform, hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest(), text)


def small_change(g: C.Gen, platform: str, names: dict[str, tuple[str, ...]]) -> dict:
    """A change to the platform's fleet host that edits, replaces or removes objects the config has."""
    host = PLATFORM_HOST[platform]

    def nm(kind: str, pool) -> str:
        have = [n for n in names.get(kind, ()) if _IDENT.match(n)]
        return g.pick(have) if have and g.chance(70) else g.pick(pool)

    doc: dict = {"id": "CHG-1", "title": "fuzz", "requested_by": "fuzz@example.net", "targets": {"hosts": [host]}}
    if g.chance(20):
        doc["strategy"] = "versioned"
    if platform == "nftables" or (platform != "frr" and g.chance(30)):
        f = C.filter_(g)
        f["name"] = nm("filter", C.FILTERS[:2])
        doc["firewall"] = {"filters": [f]}
        if platform == "nftables":
            return doc
    routing: dict = {}
    defined: dict[str, list[str]] = {"prefix_list": list(names.get("prefix_list", ())),
                                     "community_list": list(names.get("community_list", ())),
                                     "as_path_list": list(names.get("as_path_list", ()))}
    if g.chance(60) or "firewall" not in doc:
        routing["prefix_lists"] = [C.prefix_list(g, nm("prefix_list", C.PREFIX_LISTS[:3]))]
        defined["prefix_list"].append(routing["prefix_lists"][0]["name"])
    if g.chance(15):
        cl = C.community_list(g)
        cl["name"] = nm("community_list", C.COMMUNITY_LISTS[:2])
        routing["community_lists"] = [cl]
    if g.chance(40):
        rm = C.route_map(g, {k: [n for n in v if _IDENT.match(str(n))] for k, v in defined.items()})
        rm["name"] = nm("route_map", C.ROUTE_MAPS[:3])
        routing["route_maps"] = [rm]
    if g.chance(30):
        rms = [r["name"] for r in routing.get("route_maps", []) if r.get("state") != "absent"]
        b = C.binding(g, rms or list(names.get("route_map", ()))[:5], only_r1=platform == "frr")
        if b is not None:
            routing["bindings"] = [b]
    if routing:
        doc["routing"] = routing
    return doc


def config_case(g: C.Gen, platform: str) -> dict:
    from .suite import dump_yaml

    g.hostile = g.chance(30)  # the change itself is mostly well-formed: the config is the hostile input here
    name, text = seed(g, platform)
    mutated = mutated_json(g, text) if platform == "nftables" else mutated_text(g, text, platform)
    case = {"platform": platform, "seed": name, "text": mutated}
    if platform in PLATFORM_HOST:
        case["change"] = dump_yaml(small_change(g, platform, names_in(platform, text)))
        if platform == "frr" and g.chance(30):  # a malformed received-routes file beside the snapshot
            routes = received_routes(g, "ipv4")
            case["routes"] = {"r1": {"198.51.100.2_ipv4": mutated_json(g, routes)}}
    return case


__all__ = ["PLATFORMS", "config_case", "corpus_seeds"]
