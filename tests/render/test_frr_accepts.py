"""Rendered FRR config is accepted by a real FRR 8.4 bgpd (scratch zebra + bgpd in an `ncr-*` network namespace),
and what `show running-config` then holds parses back into the rendered objects."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from pipeline.drivers import get_driver
from pipeline.drivers.render import UnsupportedConstruct
from pipeline.model.change import ChangeRequest
from pipeline.model.policy import DevicePolicy
from pipeline.model.resolve import Desired, resolve
from pipeline.parsers.frr import parse
from pipeline.plan import ops as O

from . import test_ops as T
from .cases import CASES
from .conftest import EXAMPLES, render_change, shared_known
from .test_roundtrip import normal

FRR = Path("/usr/lib/frr")
DRIVER = get_driver("frr")


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespace + FRR daemons)"
    if not (FRR / "bgpd").exists() or not shutil.which("vtysh") or not shutil.which("ip"):
        return "FRR 8.4 (bgpd, zebra, vtysh) or iproute2 not installed"
    return None


class ScratchFrr:
    def __init__(self, directory: Path):
        self.dir = directory

    def load(self, text: str) -> str | None:
        """Push text as a config file; the first refused line (driver error patterns), or None."""
        f = self.dir / "push.conf"
        f.write_text(text)
        r = subprocess.run(["vtysh", "--vty_socket", str(self.dir), "-f", str(f)], capture_output=True, text=True, timeout=60)
        return DRIVER.error_in(r.stdout + "\n" + r.stderr)

    def running(self) -> str:
        r = subprocess.run(["vtysh", "--vty_socket", str(self.dir), "-c", "show running-config"], capture_output=True,
                           text=True, timeout=60, check=True)
        return r.stdout


@pytest.fixture(scope="module")
def frr(fleet, store):
    reason = _why_not()
    if reason:
        print(f"skipping real-FRR checks: {reason}")
        pytest.skip(reason)
    ns = f"ncr-frr-{os.getpid()}"
    d = Path(tempfile.mkdtemp(prefix="ncr-frr-"))
    shutil.chown(d, "frr", "frr")
    pids: list[int] = []
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for daemon in ("zebra", "bgpd"):
            extra = ["-p", "0"] if daemon == "bgpd" else []
            subprocess.run(["ip", "netns", "exec", ns, str(FRR / daemon), "-d", "--vty_socket", str(d), "-z", str(d / "zserv.api"),
                            "-i", str(d / f"{daemon}.pid"), "--log", f"file:{d / daemon}.log", *extra],
                           check=True, capture_output=True, timeout=30)
            for _ in range(100):
                if (d / f"{daemon}.vty").exists() and (d / f"{daemon}.pid").exists():
                    break
                time.sleep(0.05)
            pids.append(int((d / f"{daemon}.pid").read_text().strip()))
        scratch = ScratchFrr(d)
        bgp = fleet.hosts["r1"].data.bgp
        base = [f"router bgp {bgp.asn}", " no bgp ebgp-requires-policy"]
        base += [f" neighbor {n.address} remote-as {n.remote_as}" for n in bgp.neighbors]
        base += [" address-family ipv6 unicast"] + [f"  neighbor {n.address} activate" for n in bgp.neighbors if n.address.version == 6]
        base += [" exit-address-family", "exit"]
        assert scratch.load("\n".join(base) + "\n") is None
        known = shared_known(store)
        shared_text = DRIVER.render([Desired(k, key, o) for k, key, o in known.items()], fleet.hosts["r1"], known=known)
        assert scratch.load(shared_text) is None, shared_text  # the baseline objects changes may reference
        yield scratch
    finally:
        for pid in reversed(pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        shutil.rmtree(d, ignore_errors=True)


def test_a_bad_line_is_detected(frr):
    """The check can fail: a refused argument and an unknown command are both reported."""
    assert frr.load("route-map NC-BAD permit 10\n set local-preference not-a-number\nexit\n") is not None
    assert frr.load("ip prefix-list NC-BAD seq 5 permit 10.0.0.0/8\nbogus netchange line\n") is not None
    assert frr.load("router bgp 65999\n") is not None  # `BGP is already running; AS is 65001` (no % sign)


def _frr_changes() -> list[tuple[str, ChangeRequest]]:
    from pipeline.project import load_change

    return [(n, c) for n, c in CASES.items()] + [("CHG-1002", load_change(EXAMPLES / "CHG-1002.yaml")[0])]


@pytest.mark.parametrize("name", [n for n, _ in _frr_changes()])
def test_rendered_config_is_accepted_and_reads_back(name, frr, fleet, store):
    change = dict(_frr_changes())[name]
    try:
        text = render_change(change, "r1", fleet, store)
    except UnsupportedConstruct:
        pytest.skip("refused on FRR")
    if not text:
        pytest.skip("nothing for r1 in this change")
    assert frr.load(text) is None, text
    running = parse(frr.running())
    for d in resolve(change, store, fleet.hosts["r1"]):
        got = running.get(d.kind, d.key)
        assert got is not None, (d.kind, d.key)
        assert normal("frr", d.kind, got) == normal("frr", d.kind, d.obj), (d.kind, d.key)


def test_edit_ops_are_accepted_in_order(frr, fleet):
    """A lifecycle of edits, printed by render_ops, goes in without a single refused line."""
    h = fleet.hosts["r1"]
    after_add = T.RM.model_copy(update={"entries": (T.RM_E10, T.RM_E15, T.RM.entries[1])})
    lifecycle = [
        O.Create("prefix_list", "PL-A", T.PL_OLD), O.Create("community_list", "CL-A", T.CL), O.Create("as_path_list", "100", T.AS),
        O.Create("route_map", "RM-A", T.RM), O.Create("route_map", "RM-OLD", T.RM.model_copy(update={"name": "RM-OLD"})),
        O.Bind("binding", "b", T.OLD_BIND, None), O.Bind("binding", "b", T.BIND, T.OLD_BIND),
        O.ModifyEntry("prefix_list", "PL-A", T.PL_NEW, T.PL_OLD.entries[1], T.E20_NEW),
        O.AddEntry("route_map", "RM-A", after_add, T.RM_E15), O.ModifyEntry("route_map", "RM-A", T.RM_NEW, T.RM_E10, T.RM_E10_NEW),
        O.RemoveEntry("route_map", "RM-A", after_add, T.RM_E15), O.RemoveEntry("prefix_list", "PL-A", T.PL_NEW, T.E20_NEW),
        O.Unbind("binding", "b", T.BIND), O.Delete("route_map", "RM-OLD", None), O.Delete("as_path_list", "100", T.AS),
    ]
    intended = DevicePolicy()
    intended.put("prefix_list", "PL-A", T.PL_NEW)
    for op in lifecycle:
        lines = DRIVER.render_ops([op], intended, h)
        assert frr.load("\n".join(lines) + "\n") is None, (op.verb, lines)
    running = parse(frr.running())
    assert running.route_maps["RM-A"].entries == T.RM_NEW.entries
    assert ("198.51.100.2", "ipv4", "in") not in running.bindings
    assert "100" not in running.as_path_lists and "RM-OLD" not in running.route_maps


def test_removal_change_is_accepted(frr, fleet, store):
    """CHG-1003 on r1: create the legacy objects first, then its rendered removal goes in and they are gone."""
    legacy = ("ip prefix-list PL-LEGACY seq 5 permit 10.9.0.0/16\nbgp community-list standard CL-LEGACY seq 5 permit 65009:1\n"
              "bgp as-path access-list AS-LEGACY seq 5 permit ^65009$\nroute-map RM-LEGACY permit 10\nexit\n")
    assert frr.load(legacy) is None
    text = render_change(EXAMPLES / "CHG-1003.yaml", "r1", fleet, store)
    assert frr.load(text) is None, text
    running = parse(frr.running())
    assert not {"PL-LEGACY", "CL-LEGACY", "AS-LEGACY", "RM-LEGACY"} & (set(running.prefix_lists) | set(running.community_lists)
                                                                       | set(running.as_path_lists) | set(running.route_maps))
