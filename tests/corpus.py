"""Where the real-device corpus lives: a byte-exact copy of the shared corpus (see its PROVENANCE.md) kept
in the repository, so CI runs every corpus test; NETCHANGE_CORPUS points elsewhere for a newer copy."""

from __future__ import annotations

import os
from pathlib import Path

CORPUS = Path(os.environ.get("NETCHANGE_CORPUS") or Path(__file__).resolve().parent / "fixtures" / "corpus")
