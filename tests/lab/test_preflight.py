"""Clear errors, with the fix, when the lab cannot be built here (no root, missing packages)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.errors import LabError
from pipeline.lab import lab as lab_mod
from pipeline.lab.lab import Lab

TOPO = Path(__file__).resolve().parents[2] / "inventory" / "topology.yaml"


def test_not_root_says_sudo(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="root.*sudo"):
        Lab(TOPO, prefix="nc").preflight()


def test_missing_binary_names_the_apt_package(monkeypatch):
    monkeypatch.setattr(lab_mod, "namespaces_available", lambda: (True, ""))
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda b: None if b in ("nft", "vtysh") else real(b))
    with pytest.raises(LabError) as e:
        Lab(TOPO, prefix="nc").preflight()
    assert "apt-get install -y frr nftables" in str(e.value)


def test_cli_reports_lab_errors_without_traceback(monkeypatch, capsys):
    from pipeline.cli import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["lab", "up", str(TOPO)]) == 2
    err = capsys.readouterr().err
    assert "needs root" in err and "Traceback" not in err
