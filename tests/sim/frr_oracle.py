"""A real FRR `bgpd` as an oracle for the FRR simulator: no zebra (-Z), no BGP socket (-p 0), no vty port
(-P 0), its own vty socket directory. Commands go through `vtysh` as a person would type them (vtysh
reads them from stdin, echoes each after its prompt and prints refusals right after it)."""

from __future__ import annotations

import os
import re
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

BGPD = Path("/usr/lib/frr/bgpd")
PROMPT = re.compile(r"^[\w.-]+(\([\w-]+\))?# ")
BOILERPLATE = ("frr version", "frr defaults", "hostname ", "bgp no-rib", "service integrated-vtysh-config", "log ")


def unavailable() -> str | None:
    """Why a real bgpd cannot run here (None: it can)."""
    if not BGPD.exists() or shutil.which("vtysh") is None:
        return "FRR (bgpd, vtysh) is not installed"
    if os.geteuid() != 0:
        return "starting bgpd as the frr user needs root"
    try:
        pwd.getpwnam("frr")
    except KeyError:
        return "no frr user"
    return None


class RealFrr:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ncsim-frr-"))
        (self.dir / "bgpd.conf").write_text("")
        subprocess.run(["chown", "-R", "frr:frr", str(self.dir)], check=True)
        self.pidfile = self.dir / "bgpd.pid"
        subprocess.run([str(BGPD), "-d", "-Z", "-p", "0", "-P", "0", "--vty_socket", str(self.dir), "-i", str(self.pidfile),
                        "-f", str(self.dir / "bgpd.conf"), "-z", str(self.dir / "zserv.api")], check=True, timeout=20)
        deadline = time.monotonic() + 10
        while not (self.dir / "bgpd.vty").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("bgpd did not open its vty socket")
            time.sleep(0.02)
        self.pid = int(self.pidfile.read_text().strip())

    def vtysh(self, lines: list[str]) -> str:
        out = subprocess.run(["vtysh", "--vty_socket", str(self.dir)], input="\n".join(lines) + "\n", capture_output=True,
                             text=True, timeout=60)
        return out.stdout + out.stderr

    def apply(self, commands: list[str]) -> dict[int, str]:
        """Type the commands in configuration mode; {index of a refused command: what vtysh said}."""
        text = self.vtysh(["configure terminal", *commands, "end"])
        errors: dict[int, str] = {}
        typed = -1  # prompt lines: "configure terminal", then one per command, then "end"
        for line in text.splitlines():
            if PROMPT.match(line):
                typed += 1
                continue
            if 1 <= typed <= len(commands) and line.strip():
                errors[typed - 1] = (errors.get(typed - 1, "") + " " + line.strip()).strip()
        return errors

    def show(self) -> str:
        text = self.vtysh(["show running-config"])
        keep = []
        started = False
        for line in text.splitlines():
            if line.startswith("Current configuration"):
                started = True
                continue
            if started and not line.startswith(BOILERPLATE) and not PROMPT.match(line):
                keep.append(line)
        return "\n".join(keep) + "\n"

    def close(self) -> None:
        try:  # a throw-away daemon without state: no graceful shutdown to wait for (init reaps it)
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
