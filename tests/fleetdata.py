"""The unit-test fleet (tests/fixtures/fleet: one host per driver, no devices behind it) and the example change
requests, as the tests' platform lists: derived from the inventory and the drivers, never written out."""

from __future__ import annotations

from pathlib import Path

from pipeline.inventory import Inventory
from pipeline.project import load_change

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "tests" / "fixtures" / "fleet"
EXAMPLES = ROOT / "policies" / "changes" / "examples"


def _platform_hosts() -> dict[str, str]:
    """platform -> its host in the fleet (tests/drivers checks every driver has exactly one)."""
    out: dict[str, str] = {}
    for name, host in Inventory(FLEET).hosts.items():
        out.setdefault(host.platform.value, name)
    return dict(sorted(out.items()))


def _example_hosts() -> list[tuple[str, str]]:
    """(change id, host) for every example change request and every fleet host it targets."""
    inv = Inventory(FLEET)
    out = []
    for f in sorted(EXAMPLES.glob("*.yaml")):
        t = load_change(f)[0].targets
        out += [(f.stem, h.name) for h in inv.select(t.hosts, t.groups, t.roles, t.sites)]
    return out


PLATFORM_HOST = _platform_hosts()
EXAMPLE_HOSTS = _example_hosts()
