"""netchange installs like a Python tool: a wheel built from the checkout, installed into a clean virtualenv
outside it, validates, renders for every platform, plans on snapshots and reports its version from
another directory, reading its templates and schemas as package data."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import NETCHANGE, REPO, clean_env
from .test_inventory_adoption import project

from fleetdata import EXAMPLE_HOSTS

# Every platform once: the first example change that reaches its fleet host.
RENDERS = list({host: (cid, host) for cid, host in reversed(EXAMPLE_HOSTS)}.values())


def test_every_package_and_template_folder_is_in_the_wheel_list():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tree = {".".join(d.relative_to(REPO).parts) for d in (REPO / "pipeline").rglob("*")
            if d.is_dir() and d.name != "__pycache__" and any(f.is_file() for f in d.iterdir())}
    tree |= {"pipeline", "pipeline.labdata", "pipeline.templates"}
    tree |= {f"pipeline.templates.{d.name}" for d in (REPO / "templates").iterdir() if d.is_dir() and d.name != "__pycache__"}
    assert listed == tree
    from pipeline.inventory import Platform

    assert {p.value for p in Platform} <= {d.name for d in (REPO / "templates").iterdir()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh virtualenv with the wheel built from this checkout (and its dependencies) installed."""
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(base / "dist"), str(REPO)],
                           capture_output=True, text=True, timeout=600, env=clean_env())
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    warnings = [ln for ln in (build.stdout + build.stderr).splitlines() if "Warning" in ln and "licen" in ln.lower()]
    assert warnings == []  # SPDX license expression: setuptools has nothing to deprecate
    wheel = next((base / "dist").glob("netchange-*.whl"))
    python = shutil.which("python3") or sys.executable
    subprocess.run([python, "-m", "venv", str(base / "venv")], check=True, timeout=120)
    pip = subprocess.run([str(base / "venv" / "bin" / "pip"), "install", "-q", str(wheel)], capture_output=True,
                         text=True, timeout=900, env=clean_env())
    assert pip.returncode == 0, pip.stderr[-3000:]
    return base / "venv" / "bin"


@pytest.mark.slow
def test_wheel_works_from_any_directory(installed, tmp_path):
    # A project outside the checkout: the repository's policies, the example fleet as its inventory.
    work = tmp_path / "elsewhere"
    shutil.copytree(REPO / "policies", work / "policies")
    shutil.copytree(REPO / "tests" / "fixtures" / "fleet", work / "inventory")
    env = clean_env()

    def nc(*args, cwd=work, bin_=installed / "netchange"):
        return subprocess.run([str(bin_), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(installed / "python"), "-c", "import pipeline; print(pipeline.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert str(installed.parent) in where.stdout and str(REPO) not in where.stdout  # not the checkout

    from importlib.metadata import version

    p = nc("--version", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == f"netchange {version('netchange')}\n"

    p = nc("validate", "policies/changes/examples")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(list((work / 'policies/changes/examples').glob('*.yaml')))} file(s)" in p.stdout

    for cid, host in RENDERS:  # every platform, byte for byte what the checkout renders
        change = f"policies/changes/examples/{cid}.yaml"
        wheel = nc("render", change, "--host", host)
        here = nc("render", change, "--host", host, bin_=NETCHANGE)
        assert wheel.returncode == 0 and wheel.stdout.strip(), (host, wheel.stderr[-2000:])
        assert wheel.stdout == here.stdout, host

    plain = project(tmp_path / "plain")
    p = nc("plan", "policies/changes/CHG-0310.yaml", "--snapshots", "snapshots", "--format", "json", cwd=plain)
    assert p.returncode == 0, p.stderr[-2000:]
    assert '"platform": "juniper_junos"' in p.stdout and '"errors": []' in p.stdout

    for kind in ("change-request", "plan", "deploy-report"):
        p = nc("schema", "--kind", kind, cwd=tmp_path)
        assert p.returncode == 0 and f'"$id": "{kind}.schema.json"' in p.stdout, p.stderr
    p = subprocess.run([str(installed / "python"), "-c", "from pipeline.lab.lab import demo_topology; "
                        "from pipeline.telemetry.bpf_build import SOURCE; print(demo_topology(), SOURCE.is_file())"],
                       cwd=tmp_path, env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "site-packages/pipeline/labdata/topology.yaml True" in p.stdout, p.stdout + p.stderr
