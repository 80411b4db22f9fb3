"""AS-path and community regexes: a hostile expression can neither hang a plan nor reach a device.

The impact preview runs device regexes with RE2 (linear time); the model refuses expressions that would
take super-linear time on a backtracking engine (IOS, PCRE-built FRR). The hang test runs in a
subprocess with a generous limit, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from pipeline.devregex import superlinear
from pipeline.model import DevicePolicy
from pipeline.model.routing import AsPathEntry, AsPathList, CommunityList, CommunityListEntry, Match, RouteMap, RouteMapEntry
from pipeline.names import Regex
from pipeline.plan.impact import Route, evaluate

ROOT = Path(__file__).resolve().parents[2]
REGEX = TypeAdapter(Regex)
CATASTROPHIC = "^([0-9]+ ?)+x$"


def _policy_with(as_path_regex: str | None = None, community_regex: str | None = None) -> DevicePolicy:
    """Built with model_construct: what a parser or an older netchange might hand the preview unchecked."""
    p = DevicePolicy()
    match = {}
    if as_path_regex:
        p.as_path_lists["AS-X"] = AsPathList.model_construct(
            name="AS-X", entries=(AsPathEntry.model_construct(seq=10, action="permit", regex=as_path_regex),))
        match["as_path"] = "AS-X"
    if community_regex:
        p.community_lists["CL-X"] = CommunityList.model_construct(name="CL-X", kind="expanded", entries=(
            CommunityListEntry.model_construct(seq=10, action="permit", communities=(), regex=community_regex),))
        match["community_list"] = "CL-X"
    p.route_maps["RM-X"] = RouteMap(name="RM-X", entries=(RouteMapEntry(seq=10, action="permit", match=Match(**match)),))
    return p


def test_impact_preview_of_a_catastrophic_as_path_regex_finishes():
    # Python's re needs ~2^(5*40) steps for this; RE2 is linear. A hang is a failure after 120 s.
    code = textwrap.dedent(f"""
        import sys; sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests' / 'plan')!r}]
        from test_regex_bounds import _policy_with, Route, evaluate
        p = _policy_with(as_path_regex={CATASTROPHIC!r}, community_regex={CATASTROPHIC!r})
        r = Route(prefix="203.0.113.0/24", as_path=(65001,) * 40, communities=frozenset(f"65001:{{i}}" for i in range(40)))
        print(evaluate(p, "RM-X", r))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None"  # no 'x' at the end: denied, as FRR would


def test_device_underscore_means_a_delimiter_in_as_paths_and_communities():
    p = _policy_with(as_path_regex="_65002_")
    assert evaluate(p, "RM-X", Route(prefix="203.0.113.0/24", as_path=(65001, 65002, 65003))) is not None
    assert evaluate(p, "RM-X", Route(prefix="203.0.113.0/24", as_path=(65001, 650020))) is None
    c = _policy_with(community_regex="_65001:666_")  # FRR's bgp_regcomp treats `_` alike in community lists
    assert evaluate(c, "RM-X", Route(prefix="203.0.113.0/24", communities=frozenset({"65001:100", "65001:666"}))) is not None
    assert evaluate(c, "RM-X", Route(prefix="203.0.113.0/24", communities=frozenset({"65001:6660"}))) is None


@pytest.mark.parametrize("bad", [CATASTROPHIC, "^(.*)*x$", "([0-9]+)+", "^([0-9]+,?)+$", ".*.*.*x", "((a+)b?)+"])
def test_super_linear_regexes_are_refused_by_the_model(bad):
    with pytest.raises(ValidationError, match="super-linear"):
        REGEX.validate_python(bad)


@pytest.mark.parametrize("good", ["^65003_", "_65002_", "^65001(_[0-9]+)*$", "^([0-9]+_)*65003$", ".*", "^$",
                                  "^65535:666$", "^(65001|65002)_", ".* .*", "^(_65001)+$"])
def test_ordinary_device_regexes_pass(good):
    assert REGEX.validate_python(good) == good
    assert superlinear(good) is None


@pytest.mark.parametrize("bad", ["(?i)x", "_65001_\n", "(abc", "a**"])
def test_non_device_syntax_is_refused(bad):
    with pytest.raises(ValidationError):
        REGEX.validate_python(bad)


def test_validate_names_file_line_and_field_of_a_catastrophic_regex(tmp_path):
    from pipeline.project import Project
    from pipeline.validate import validate_change

    f = tmp_path / "CHG-7001.yaml"
    f.write_text(textwrap.dedent(f"""\
        id: CHG-7001
        title: hostile as-path
        requested_by: x
        targets: {{hosts: [r1]}}
        routing:
          as_path_lists:
            - name: AS-BAD
              entries:
                - {{seq: 10, action: permit, regex: "{CATASTROPHIC}"}}
        """))
    findings = validate_change(f, Project(ROOT), inventory=ROOT / "tests" / "fixtures" / "fleet")
    bad = [x for x in findings if "super-linear" in x.message]
    assert bad and bad[0].is_error
    assert bad[0].location.line == 9 and bad[0].location.field == "routing.as_path_lists[0].entries[0].regex"
