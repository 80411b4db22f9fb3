"""nftables on the firewall node: load the baseline ruleset atomically (check first, then apply)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import LabError
from .netns import in_ns, run


def apply_baseline(ns: str, ruleset: str, node_dir: Path) -> None:
    path = node_dir / "baseline.nft"
    # flush first so `lab up` over a half-built firewall still ends with exactly the baseline
    path.write_text("flush ruleset\n" + ruleset)
    for args in (["nft", "-c", "-f", str(path)], ["nft", "-f", str(path)]):
        p = run(in_ns(ns, args), check=False)
        if p.returncode != 0:
            raise LabError(f"nftables rejected the baseline ruleset {path}: {p.stderr.strip()}")


def ruleset_json(ns: str) -> dict:
    p = run(in_ns(ns, ["nft", "-j", "list", "ruleset"]))
    return json.loads(p.stdout or "{}")
