"""nornir's SimpleInventory, reading its YAML through libyaml where that is plainly the same.

SimpleInventory reads with ruamel's pure-Python safe loader: 1.0-1.5 s for the 52 hosts of the 50-router
scale lab (100 KB), a third of a one-router deploy. `yamlfast.load_plain` reads the same file in ~0.07 s
and gives up (None) on anything ruamel might read differently (tags, anchors, odd scalars) or that libyaml
refuses (e.g. unquoted IPv6 in a flow list, `[2001:db8::/64, ::/0]`): such a file is read by ruamel as
nornir would, so every inventory that loads under SimpleInventory loads here, to the same data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nornir.core.inventory import Defaults, Group, Groups, Hosts, Inventory, ParentGroups
from nornir.core.inventory import Host as NornirHost
from nornir.plugins.inventory.simple import SimpleInventory, _get_defaults, _get_inventory_element

from . import yamlfast

NAME = "NetchangeSimpleInventory"  # registered under this name; the user still names SimpleInventory


def load_yaml(path: Path, encoding: str = "utf-8") -> Any:
    """What ruamel's safe loader (SimpleInventory's) returns for the file."""
    text = path.read_text(encoding=encoding)
    data = yamlfast.load_plain(text)
    if data is None:  # unusual, empty or refused by libyaml: ruamel decides (and raises what nornir would)
        import ruamel.yaml

        data = ruamel.yaml.YAML(typ="safe").load(text)
    return data


class FastSimpleInventory(SimpleInventory):
    def load(self) -> Inventory:
        defaults = Defaults()
        if self.defaults_file.exists():
            defaults = _get_defaults(load_yaml(self.defaults_file, self.encoding) or {})
        hosts = Hosts()
        host_data = load_yaml(self.host_file, self.encoding) or {}
        for n, h in host_data.items():
            hosts[n] = _get_inventory_element(NornirHost, h, n, defaults)
        groups = Groups()
        group_data = (load_yaml(self.group_file, self.encoding) or {}) if self.group_file.exists() else {}
        for n, g in group_data.items():
            groups[n] = _get_inventory_element(Group, g, n, defaults)
        # (nornir's parents: the names as written, each resolved here; an unknown name raises KeyError as there)
        for n, g in groups.items():
            g.groups = ParentGroups([groups[p] for p in group_data[n].get("groups") or []])
        for n, h in hosts.items():
            h.groups = ParentGroups([groups[p] for p in host_data[n].get("groups") or []])
        return Inventory(hosts=hosts, groups=groups, defaults=defaults)


def register() -> str:
    """Register the plugin with nornir (idempotent); its name for InitNornir."""
    from nornir.core.plugins.inventory import InventoryPluginRegister

    InventoryPluginRegister.register(NAME, FastSimpleInventory)
    return NAME
