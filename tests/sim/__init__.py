"""Device-semantics simulators (test support): apply commands to a running config the way each platform's
CLI does, print `show running-config`, expose policy semantics and dangling references.

Independent of netchange's renderers and parsers by construction: nothing here imports
`pipeline.parsers` or `pipeline.drivers` (a test enforces it). See docs/SIMULATORS.md.
"""

from __future__ import annotations

import importlib

from .errors import Rejected, Unmodelled

PLATFORMS = ("cisco_ios", "arista_eos", "aruba_aoscx", "cisco_nxos", "frr", "juniper_junos")


def simulator(platform: str, text: str = ""):
    """A fresh simulator of `platform` holding running config `text`."""
    if platform not in PLATFORMS:
        raise KeyError(f"no simulator for {platform}")
    module = importlib.import_module(f"{__name__}.{platform}")
    return module.SIM(text)


__all__ = ["PLATFORMS", "Rejected", "Unmodelled", "simulator"]
