"""Any nornir inventory plus netchange's typed host data (driver, role, site, BGP, firewall).

The inventory is a nornir inventory plugin: SimpleInventory over `inventory/` by default, or the plugin
named in the project's `netchange.yaml` (`inventory: {plugin, options, transform_function}`), e.g.
nornir_netbox's NBInventory. netchange's own platform key is `data.driver`; unset, it follows nornir's
`platform` (`eos` -> arista_eos, `linux` -> nftables, ...). Passwords and enable secrets never come from
inventory files (they come from the environment, see connect.py); a plugin may supply a password.
"""

from __future__ import annotations

import ipaddress
import os
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from . import safefiles, yamlio
from .addresses import Address
from .errors import InputError, Location
from .model.policy import Attachment  # a policy type (where a filter applies); hosts name their points
from .names import FreeText, Identifier
from .telemetry.hostdata import TelemetryHostData


class Platform(str, Enum):
    """Platform keys: explicit strings, equal to the driver module names (pipeline/drivers/<key>.py, where
    everything about the platform lives, its netmiko device type included)."""

    FRR = "frr"
    CISCO_IOS = "cisco_ios"
    ARISTA_EOS = "arista_eos"
    ARUBA_AOSCX = "aruba_aoscx"
    JUNIPER_JUNOS = "juniper_junos"
    NFTABLES = "nftables"
    CISCO_NXOS = "cisco_nxos"


# nornir `platform` (netmiko, napalm and scrapli spellings) -> netchange driver, for hosts without data.driver.
PLATFORM_DRIVERS = {
    "cisco_ios": Platform.CISCO_IOS, "ios": Platform.CISCO_IOS, "cisco_xe": Platform.CISCO_IOS,
    "iosxe": Platform.CISCO_IOS, "cisco_iosxe": Platform.CISCO_IOS,
    "arista_eos": Platform.ARISTA_EOS, "eos": Platform.ARISTA_EOS,
    "juniper_junos": Platform.JUNIPER_JUNOS, "junos": Platform.JUNIPER_JUNOS, "juniper": Platform.JUNIPER_JUNOS,
    "aruba_aoscx": Platform.ARUBA_AOSCX, "aoscx": Platform.ARUBA_AOSCX,
    "cisco_nxos": Platform.CISCO_NXOS, "nxos": Platform.CISCO_NXOS, "nxos_ssh": Platform.CISCO_NXOS,
    "linux": Platform.NFTABLES,
    "frr": Platform.FRR,
}

CONFIG_FILE = "netchange.yaml"
# Inventory files may hold none of these: secrets come from the environment (connect.py).
SECRET_KEYS = ("password", "secret", "passphrase")

