"""SSH connections to managed devices (netmiko), with strict host-key checking always on.

Credentials, in order of precedence:
  NETCHANGE_SSH_KEY       private key file
  NETCHANGE_KNOWN_HOSTS   known_hosts file (host keys are never added automatically)
  NETCHANGE_SSH_USER      login user (overrides the inventory's username)
and, for hosts of a netchange lab (host data `lab: {prefix: ...}`), the lab's state dir
(/run/netchange/<prefix>/ssh/id_ed25519 and known_hosts). Key material is never logged or put in errors.

For nornir, the lab's inventory carries the same settings as `connection_options.netmiko.extras`
in defaults.yaml, so nornir_netmiko tasks connect the same way.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .cmdgate import gated
from .errors import DeviceError
from .inventory import NETMIKO_DEVICE_TYPE, Host

LAB_STATE_ROOT = Path("/run/netchange")


def _lab_ssh_dir(host: Host) -> Path | None:
    lab = getattr(host.data, "lab", None) or (host.data.model_extra or {}).get("lab")
    prefix = lab.get("prefix") if isinstance(lab, dict) else None
    return LAB_STATE_ROOT / str(prefix) / "ssh" if prefix else None


def credentials(host: Host) -> tuple[str | None, Path | None, Path | None]:
    """(username, key file, known_hosts file) for *host* after applying the environment overrides."""
    lab_dir = _lab_ssh_dir(host)
    user = os.environ.get("NETCHANGE_SSH_USER") or host.username
    key = os.environ.get("NETCHANGE_SSH_KEY") or (str(lab_dir / "id_ed25519") if lab_dir else None)
    kh = os.environ.get("NETCHANGE_KNOWN_HOSTS") or (str(lab_dir / "known_hosts") if lab_dir else None)
    return user, Path(key) if key else None, Path(kh) if kh else None


def netmiko_params(host: Host) -> dict[str, Any]:
    """Keyword arguments for netmiko.ConnectHandler (device_type from the host's driver)."""
    user, key, known_hosts = credentials(host)
    lab_dir = _lab_ssh_dir(host)
    if lab_dir is not None and not lab_dir.exists() and not os.environ.get("NETCHANGE_KNOWN_HOSTS"):
        raise DeviceError(f"{host.name}: the lab {lab_dir.parent.name} is not up: run `netchange lab up`")
    if not host.hostname:
        raise DeviceError(f"{host.name}: no hostname/address in the inventory")
    if not user:
        raise DeviceError(f"{host.name}: no SSH username (set it in the inventory or NETCHANGE_SSH_USER)")
    if known_hosts is None or not known_hosts.exists():
        raise DeviceError(f"{host.name}: no known_hosts file (set NETCHANGE_KNOWN_HOSTS); "
                          "host keys are checked strictly and never accepted blindly")
    port = host.port or 22
    params: dict[str, Any] = {
        "device_type": NETMIKO_DEVICE_TYPE[host.platform],
        "host": host.hostname,
        "port": port,
        "username": user,
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(host_known_hosts(known_hosts, host.hostname, port)),
        "allow_agent": False,
        "conn_timeout": 10,
    }
    if key is not None:
        if not key.exists():
            raise DeviceError(f"{host.name}: SSH key file does not exist (NETCHANGE_SSH_KEY or the lab state dir)")
        params.update(use_keys=True, key_file=str(key))
    return params


_KH_LOCK = threading.Lock()
_KH_CACHE: dict[tuple[str, float], tuple[Any, Path]] = {}


def host_known_hosts(known_hosts: Path, hostname: str, port: int) -> Path:
    """A known_hosts file holding only *hostname*'s keys (the original file if it has none, so that the
    connection fails on the unknown key as it should).  paramiko parses the whole file on every connect
    (~4 ms for 50 entries here, linear in the fleet); this parses it once per process."""
    import paramiko

    stat = known_hosts.stat()
    with _KH_LOCK:
        cached = _KH_CACHE.get((str(known_hosts), stat.st_mtime))
        if cached is None:
            _KH_CACHE.clear()
            cached = (paramiko.HostKeys(str(known_hosts)), Path(tempfile.mkdtemp(prefix="netchange-known-hosts-")))
            atexit.register(shutil.rmtree, cached[1], True)
            _KH_CACHE[(str(known_hosts), stat.st_mtime)] = cached
    keys, folder = cached
    name = hostname if port == 22 else f"[{hostname}]:{port}"
    found = keys.lookup(name)
    if not found:
        return known_hosts
    path = folder / f"{name.replace('/', '_').replace(':', '_')}"
    if not path.exists():
        own = paramiko.HostKeys()
        for keytype, key in found.items():
            own.add(name, keytype, key)
        tmp = path.with_suffix(f".{threading.get_ident()}")
        own.save(str(tmp))
        os.replace(tmp, path)
    return path


@contextlib.contextmanager
def connect(host: Host) -> Iterator[Any]:
    """A netmiko connection to *host*, disconnected on exit; failures become DeviceError."""
    from netmiko import ConnectHandler
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
    from paramiko.ssh_exception import SSHException

    params = netmiko_params(host)
    try:
        conn = ConnectHandler(**params)
    except NetmikoAuthenticationException:
        raise DeviceError(f"{host.name}: SSH authentication failed for user {params['username']}") from None
    except NetmikoTimeoutException:
        raise DeviceError(f"{host.name}: SSH to {params['host']}:{params['port']} timed out") from None
    except SSHException as e:  # unknown or changed host key lands here with strict checking
        raise DeviceError(f"{host.name}: SSH to {params['host']} refused: {e}") from None
    except OSError as e:
        raise DeviceError(f"{host.name}: cannot reach {params['host']}:{params['port']}: {e.strerror or e}") from None
    try:
        yield gated(conn, host.name)  # every command is checked on its way out (pipeline/cmdgate.py)
    finally:
        with contextlib.suppress(Exception):
            conn.disconnect()
