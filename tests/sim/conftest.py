"""Shared bits of the simulator tests: which platforms can be planned and simulated, the corpus, the modes."""

from __future__ import annotations

import os
import pkgutil
from pathlib import Path

import pipeline.drivers

from corpus import CORPUS
from sim import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
# NETCHANGE_SIM_LONG=1: many more generated examples (and hypothesis shrinks each failure to a minimal one)
LONG = os.environ.get("NETCHANGE_SIM_LONG") == "1"


def corpus_dir() -> Path:
    """The corpus kept in the repository (tests/fixtures/corpus), or $NETCHANGE_CORPUS."""
    return CORPUS


def driver_platforms() -> list[str]:
    """Platforms netchange has a driver for (derived from pipeline/drivers, so a new driver joins by itself)."""
    return sorted(m.name for m in pkgutil.iter_modules(pipeline.drivers.__path__) if m.name not in ("base", "cli", "render"))


def planned_platforms() -> list[str]:
    """Platforms with both a driver and a simulator: the property tests run on these."""
    return [p for p in PLATFORMS if p in driver_platforms()]


def corpus_files(platform: str) -> list[Path]:
    d = corpus_dir() / platform
    return sorted(f for f in d.iterdir() if f.is_file()) if d.is_dir() else []
