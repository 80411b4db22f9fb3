"""Issue 11 item 5: names with a trailing newline passed `re.match(...$)`, and `RM1\\n` rendered as
`route-map RM1` + ` permit 10`. Names are checked with full matches everywhere they are validated."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import LabError
from pipeline.lab.netns import check_prefix
from pipeline.lab.topology import Topology
from pipeline.plan.versioned import split_version

CHANGE = """id: CHG-0669
title: t
requested_by: t
targets: {hosts: [r1, ios1]}
routing:
  route_maps:
    - name: "RM1\\n"
      entries: [{seq: 10, action: permit}]
"""


def test_route_map_name_with_a_trailing_newline_is_refused_by_validate(project, cli):
    f = project("CHG-0669", CHANGE)
    code, out, err = cli("validate", str(f), "--format", "json", "--project", str(f.parents[2]))
    (finding,) = json.loads(out)["files"][0]["findings"]
    assert code == 1 and finding["rule"] == "NC004"
    assert (finding["line"], finding["field"]) == (7, "routing.route_maps[0].name")


@pytest.mark.parametrize("host", ["r1", "ios1"])
def test_route_map_name_with_a_trailing_newline_is_refused_by_render(project, cli, host):
    code, out, err = cli("render", str(project("CHG-0669", CHANGE)), "--host", host)
    assert code == 2 and out == "" and "routing.route_maps[0].name" in err


def test_lab_prefix_and_node_names_full_match():
    assert check_prefix("ncw1") == "ncw1"
    with pytest.raises(LabError):
        check_prefix("ncw1\n")
    node = {"kind": "host"}
    Topology.model_validate({"name": "t", "nodes": {"h1": node}, "links": []})
    with pytest.raises(ValueError, match="node name"):  # a node name becomes the router's hostname line
        Topology.model_validate({"name": "t", "nodes": {"h1\n": node}, "links": []})


def test_a_name_with_a_trailing_newline_is_not_a_versioned_name():
    assert split_version("RM-IN.nc2") == ("RM-IN", 2)
    assert split_version("RM-IN.nc2\n") == ("RM-IN.nc2\n", 0)
