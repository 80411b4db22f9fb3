"""`nft list ruleset` text -> `nft -j list ruleset` JSON, by loading it into a throwaway network namespace.

nft itself is the only complete parser of its language (defines, sets, maps, includes), so the text is
loaded with `nft -f` into a fresh namespace `ncp-<pid>-<random>` (always deleted) and listed as JSON.
Files written for a real host refer to interfaces that do not exist in an empty namespace: those are
created as dummy links there and the load retried. A few generator quirks nft refuses are repaired the
same way; every repair is reported as a note.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import NetchangeError

_ERROR = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<c1>\d+)-(?P<c2>\d+): Error: (?P<msg>.+)$", re.M)
_MAX_ATTEMPTS = 8


class NftLoadError(NetchangeError):
    """The ruleset text cannot be loaded (not root, or nft refuses it)."""

    exit_code = 2


@dataclass
class _Repair:
    interfaces: set[str]
    drop_lines: set[int]  # 1-based


def _run(argv: list[str], input: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, input=input, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise NftLoadError(f"command not found: {argv[0]} (nftables and iproute2 are needed)") from None


def _statement_lines(lines: list[str], n: int) -> set[int]:
    """Line numbers (1-based) of the statement starting at line n: up to balanced braces, past `\\` continuations."""
    depth, out = 0, set()
    for i in range(n, len(lines) + 1):
        code = lines[i - 1].split("#", 1)[0]
        depth += code.count("{") - code.count("}")
        out.add(i)
        if depth <= 0 and not code.rstrip().endswith("\\"):
            break
    return out


def _plan_repairs(stderr: str, lines: list[str]) -> _Repair | None:
    """Repairs for the errors nft reported; None when any error is not one we know how to repair."""
    repair = _Repair(set(), set())
    for m in _ERROR.finditer(stderr):
        n, c1, c2, msg = int(m["line"]), int(m["c1"]), int(m["c2"]), m["msg"]
        text = lines[n - 1] if 0 < n <= len(lines) else ""
        if msg.startswith("Interface does not exist"):
            name = text[c1 - 1:c2].strip().strip('"')
            if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,15}", name):
                return None
            repair.interfaces.add(name)
        elif "This statement is duplicated" in msg and text.strip().startswith("comment "):
            repair.drop_lines.add(n)  # generators print one chain comment per line; nft allows one
        elif msg.startswith("No such file or directory") and re.match(r"\s*delete\s+table\b", text):
            repair.drop_lines.add(n)  # deleting a table an empty namespace does not have
        elif msg.startswith("Could not process rule:") and text.strip():
            # the kernel here refuses this chain/rule (e.g. a NAT priority older kernels allowed)
            repair.drop_lines |= _statement_lines(lines, n)
        elif msg.startswith("syntax error") and repair.drop_lines:
            continue  # follow-on error of a line we are dropping anyway
        else:
            return None
    return repair if (repair.interfaces or repair.drop_lines) else None


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[3, 4, 5, 9] -> [(3, 5), (9, 9)]"""
    out: list[tuple[int, int]] = []
    for n in numbers:
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _add_stand_in_link(ns: str, name: str, serial: int) -> bool:
    """A link called *name* in *ns*: a dummy, or a veth pair where the dummy module is unavailable."""
    if _run(["ip", "-n", ns, "link", "add", name, "type", "dummy"]).returncode == 0:
        return True
    peer = f"ncpv{serial}"
    return _run(["ip", "-n", ns, "link", "add", name, "type", "veth", "peer", "name", peer]).returncode == 0


def load_into(ns: str, text: str, include_dirs: tuple[str | Path, ...] = ()) -> list[str]:
    """Load *text* with `nft -f` in network namespace *ns*, repairing what this host refuses (missing
    interfaces get stand-ins, refused statements are left out); return the repair notes."""
    notes: list[str] = []
    lines = text.splitlines()
    with tempfile.TemporaryDirectory(prefix="ncp-") as tmp:
        path = Path(tmp) / "ruleset.nft"
        includes = [a for d in include_dirs for a in ("-I", str(d))]
        for _ in range(_MAX_ATTEMPTS):
            path.write_text("\n".join(lines) + "\n")
            p = _run(["ip", "netns", "exec", ns, "nft", *includes, "-f", str(path)])
            if p.returncode == 0:
                return notes
            repair = _plan_repairs(p.stderr, lines)
            if repair is None:
                raise NftLoadError(f"nft refused the ruleset: {p.stderr.strip()}")
            for name in sorted(repair.interfaces):
                if not _add_stand_in_link(ns, name, len(notes)):
                    raise NftLoadError(f"nft refused the ruleset (missing interface {name}): {p.stderr.strip()}")
                notes.append(f"nft text: interface {name} does not exist here, loaded against a stand-in interface")
            for first, last in _runs(sorted(repair.drop_lines)):
                span = f"line {first}" if first == last else f"lines {first}-{last}"
                notes.append(f"nft text: {span} refused by nft here and left out: {lines[first - 1].strip()[:100]}")
                for n in range(first, last + 1):
                    lines[n - 1] = ""
        raise NftLoadError(f"nft refused the ruleset after {_MAX_ATTEMPTS} repairs: {p.stderr.strip()}")


def ruleset_json(text: str, include_dirs: tuple[str | Path, ...] = ()) -> tuple[str, list[str]]:
    """Load *text* in a throwaway namespace; return (`nft -j list ruleset` output, repair notes)."""
    if os.geteuid() != 0:
        raise NftLoadError("reading nft ruleset text needs root: it is loaded into a throwaway network namespace "
                           "(run as root, or pass `nft -j list ruleset` JSON to pipeline.parsers.nftables.parse)")
    ns = f"ncp-{os.getpid()}-{secrets.token_hex(3)}"
    p = _run(["ip", "netns", "add", ns])
    if p.returncode != 0:
        raise NftLoadError(f"cannot create network namespace {ns}: {p.stderr.strip()}")
    try:
        notes = load_into(ns, text, include_dirs)
        p = _run(["ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset"])
        if p.returncode != 0:
            raise NftLoadError(f"nft -j list ruleset failed: {p.stderr.strip()}")
        return p.stdout, notes
    finally:
        _run(["ip", "netns", "del", ns])