AFI = Literal["ipv4_unicast", "ipv6_unicast"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Neighbor(Strict):
    address: Address  # no IPv6 scope: it would reach `show bgp ... neighbors <address>` commands
    remote_as: int = Field(ge=1, le=4294967295)
    afis: tuple[AFI, ...] = ("ipv4_unicast",)
    description: FreeText | None = None
    external: bool | None = None  # default: remote_as != local ASN


class Bgp(Strict):
    asn: int = Field(ge=1, le=4294967295)
    router_id: ipaddress.IPv4Address | None = None
    neighbors: tuple[Neighbor, ...] = ()

    def neighbor(self, address: str) -> Neighbor | None:
        try:
            want = ipaddress.ip_address(address)
        except ValueError:
            return None
        return next((n for n in self.neighbors if n.address == want), None)

    def is_external(self, n: Neighbor) -> bool:
        return n.external if n.external is not None else n.remote_as != self.asn


class NftJumpFrom(Strict):
    """netchange's chains live in the host's own `inet` table and its base chains jump to them first."""

    table: Identifier = Field(description="the host's inet table (netchange's chains are created in it)")
    chains: dict[Literal["input", "forward", "output"], Identifier] = Field(
        description="hook -> the host's base chain of that hook whose first rules jump to netchange's chains")


class NftPlacement(Strict):
    """Where netchange's nftables chains sit relative to the host's own tables (docs/FIREWALL.md). By default in
    netchange's table `inet netchange`, base chains at `priority`: a drop there is final, but an accept only
    ends netchange's chain, and the host's base chains on the same hook still judge the packet. With
    `jump_from`, the host's base chains jump to netchange's chains before their own rules: its verdict is final."""

    priority: int = Field(default=0, ge=-1000, le=1000, description="of netchange's base chains (filter is 0; lower runs first)")
    jump_from: NftJumpFrom | None = None


class Firewall(Strict):
    attachments: dict[Identifier, Attachment] = {}
    protected_filters: tuple[Identifier, ...] = ()
    nftables: NftPlacement = NftPlacement()


class HostData(BaseModel):
    """netchange's part of a host's (group-merged) data; other keys are left to the user."""

    model_config = ConfigDict(extra="allow", frozen=True)

    driver: Platform
    role: Identifier = "router"
    site: Identifier = "default"
    bgp: Bgp | None = None
    firewall: Firewall = Firewall()
    telemetry: TelemetryHostData | None = None  # sFlow agent and observation points (telemetry/hostdata.py)


class Host(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    hostname: str | None
    port: int | None = None
    username: str | None = None
    groups: tuple[str, ...] = ()
    data: HostData
    # Every group the host inherits from, in nornir's order (per-group credential variables follow it).
    group_chain: tuple[str, ...] = ()
    # From an inventory plugin that supplies secrets (never from inventory files); repr and dumps hide it.
    password: SecretStr | None = None
    # nornir `connection_options.netmiko` as nornir resolves it (host, groups, defaults).
    netmiko_platform: str | None = None
    netmiko_extras: dict[str, Any] = {}

    @property
    def platform(self) -> Platform:
        return self.data.driver


class InventoryConfig(BaseModel):
    """The `inventory:` section of netchange.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plugin: str = Field("SimpleInventory", description="a nornir inventory plugin (entry point `nornir.plugins.inventory`)")
    options: dict[str, Any] = Field({}, description="the plugin's options; `*_file` paths are relative to netchange.yaml")
    transform_function: str | None = None
    transform_function_options: dict[str, Any] = {}


class ProjectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inventory: InventoryConfig = InventoryConfig()


def load_config(root: Path) -> ProjectConfig | None:
    """The project's netchange.yaml, or None without one; errors name file, line and field."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return None
    node = yamlio.load(path)
    return yamlio.validate_model(ProjectConfig, node if node is not None else {}, path)


class Inventory:
    """Typed view over a nornir inventory: a SimpleInventory folder (hosts.yaml, groups.yaml, defaults.yaml)
    or any inventory plugin.

    SimpleInventory's files are read through libyaml where that plainly gives ruamel's answer
    (inventory_yaml.py); the position-keeping YAML loader runs only when something is wrong, to say where."""

    FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")
    _FILE_OPTIONS = {"host_file": "hosts.yaml", "group_file": "groups.yaml", "defaults_file": "defaults.yaml"}

    def __init__(self, directory: Path | str | None = None, config: InventoryConfig | None = None,
                 base: Path | str | None = None):
        """`Inventory(folder)`: SimpleInventory over folder/{hosts,groups,defaults}.yaml. `Inventory(config=..,
        base=..)`: the configured plugin, `*_file` options relative to *base*."""
        if config is None:
            self.directory = Path(directory if directory is not None else "inventory")
            self.config = InventoryConfig(options=self._simple_options(self.directory))
        else:
            self.directory = Path(base if base is not None else ".")
            opts = {k: (str(self.directory / v) if k.endswith("_file") and isinstance(v, str) and not Path(v).is_absolute() else v)
                    for k, v in config.options.items()}
            self.config = config.model_copy(update={"options": opts})
        self.nornir = self._init_nornir()
        self._refuse_secrets_in_files()
        self.hosts: dict[str, Host] = self._typed_hosts()

    @classmethod
    def for_project(cls, root: Path) -> "Inventory":
        cfg = load_config(root)
        if cfg is None:
            return cls(root / "inventory")
        return cls(config=cfg.inventory, base=root)

    @classmethod
    def _simple_options(cls, directory: Path) -> dict[str, str]:
        hosts_file = directory / "hosts.yaml"
        if not hosts_file.exists():
            raise InputError("inventory has no hosts.yaml", Location(str(hosts_file)))
        opts = {"host_file": str(hosts_file)}
        for key, f in (("group_file", "groups.yaml"), ("defaults_file", "defaults.yaml")):
            # nornir's SimpleInventory wants a file for each; a missing one stays unset (an empty default)
            if (directory / f).exists():
                opts[key] = str(directory / f)
        return opts

    @property
    def hosts_file(self) -> Path:
        """Where hosts are defined, for messages (the plugin's name when it reads no file)."""
        f = self.config.options.get("host_file")
        return Path(f) if f else Path(f"{self.config.plugin} inventory")

    def _files(self) -> dict[str, Path]:
        """{role (hosts.yaml, groups.yaml, defaults.yaml): path} for the YAML files the plugin reads."""
        return {role: Path(self.config.options[k]) for k, role in self._FILE_OPTIONS.items()
                if isinstance(self.config.options.get(k), str) and Path(self.config.options[k]).is_file()}

    def _init_nornir(self) -> Any:  # a Nornir object (nornir is imported when first used)
        plugin = self.config.plugin
        if plugin == "SimpleInventory":  # the same files, read ~15x faster where libyaml plainly agrees
            from .inventory_yaml import register

            plugin = register()
        inventory: dict[str, Any] = {"plugin": plugin, "options": dict(self.config.options)}
        if self.config.transform_function:
            inventory["transform_function"] = self.config.transform_function
            inventory["transform_function_options"] = dict(self.config.transform_function_options)
        for k in self._FILE_OPTIONS:  # nornir opens them itself: no FIFO, device or oversized file gets that far
            f = self.config.options.get(k)
            if isinstance(f, str) and (os.path.lexists(f)):
                safefiles.check_regular(f, safefiles.INVENTORY_MAX, within=Path(f).parent)
        try:
            return _init_nornir_without_connection_plugins(
                runner={"plugin": "threaded", "options": {"num_workers": 20}}, inventory=inventory,
                logging={"enabled": False})
        except Exception as e:  # nornir raises plain exceptions: find the precise problem with positions
            from nornir.core.exceptions import PluginNotRegistered

            if isinstance(e, PluginNotRegistered):
                raise InputError(f"nornir inventory plugin '{self.config.plugin}' is not installed "
                                 "(pip install the package that provides it)", self._config_location("plugin")) from None
            nodes = self._nodes(max_bytes=64 * 1024 * 1024)  # raises InputError with file:line for bad YAML
            for role, node in nodes.items():
                if node is not None and not isinstance(node, dict):
                    raise InputError("expected a mapping at the top level", Location(str(self._files()[role]), 1, 1)) from None
            raise InputError(f"inventory cannot be loaded: {type(e).__name__}: {e}", Location(str(self.hosts_file))) from None

    def _config_location(self, field: str) -> Location:
        return Location(str(self.directory / CONFIG_FILE), field=f"inventory.{field}")

    def _nodes(self, max_bytes: int) -> dict[str, Any]:
        return {role: yamlio.load(f, yamlio.read_text(f, max_bytes, f.parent)) for role, f in self._files().items()}

    def _refuse_secrets_in_files(self) -> None:
        """A password or enable secret in an inventory file would sit in the repository: refused, with
        where it is. (One a plugin or transform function supplies at run time is the plugin's business.)"""
        inv = self.nornir.inventory
        elements = [inv.defaults, *inv.groups.values(), *inv.hosts.values()]

        def has_secret(e) -> bool:
            if e.password is not None:
                return True
            return any(o.password is not None or any(k in (o.extras or {}) for k in SECRET_KEYS)
                       for o in e.connection_options.values())

        if not any(has_secret(e) for e in elements):
            return
        problems: list[tuple[Location, str]] = []
        for role, node in self._nodes(max_bytes=64 * 1024 * 1024).items():
            path = self._files()[role]
            for where, key_path in _secret_keys(node, role):
                line, col = yamlio.position(node, key_path)
                problems.append((Location(str(path), line, col, yamlio.field_path(key_path)),
                                 f"{where} holds a {key_path[-1]}: secrets never go in inventory files; set "
                                 "NETCHANGE_SSH_PASSWORD / NETCHANGE_ENABLE_SECRET (or their _GROUP_/_HOST_ forms) "
                                 "as masked CI/CD variables instead"))
        if problems:
            raise InputError(f"{problems[0][0].file}: a secret in the inventory", problems[0][0], problems)

    def _typed_hosts(self) -> dict[str, Host]:
        self._check_names()
        out: dict[str, Host] = {}
        # per host: (key path to point at, field path to name, message)
        errors: list[tuple[str, list[tuple[tuple, tuple, str]]]] = []
        for name, h in self.nornir.inventory.hosts.items():
            if not isinstance(h.data, dict):
                line, col = yamlio.position(self._nodes(safefiles.INVENTORY_MAX).get("hosts.yaml"), (name, "data"))
                raise InputError("host data must be a mapping", Location(str(self.hosts_file), line, col, f"{name}.data"))
            data = dict(h.extended_data())
            derived = False
            if "driver" not in data and h.platform in PLATFORM_DRIVERS:
                data["driver"], derived = PLATFORM_DRIVERS[h.platform].value, True
            try:
                typed = HostData.model_validate(data)
            except ValidationError as e:
                found = []
                for err in e.errors(include_url=False):
                    loc, msg = ("data",) + tuple(err["loc"]), err["msg"]
                    at = loc
                    if loc == ("data", "driver") and err["type"] == "missing":
                        msg = (f"Field required: no data.driver, and nornir platform {h.platform!r} names no driver "
                               if h.platform else "Field required: set data.driver, or a nornir platform ")
                        msg += f"(platforms: {', '.join(sorted(PLATFORM_DRIVERS))}; drivers: {', '.join(p.value for p in Platform)})"
                        at = ("platform",) if h.platform else loc  # where the user would fix it
                    elif loc == ("data", "driver") and derived:
                        at = ("platform",)
                    found.append((at, loc, msg))
                errors.append((name, found))
                continue
            conn = h.get_connection_parameters("netmiko")
            try:
                out[name] = Host(name=name, hostname=h.hostname, port=h.port, username=h.username,
                                 groups=tuple(g.name for g in h.groups), data=typed,
                                 group_chain=tuple(g.name for g in h.extended_groups()),
                                 password=SecretStr(h.password) if h.password is not None else None,
                                 netmiko_platform=conn.platform if conn.platform != h.platform else None,
                                 netmiko_extras=dict(conn.extras or {}))
            except ValidationError as e:  # e.g. a port that is not a number
                errors.append((name, [(tuple(err["loc"]), tuple(err["loc"]), err["msg"]) for err in e.errors(include_url=False)]))
        if errors:
            hosts_file = self.hosts_file
            node = self._nodes(max_bytes=64 * 1024 * 1024).get("hosts.yaml")
            problems: list[tuple[Location, str]] = []
            for name, found in errors:
                for at, loc, msg in found:
                    line, col = yamlio.position(node, (name,) + at) if node is not None else (None, None)
                    problems.append((Location(str(hosts_file), line, col, f"{name}.{yamlio.field_path(loc)}"), msg))
            raise InputError(f"{hosts_file}: bad host data", problems[0][0], problems)
        return out

    def select(self, names=(), groups=(), roles=(), sites=()) -> list[Host]:
        """Hosts matching any of the given selectors (an empty selection selects nothing)."""
        out = []
        for h in self.hosts.values():
            if (h.name in names or set(h.groups) & set(groups) or h.data.role in roles or h.data.site in sites):
                out.append(h)
        return out

    def _check_names(self) -> None:
        """Host names become file names (snapshots, locks, received routes): refuse any that could leave
        their folder, such as `../../x`, naming each where it is written."""
        bad = [n for n in self.nornir.inventory.hosts if not safefiles.is_safe_name(n)]
        if not bad:
            return
        node = self._nodes(max_bytes=safefiles.INVENTORY_MAX).get("hosts.yaml")
        problems = []
        for name in bad:
            line, col = yamlio.position(node, (name,)) if node is not None else (None, None)
            why = "is not text (quote it in YAML)" if not isinstance(name, str) else f"is not allowed: use only {safefiles.SAFE_NAME_RULE}"
            problems.append((Location(str(self.hosts_file), line, col, str(name)), f"host name {name!r} {why}"))
        raise InputError(f"{self.hosts_file}: bad host name", problems[0][0], problems)


def _secret_keys(node: Any, role: str) -> list[tuple[str, tuple]]:
    """(what, key path) of every secret-looking key in one inventory file's YAML."""
    found: list[tuple[str, tuple]] = []

    def element(name: str, el: Any, prefix: tuple) -> None:
        if not isinstance(el, dict):
            return
        if "password" in el:
            found.append((name, prefix + ("password",)))
        for cname, copts in (el.get("connection_options") or {}).items() if isinstance(el.get("connection_options"), dict) else ():
            if not isinstance(copts, dict):
                continue
            base = prefix + ("connection_options", cname)
            if "password" in copts:
                found.append((f"{name} connection_options.{cname}", base + ("password",)))
            extras = copts.get("extras")
            for k in SECRET_KEYS:
                if isinstance(extras, dict) and k in extras:
                    found.append((f"{name} connection_options.{cname}.extras", base + ("extras", k)))

    if not isinstance(node, dict):
        return found
    if role == "defaults.yaml":
        element("defaults", node, ())
    else:
        for name, el in node.items():
            element(f"{role.split('.')[0][:-1]} {name}", el, (name,))
    return found


def _register_connection_plugins_on_first_use() -> None:
    """A nornir task run on `Inventory.nornir` that asks for a connection (`host.get_connection("netmiko")`,
    as nornir_netmiko's tasks do) still finds every installed plugin: the register loads them at the first
    lookup instead of at start-up. nornir looks connection plugins up in one place (Host.open_connection,
    through this register's get_plugin)."""
    from nornir.core.plugins.connections import ConnectionPluginRegister as register

    if getattr(register, "_netchange_on_first_use", False):
        return
    lookup = register.get_plugin

    def get_plugin(name: str) -> Any:
        if name not in register.available:
            register.auto_register()
        return lookup(name)

    register.get_plugin = get_plugin  # type: ignore[method-assign]
    register._netchange_on_first_use = True  # type: ignore[attr-defined]


def _init_nornir_without_connection_plugins(**kwargs: Any) -> Any:
    """`nornir.InitNornir(**kwargs)` minus its first step, `ConnectionPluginRegister.auto_register()`: that
    imports every installed connection plugin (nornir_netmiko: netmiko and paramiko, ~0.25 s) for commands
    such as `plan --snapshots` that open no connection. netchange opens its sessions through
    nornir_netmiko's plugin class itself (connect._open), not through the register."""
    from nornir.core import Nornir
    from nornir.core.configuration import Config
    from nornir.core.state import GlobalState
    from nornir.init_nornir import load_inventory, load_runner

    _register_connection_plugins_on_first_use()
    config = Config.from_dict(**kwargs)
    config.logging.configure()
    return Nornir(inventory=load_inventory(config), runner=load_runner(config), config=config,
                  data=GlobalState(dry_run=False))
