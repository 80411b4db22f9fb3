"""`netchange render CHANGE --host H`: the config a change means on one host, as plain text on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Optional

import typer

from ..errors import InputError, Location, NetchangeError


class NotTargeted(NetchangeError):
    exit_code = 2


def render_change(change_path: Path, host_name: str, inventory_dir: Optional[Path] = None) -> str:
    """Load, resolve and render; every failure is a NetchangeError with a clear message."""
    from ..inventory import Inventory
    from ..model.objects import ObjectStore
    from ..model.policy import DevicePolicy, Kind
    from ..model.resolve import resolve
    from ..project import Project, load_change
    from .base import get_driver

    try:
        project: Project | None = Project.find(change_path.resolve().parent)
    except InputError:
        if inventory_dir is None:
            raise
        project = None
    change, _ = load_change(change_path)
    inventory = Inventory(inventory_dir) if inventory_dir else project.inventory  # type: ignore[union-attr]
    store = project.objects if project else ObjectStore()
    host = inventory.hosts.get(host_name)
    if host is None:
        raise InputError(f"unknown host '{host_name}' (inventory has: {', '.join(sorted(inventory.hosts))})",
                         Location(str(inventory.directory / "hosts.yaml")))
    t = change.targets
    if host not in inventory.select(t.hosts, t.groups, t.roles, t.sites):
        raise NotTargeted(f"change {change.id} does not target host {host_name}")
    try:
        desired = resolve(change, store, host, inventory.hosts)
    except KeyError as e:  # an unknown network/service object name
        raise InputError(f"change {change.id} refers to unknown object {e}", Location(str(change_path))) from None
    known = DevicePolicy()  # shared routing objects: families and kinds of what route-maps reference
    shared: tuple[tuple[Kind, Sequence[Any]], ...] = (
        ("prefix_list", store.routing.prefix_lists), ("community_list", store.routing.community_lists),
        ("as_path_list", store.routing.as_path_lists), ("route_map", store.routing.route_maps))
    for kind, objs in shared:
        for o in objs:
            known.put(kind, o.name, o)
    return get_driver(host.platform).render(desired, host, known=known)


def render(
    change: Path = typer.Argument(..., help="change-request YAML file"),
    host: str = typer.Option(..., "--host", help="inventory host to render for"),
    inventory: Optional[Path] = typer.Option(None, "--inventory", help="inventory folder (default: the project's inventory/)"),
) -> None:
    """Print the configuration that makes the change's objects true on HOST (plain text, nothing else)."""
    sys.stdout.write(render_change(change, host, inventory))


def register(app: typer.Typer) -> None:
    """Adds `render`."""
    app.command("render")(render)
