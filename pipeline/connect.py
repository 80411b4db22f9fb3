"""SSH connections to managed devices, opened through nornir_netmiko's connection plugin, with strict
host-key checking always on.

Secrets come only from the environment (CI/CD variables), never from files in the repository. For each,
the most specific variable wins: `<NAME>_HOST_<HOST>`, then `<NAME>_GROUP_<GROUP>` for the host's groups
in nornir's inheritance order, then `<NAME>`. <HOST>/<GROUP> is the name upper-cased with every character
other than A-Z and 0-9 replaced by `_` (GitLab variable names), e.g. NETCHANGE_SSH_PASSWORD_GROUP_CORE_IOS.

  NETCHANGE_SSH_PASSWORD       password login (TACACS+/RADIUS accounts); a plugin-supplied password otherwise
  NETCHANGE_ENABLE_SECRET      enable secret (IOS, EOS, AOS-CX): netchange enters enable mode with it
  NETCHANGE_SSH_USER           login user; the inventory's username (host, group, defaults) otherwise
  NETCHANGE_SSH_KEY            private key file (NETCHANGE_SSH_KEY_PASSPHRASE if it is encrypted)
  SSH_AUTH_SOCK                ssh-agent: its keys are offered when it is set
  NETCHANGE_KNOWN_HOSTS        known_hosts file (host keys are never added automatically)
  NETCHANGE_SSH_CONFIG         an OpenSSH client config: HostName, Port, User, ProxyJump (one hop, whose
                               host key is checked against NETCHANGE_KNOWN_HOSTS too) and ProxyCommand

Hosts of a netchange lab (host data `lab: {prefix: ...}`) default to the lab's state dir
(/run/netchange/<prefix>/ssh/id_ed25519 and known_hosts). The inventory's `connection_options.netmiko`
(extras such as timeouts, resolved by nornir over host, groups and defaults) apply as they would to any
nornir_netmiko task, except what keeps connections safe: host-key settings, secrets, the proxy socket.
Secrets are never logged or put in errors.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shlex
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cmdgate import gated
from .errors import DeviceError
from .inventory import Host

log = logging.getLogger(__name__)
LAB_STATE_ROOT = Path("/run/netchange")
# Inventory extras netchange decides itself: host keys, secrets and how the socket is made.
_ENFORCED = ("ssh_strict", "system_host_keys", "alt_host_keys", "alt_key_file", "allow_agent", "password",
             "secret", "passphrase", "sock", "ssh_config_file", "use_keys", "key_file")


def variable_name(base: str, kind: str, name: str) -> str:
    """`NETCHANGE_SSH_PASSWORD`, "group", "core-ios" -> NETCHANGE_SSH_PASSWORD_GROUP_CORE_IOS."""
    return f"{base}_{kind.upper()}_{re.sub(r'[^A-Z0-9]', '_', name.upper())}"


def from_environment(base: str, host: Host) -> str | None:
    """The most specific non-empty variable of *base* for *host* (host, its groups in order, global)."""
    names = [variable_name(base, "host", host.name)]
    names += [variable_name(base, "group", g) for g in (host.group_chain or host.groups)]
    names.append(base)
    for n in names:
        value = os.environ.get(n)
        if value:
            return value
    return None


@dataclass(frozen=True)
class Credentials:
    username: str | None
    key: Path | None
    known_hosts: Path | None
    password: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    passphrase: str | None = field(default=None, repr=False)
    agent: bool = False


def _lab_ssh_dir(host: Host) -> Path | None:
    lab = getattr(host.data, "lab", None) or (host.data.model_extra or {}).get("lab")
    prefix = lab.get("prefix") if isinstance(lab, dict) else None
    return LAB_STATE_ROOT / str(prefix) / "ssh" if prefix else None


def credentials(host: Host) -> Credentials:
    """What *host* logs in with, after the environment and the inventory are applied."""
    lab_dir = _lab_ssh_dir(host)
    extras = host.netmiko_extras
    key = (os.environ.get("NETCHANGE_SSH_KEY") or extras.get("key_file")
           or (str(lab_dir / "id_ed25519") if lab_dir else None))
    kh = os.environ.get("NETCHANGE_KNOWN_HOSTS") or (str(lab_dir / "known_hosts") if lab_dir else None)
    password = from_environment("NETCHANGE_SSH_PASSWORD", host)
    if password is None and host.password is not None:
        password = host.password.get_secret_value()
    return Credentials(
        username=from_environment("NETCHANGE_SSH_USER", host) or host.username,
        key=Path(key).expanduser() if key else None,
        known_hosts=Path(kh).expanduser() if kh else None,
        password=password,
        secret=from_environment("NETCHANGE_ENABLE_SECRET", host),
        passphrase=os.environ.get("NETCHANGE_SSH_KEY_PASSPHRASE") or None,
        agent=bool(os.environ.get("SSH_AUTH_SOCK")),
    )


@dataclass(frozen=True)
class Route:
    """Where the TCP connection goes: the address and port to verify the host key for, and the proxy."""

    hostname: str
    port: int
    username: str | None
    proxy_command: str | None = None


def ssh_route(host: Host, creds: Credentials) -> Route:
    """Apply NETCHANGE_SSH_CONFIG (HostName, Port, User, ProxyJump, ProxyCommand) as OpenSSH would."""
    import paramiko

    hostname, port, user = host.hostname or "", host.port, creds.username
    path = os.environ.get("NETCHANGE_SSH_CONFIG") or host.netmiko_extras.get("ssh_config_file")
    if not path:
        return Route(hostname, port or 22, user)
    cfg_path = Path(path).expanduser()
    if not cfg_path.is_file():
        raise DeviceError(f"{host.name}: NETCHANGE_SSH_CONFIG {cfg_path} does not exist")
    o = paramiko.SSHConfig.from_path(str(cfg_path)).lookup(hostname)
    real = o.get("hostname", hostname)
    port = port or int(o.get("port", 22))  # the inventory's port wins, as a command-line -p would
    user = user or o.get("user")
    jump = o.get("proxyjump", "none")
    if jump.lower() != "none":
        hops = [h.strip() for h in jump.split(",") if h.strip()]
        if len(hops) != 1:
            raise DeviceError(f"{host.name}: ProxyJump {jump}: netchange supports one jump host (its host key is "
                              "checked strictly); chain further hops in that host's own ssh_config entry")
        m = re.fullmatch(r"(?:(?P<user>[^@]+)@)?(?P<host>\[[^\]]+\]|[^:]+)(?::(?P<port>\d+))?", hops[0])
        if not m:
            raise DeviceError(f"{host.name}: ProxyJump {hops[0]!r} is not [user@]host[:port]")
        argv = ["ssh", "-F", str(cfg_path), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "GlobalKnownHostsFile=/dev/null"]
        if creds.known_hosts is not None:
            argv += ["-o", f"UserKnownHostsFile={creds.known_hosts}"]
        if creds.key is not None:
            argv += ["-i", str(creds.key)]
        if m["user"]:
            argv += ["-l", m["user"]]
        if m["port"]:
            argv += ["-p", m["port"]]
        argv += ["-W", f"{real}:{port}", m["host"].strip("[]")]
        return Route(real, port, user, shlex.join(argv))
    command = o.get("proxycommand", "none")
    return Route(real, port, user, None if command.lower() == "none" else command)


def netmiko_params(host: Host, creds: Credentials | None = None) -> dict[str, Any]:
    """Keyword arguments for netmiko's ConnectHandler (device_type from the host's driver)."""
    creds = creds or credentials(host)
    lab_dir = _lab_ssh_dir(host)
    if lab_dir is not None and not lab_dir.exists() and not os.environ.get("NETCHANGE_KNOWN_HOSTS"):
        raise DeviceError(f"{host.name}: the lab {lab_dir.parent.name} is not up: run `netchange lab up`")
    if not host.hostname:
        raise DeviceError(f"{host.name}: no hostname/address in the inventory")
    route = ssh_route(host, creds)
    if not route.username:
        raise DeviceError(f"{host.name}: no SSH username (set it in the inventory or NETCHANGE_SSH_USER)")
    known_hosts = creds.known_hosts
    if known_hosts is None or not known_hosts.exists():
        raise DeviceError(f"{host.name}: no known_hosts file (set NETCHANGE_KNOWN_HOSTS); "
                          "host keys are checked strictly and never accepted blindly")
    if creds.key is None and creds.password is None and not creds.agent:
        raise DeviceError(f"{host.name}: no way to log in: set NETCHANGE_SSH_KEY, NETCHANGE_SSH_PASSWORD "
                          f"(or {variable_name('NETCHANGE_SSH_PASSWORD', 'host', host.name)}), or run an ssh-agent")
    params: dict[str, Any] = {k: v for k, v in host.netmiko_extras.items() if k not in _ENFORCED}
    params.setdefault("conn_timeout", 10)
    params.update({
        "device_type": host.netmiko_platform or _driver(host).netmiko_device_type,
        "host": route.hostname,
        "port": route.port,
        "username": route.username,
        "password": creds.password,
        "secret": creds.secret or "",
        "ssh_strict": True,
        "system_host_keys": False,
        "alt_host_keys": True,
        "alt_key_file": str(host_known_hosts(known_hosts, route.hostname, route.port)),
        "allow_agent": creds.agent,
        "use_keys": False,
    })
    if creds.key is not None:
        if not creds.key.exists():
            raise DeviceError(f"{host.name}: SSH key file does not exist (NETCHANGE_SSH_KEY or the lab state dir)")
        params.update(use_keys=True, key_file=str(creds.key))
        if creds.passphrase:
            params["passphrase"] = creds.passphrase
    if route.proxy_command:
        params["proxy_command"] = route.proxy_command  # turned into a socket by connect()
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


KNOWN_PROMPT = "netchange_known_prompt"  # a key of connect()'s params for _open, never passed to netmiko


def _open(params: dict[str, Any], sock: Any = None) -> Any:
    """Open through nornir_netmiko's connection plugin (what `task.host.get_connection("netmiko", ...)`
    runs), so inventory connection options mean what they mean to any nornir_netmiko task. With
    params[KNOWN_PROMPT] (a driver that knows its CLI's prompt), netmiko connects and netchange prepares
    the session (prepare_known_prompt) instead of netmiko's sleep-paced preparation."""
    from nornir_netmiko.connections import Netmiko

    extras = {k: v for k, v in params.items() if k not in ("proxy_command", KNOWN_PROMPT)}
    if sock is not None:
        extras["sock"] = sock
    known_prompt = bool(params.get(KNOWN_PROMPT)) and "auto_connect" not in extras and extras.get("protocol", "ssh") == "ssh"
    if known_prompt:
        extras["auto_connect"] = False
    plugin = Netmiko()
    plugin.open(hostname=extras.pop("host"), username=extras.pop("username"), password=extras.pop("password"),
                port=extras.pop("port"), platform=extras.pop("device_type"), extras=extras, configuration=None)
    conn = plugin.connection
    if known_prompt:
        conn._modify_connection_params()  # what netmiko's own _open() runs, minus its session preparation
        conn.establish_connection()
        try:
            prepare_known_prompt(conn, float(params.get("conn_timeout") or 10))
        except Exception:
            conn.disconnect()
            raise
    return conn


@contextlib.contextmanager
def connect(host: Host, conn_timeout: float | None = None) -> Iterator[Any]:
    """A netmiko connection to *host* (in enable mode where a secret is set), disconnected on exit;
    failures become DeviceError. Dead sessions are detected in seconds (liveness.py). *conn_timeout*
    overrides the inventory's (a rollback retrying a device that just vanished waits less)."""
    creds = credentials(host)
    params = netmiko_params(host, creds)
    if conn_timeout is not None:
        params["conn_timeout"] = conn_timeout
    via, proxy = "", None
    if params.get("proxy_command"):
        import paramiko

        via = f" via {params['proxy_command'].split()[-1]}"
        proxy = paramiko.ProxyCommand(params["proxy_command"])
    try:
        conn = _open({**params, KNOWN_PROMPT: _driver(host).prompt_pattern("x") is not None}, proxy)
    except Exception as e:
        refused = _proxy_refusal(proxy)
        if proxy is not None and refused is None:  # still running: stop it (paramiko may close it too)
            with contextlib.suppress(Exception):
                proxy.close()
        raise _connect_error(host, params, creds, via, e, refused) from None
    log.info("%s: connected to %s:%s as %s%s", host.name, params["host"], params["port"], params["username"], via)
    try:
        from .liveness import watch

        watch(conn, host.name)
        if creds.secret and _driver(host).enable_mode:
            try:
                conn.enable()  # netmiko: nothing to do when the login is already privileged
            except Exception:
                raise DeviceError(f"{host.name}: enable mode refused the enable secret "
                                  "(NETCHANGE_ENABLE_SECRET or its _GROUP_/_HOST_ form)") from None
        pattern = _driver(host).prompt_pattern(getattr(conn, "base_prompt", "") or "")
        # every command is checked on its way out (pipeline/cmdgate.py)
        yield gated(KnownPrompt(conn, pattern) if pattern else conn, host.name)
    finally:
        with contextlib.suppress(Exception):
            conn.disconnect()


class KnownPrompt:
    """A netmiko connection whose `send_command` waits for the prompt it already knows. Without an
    `expect_string`, netmiko first sends a bare newline to learn the prompt, once per command: a round
    trip (~35-45 ms against vtysh) that the answer does not need. And netmiko's read loop sleeps 10 ms
    for the echo and then 25 ms before each look at the channel: ~36 ms a command against vtysh, which
    answers in 1-5 ms. Here the read waits in paramiko's `recv` on the channel and wakes when bytes arrive,
    taking the answer as complete once the command's own echo and then the prompt at the very end of the
    output have been seen (a stale prompt left in the channel cannot end the next command's read)."""

    def __init__(self, conn: Any, pattern: str):
        self._conn = conn
        self._pattern = pattern
        self._end = re.compile(rf"(?:^|\n)(?:{pattern})[ \t]*$")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def send_command(self, command_string: str, *args: Any, **kwargs: Any) -> Any:
        chan = getattr(self._conn, "remote_conn", None)
        if not args and set(kwargs) <= {"read_timeout"} and hasattr(chan, "recv") and command_string.strip():
            return self._exchange(command_string, float(kwargs.get("read_timeout", 10.0)))[1]
        if not args and kwargs.get("expect_string") is None:
            kwargs["expect_string"] = self._pattern
        return self._conn.send_command(command_string, *args, **kwargs)

    def send_config_set(self, config_commands: Any = None, *args: Any, **kwargs: Any) -> Any:
        """netmiko's send_config_set (with cmd_verify: each line's echo and prompt awaited, `error_pattern`
        raising ConfigInvalidException at the first line it matches, the session left where it failed)
        at the known prompt: config mode is entered only if the prompt says it is not already."""
        from netmiko.exceptions import ConfigInvalidException

        chan = getattr(self._conn, "remote_conn", None)
        if args or not set(kwargs) <= {"error_pattern", "exit_config_mode", "read_timeout"} or not hasattr(chan, "recv"):
            return self._conn.send_config_set(config_commands, *args, **kwargs)
        commands = [config_commands] if isinstance(config_commands, str) else list(config_commands or [])
        if not commands:
            return ""
        timeout = float(kwargs.get("read_timeout") or 15.0)
        error = kwargs.get("error_pattern") or ""
        output = ""
        last = self._exchange("", timeout)[0]  # netmiko's check_config_mode: a bare newline, then the prompt
        if not _in_config_mode(last):
            output += self._exchange("configure terminal", timeout)[0]
        for cmd in commands:
            last = self._exchange(cmd, timeout)[0]
            output += last
            bad = re.search(error, output, flags=re.M) if error else None
            if bad:
                raise ConfigInvalidException(f"Invalid input detected at command: {cmd}, matched error: {bad.group(0)}")
        if kwargs.get("exit_config_mode", True) and _in_config_mode(last):
            output += self._exchange("end", timeout)[0]
        return output

    def _exchange(self, command: str, read_timeout: float) -> tuple[str, str]:
        """Send one line; (everything read up to and with the prompt that ends its answer, the answer alone:
        the text between the line's own echo and that prompt). An empty line answers with the prompt."""
        conn = self._conn
        cmd = command.strip()
        conn.write_channel(conn.normalize_cmd(command))
        body_at = -1 if cmd else 0

        def answer(out: str) -> tuple[str, str] | None:
            nonlocal body_at
            if body_at < 0:
                echo = out.find(cmd)
                nl = out.find("\n", echo + len(cmd)) if echo >= 0 else -1
                body_at = nl + 1 if nl >= 0 else -1
            end = self._end.search(out, max(body_at - 1, 0)) if body_at >= 0 else None
            return (out, out[body_at:end.start()]) if end is not None else None

        return read_until(conn, self._conn.remote_conn, answer, read_timeout,
                          f"{cmd!r}: no prompt matching {self._pattern!r}")


def _in_config_mode(read: str) -> bool:
    """Whether the prompt that ends *read* is a configuration mode's (`HOST(config...)#`)."""
    return "(config" in read.rstrip().rpartition("\n")[2]


def read_until(conn: Any, chan: Any, done: Callable[[str], Any], timeout: float, what: str) -> Any:
    """Read *conn*'s channel until `done(all text so far)` returns the answer (not None). Waits in paramiko's
    `recv` (the channel's own condition variable): no polling interval, no extra file descriptors. Text is
    normalised as netmiko's read_channel does (line ends, ANSI codes, session log). A closed channel is
    SessionLost at once; no answer in *timeout* seconds is netmiko's ReadTimeout."""
    import socket
    import time

    from netmiko.exceptions import ReadTimeout

    from .liveness import SessionLost, lost

    deadline = time.monotonic() + timeout
    out, held = conn.read_channel(), ""  # (read_channel: what netmiko already buffered)
    previous = chan.gettimeout()
    try:
        while True:
            found = done(out)
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReadTimeout(f"{what} after {timeout:.0f} s")
            chan.settimeout(min(left, 0.5))
            try:
                data = chan.recv(65536)
            except socket.timeout:
                why = lost(conn)
                if why:
                    raise SessionLost(f"{getattr(conn, 'host', '')}: unreachable: {why}") from None
                continue
            if not data:  # closed: a killed sshd, a reset, liveness' TCP timeout
                why = lost(conn) or "SSH session closed by the device"
                raise SessionLost(f"{getattr(conn, 'host', '')}: unreachable: {why}")
            text = held + data.decode(getattr(conn, "encoding", "utf-8"), "ignore")
            held = "\r" if text.endswith("\r") else ""  # a CR LF split over two reads is one line end
            text = conn.normalize_linefeeds(text[:-1] if held else text)
            if getattr(conn, "ansi_escape_codes", False):
                text = conn.strip_ansi_escape_codes(text)
            if getattr(conn, "session_log", None):
                conn.session_log.write(text)
            out += text
    finally:
        chan.settimeout(previous)


_PROMPT_END = re.compile(r"(?:^|\n)([^\n]*[>#])[ \t]*$")


def prepare_known_prompt(conn: Any, timeout: float) -> None:
    """netmiko's cisco_ios session preparation (terminal width, paging off, the base prompt), for a CLI
    whose prompt the driver knows (vtysh), without its fixed sleeps: netmiko waits 0.1 s before and
    0.25 s inside its prompt probe (~0.2 s of a 0.4 s connect); here each step waits for the answer."""
    chan = conn.remote_conn
    conn.write_channel(conn.RETURN)
    prompt = read_until(conn, chan, lambda out: (m.group(1).strip() if (m := _PROMPT_END.search(out)) else None),
                        timeout, "no prompt after login")
    conn.base_prompt = prompt[:-1][:16]  # as netmiko's CiscoIosBase.set_base_prompt (IOS abbreviates it)
    known = KnownPrompt(conn, rf"{re.escape(prompt[:-1])}(?:\([\w.-]+\))?[>#]")
    for command in ("terminal width 511", "terminal length 0"):
        known._exchange(command, timeout)


def _driver(host: Host):
    from .drivers.base import get_driver

    return get_driver(host.platform)


def _proxy_refusal(proxy: Any) -> str | None:
    """The last line the ssh of a ProxyJump printed, once it has exited (None while it runs)."""
    if proxy is None:
        return None
    try:  # WNOWAIT: not reaped, so paramiko's own close() still finds the process
        if os.waitid(os.P_PID, proxy.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return None
    except ChildProcessError:
        pass
    with contextlib.suppress(Exception):
        lines = [ln for ln in proxy.process.stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1].strip() if lines else f"ssh exited with {proxy.process.returncode}"
    return None


def _connect_error(host: Host, params: dict[str, Any], creds: Credentials, via: str, error: Exception,
                   jump_refusal: str | None) -> Exception:
    """One clear DeviceError for a failed connection (anything unexpected is returned as it is)."""
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
    from paramiko.ssh_exception import SSHException

    from .gitlab.secrets import mask

    where = f"{params['host']}:{params['port']}{via}"
    if jump_refusal:  # e.g. the jump host's key is unknown: netmiko itself only sees a dead socket
        return DeviceError(mask(f"{host.name}: SSH to {where} failed at the jump host: {jump_refusal}"))
    if isinstance(error, NetmikoAuthenticationException):
        how = " and ".join(w for w, on in (("key", params.get("use_keys")), ("password", creds.password),
                                            ("ssh-agent", creds.agent)) if on)
        return DeviceError(f"{host.name}: SSH authentication failed for user {params['username']} ({how})")
    if isinstance(error, NetmikoTimeoutException):
        return DeviceError(f"{host.name}: SSH to {where} timed out")
    if isinstance(error, SSHException):  # unknown or changed host key lands here with strict checking
        return DeviceError(mask(f"{host.name}: SSH to {where} refused: {error}"))
    if isinstance(error, OSError):
        return DeviceError(mask(f"{host.name}: cannot reach {where}: {error.strerror or error}"))
    return error
