"""Talking to one device during a deploy: fetch, push with the platform's commit semantics, run.

One netmiko session per device for the whole deploy phase (edits to one device are serialized: two
sessions in config mode on one FRR both apply).
"""

from __future__ import annotations

import contextlib
import re
import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from ..drivers.base import Driver, get_driver
from ..errors import DeviceError
from ..inventory import Host


@dataclass
class PushResult:
    sent: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0


class DeviceSession:
    def __init__(self, host: Host, conn: Any):
        self.host = host
        self.conn = conn
        self.driver: Driver = get_driver(host.platform)

    def fetch(self) -> str:
        text = self.conn.send_command(self.driver.fetch_command, read_timeout=60)
        refused = self.driver.fetch_error(text)
        if refused:  # never mistaken for an empty device
            raise DeviceError(f"{self.host.name}: `{self.driver.fetch_command}` was answered with an error, "
                              f"not a configuration: {refused!r}")
        return text

    def run(self, command: str) -> str:
        out = self.conn.send_command(command, read_timeout=60)
        bad = self.driver.error_in(out)
        if bad:
            raise DeviceError(f"{self.host.name}: `{command}` failed: {bad}")
        return out

    def push(self, commands: list[str], tag: str) -> PushResult:
        """Send commands with the platform's commit semantics; raise DeviceError at the first refusal."""
        if not commands:
            return PushResult()
        t0 = time.monotonic()
        mode = self.driver.commit_mode
        if mode == "atomic_file":
            res = self._push_file(commands, tag)
        elif mode == "session":
            res = self._push_lines(["configure session " + tag, *commands], commit=["commit"], abort=["abort"])
        elif mode == "candidate":
            res = self._push_lines(commands, commit=["commit confirmed 5", "commit"], abort=["rollback 0"])
        else:
            res = self._push_lines(commands)
        res.seconds = time.monotonic() - t0
        return res

    def _push_lines(self, commands: list[str], commit: list[str] | None = None, abort: list[str] | None = None) -> PushResult:
        from netmiko.exceptions import ConfigInvalidException

        pattern = "|".join(f"(?:{p})" for p in self.driver.error_patterns)
        try:
            out = self.conn.send_config_set(commands, error_pattern=pattern, exit_config_mode=commit is None,
                                            read_timeout=60)
            if commit:
                for c in commit:
                    out += self.conn.send_config_set([c], error_pattern=pattern, exit_config_mode=False)
                self.conn.exit_config_mode()
        except ConfigInvalidException as e:
            self._leave_config_mode(abort)
            raise DeviceError(f"{self.host.name}: device refused a command: {_first_error(str(e), self.driver)}") from None
        except Exception as e:
            self._leave_config_mode(abort)
            raise DeviceError(f"{self.host.name}: push failed: {type(e).__name__}: {e}") from None
        bad = self.driver.error_in(out)
        if bad:
            raise DeviceError(f"{self.host.name}: device refused a command: {bad}")
        return PushResult(sent=list(commands), output=out)

    def _leave_config_mode(self, abort: list[str] | None) -> None:
        with contextlib.suppress(Exception):
            for c in abort or []:
                self.conn.send_command_timing(c)
            self.conn.exit_config_mode()

    def _push_file(self, lines: list[str], tag: str) -> PushResult:
        """nftables: upload the ruleset, `nft -c -f` it, then apply it in one transaction."""
        text = "\n".join(lines) + "\n"
        remote = f"/tmp/netchange-{re.sub(r'[^A-Za-z0-9_.-]', '_', tag)}.nft"
        transport = self.conn.remote_conn.get_transport()
        import paramiko

        with paramiko.SFTPClient.from_transport(transport) as sftp:
            with sftp.open(remote, "w") as f:
                f.write(text)
        q = shlex.quote(remote)
        try:
            check = self.conn.send_command(f"nft -c -f {q} && echo NC-CHECK-OK", read_timeout=60)
            if "NC-CHECK-OK" not in check:
                raise DeviceError(f"{self.host.name}: nft rejected the ruleset: {check.strip()[:300]}")
            out = self.conn.send_command(f"nft -f {q} && echo NC-APPLY-OK", read_timeout=60)
            if "NC-APPLY-OK" not in out:
                raise DeviceError(f"{self.host.name}: nft -f failed: {out.strip()[:300]}")
        finally:
            with contextlib.suppress(Exception):
                self.conn.send_command(f"rm -f {q}")
        return PushResult(sent=lines, output=check + out)


def _first_error(msg: str, driver: Driver) -> str:
    return driver.error_in(msg) or msg.strip().splitlines()[-1][:300]
