"""Validation work is bounded in every phase: a 2 KB term cannot keep `validate` busy for minutes.

No timing here: the tests count the boxes built and the work units spent, and force the limit with a
small one where they need it to run out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.validate import Validator
from pipeline.validate.rules import shadowing

from .conftest import FLEET, NOW, fw, ids, rt, term

ROOT = Path(__file__).resolve().parents[2]


def _cube(n: int) -> dict:
    """One term of n sources x n destinations x n ports (60: 216,000 combinations in ~2 KB of YAML)."""
    return fw(term("big", sources=[f"198.18.{i}.0/24" for i in range(n)],
                   destinations=[f"198.19.{i}.0/24" for i in range(n)],
                   protocols=["tcp"], destination_ports=[1000 + 2 * i for i in range(n)]))


def test_a_60x60x60_term_is_reported_not_enumerated(check, monkeypatch):
    built = []
    real = shadowing.rule_boxes
    monkeypatch.setattr(shadowing, "rule_boxes", lambda r: built.append(r) or real(r))
    found = check(_cube(60))
    assert not built, "the 216,000 boxes must not be built"
    nc209 = [f for f in found if f.rule == "NC209"]
    assert nc209 and "216,000" in nc209[0].message
    assert nc209[0].location.field == "firewall.filters[0].terms[0].name" and nc209[0].location.line
    assert not [f for f in found if f.is_error]  # advice skipped, nothing wrong with the change


def test_the_60x60x60_term_validates_from_the_cli_without_hanging(write):
    # The regression guard for the old behaviour (over 300 s): a subprocess with a generous limit.
    path = write(_cube(60))
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "validate", str(path), "--inventory", str(FLEET)],
                         capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert "Traceback" not in out.stderr
    assert "NC209" in out.stdout + out.stderr


def test_candidate_scans_are_charged_so_one_term_cannot_spend_more_than_its_share(validator, write):
    # 200 x 200 single hosts: 40,000 boxes (under the box cap), each of whose queries used to scan 200
    # of the term's own boxes uncharged (8 million overlap tests).
    doc = fw(term("wide", sources=[f"198.18.{i // 256}.{i % 256}/32" for i in range(200)],
                  destinations=[f"198.19.{i // 256}.{i % 256}/32" for i in range(200)],
                  protocols=["tcp"], destination_ports=[443]))
    spent = []
    real = shadowing._share

    def share(ctx):
        b = real(ctx)
        spent.append((b, b.left))
        return b

    import pytest
    mp = pytest.MonkeyPatch()
    mp.setattr(shadowing, "_share", share)
    try:
        found = validator.validate(write(doc))
    finally:
        mp.undo()
    assert "NC209" in ids(found)
    for b, _start in spent:
        assert b.left > -50_000  # stopped within one query (at most the 40,000 boxes) of its share


def test_running_out_of_work_is_a_too_complex_error_naming_the_object(project, write):
    # Forced: a tiny limit. Guardrails cannot vouch for the change, so it fails closed (NC210, an error).
    v = Validator(project, FLEET, NOW, work_limit=50)
    pl = {"name": "PL-A", "afi": "ipv4", "entries": [{"seq": 10 * (i + 1), "action": "permit", "prefix": f"198.18.{i}.0/24",
                                                      "le": 28} for i in range(40)]}
    rm = {"name": "RM-IN", "entries": [{"seq": 10, "action": "permit", "match": {"prefix_list": "PL-A"}}]}
    found = v.validate(write(rt(prefix_lists=[pl], route_maps=[rm],
                                bindings=[{"neighbor": "198.51.100.6", "afi": "ipv4", "direction": "in", "route_map": "RM-IN"}])))
    too = [f for f in found if f.rule == "NC210"]
    assert too and too[0].is_error, found
    assert "too complex" in too[0].message and too[0].location.line and too[0].location.field


def test_route_map_reachability_is_linear(check):
    # 3,000 entries: the old pairwise subset scan made 4.5 million comparisons; still found here.
    entries = [{"seq": 1, "action": "permit", "match": {"prefix_list": "PL-BOGONS-V4"}}]
    entries += [{"seq": 2 + i, "action": "deny", "match": {"prefix_list": "PL-BOGONS-V4", "as_path": f"AS{i}"}} for i in range(3000)]
    found = check(rt(route_maps=[{"name": "RM", "entries": entries}]))
    assert sum(1 for f in found if f.rule == "NC204") == 3000
