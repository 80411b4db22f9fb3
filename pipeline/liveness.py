"""Dead SSH sessions found in seconds, not after netmiko's read timeout.

netmiko polls its channel until `read_timeout` (60 s here) even when the session under it is gone: a killed
sshd, a cut management link or a crashed box all looked like a slow command, and the report showed netmiko's
`ReadTimeout` advice about `cmd_verify`. So every connection gets
  - TCP_USER_TIMEOUT: bytes unacknowledged for DEAD_AFTER seconds abort the TCP connection (a cut link);
  - SSH keepalives every second while idle, so there are always bytes in flight for that timer to watch;
  - a channel read that raises SessionLost as soon as the transport or channel is closed (a killed sshd,
    a reset, the timer above) instead of polling an empty buffer until the read timeout.
A device that is merely slow keeps acknowledging TCP, so none of this cuts a long command short. Through a
ProxyJump / ProxyCommand the socket is the proxy's pipe: there only the closed-transport check applies (the
proxy's ssh notices a dead path with its own ServerAliveInterval, if set).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from .errors import DeviceError

DEAD_AFTER = float(os.environ.get("NETCHANGE_SSH_DEAD_AFTER", "5"))  # seconds without a TCP acknowledgement
KEEPALIVE = 1  # seconds of idle before an SSH keepalive


class SessionLost(DeviceError):
    """The device stopped answering on its SSH session (connection closed, reset or silent)."""


def lost(conn: Any) -> str | None:
    """Why *conn*'s session is gone, or None while it is alive."""
    raw = getattr(conn, "unwrapped", conn)
    chan = getattr(getattr(raw, "channel", None), "remote_conn", None) or getattr(raw, "remote_conn", None)
    if chan is None or not hasattr(chan, "get_transport"):
        return None
    transport = chan.get_transport()
    if transport is None or not transport.is_active():
        err = getattr(transport, "saved_exception", None)
        if isinstance(err, OSError) and err.errno == 110:  # ETIMEDOUT: TCP_USER_TIMEOUT gave up
            return f"no answer for {DEAD_AFTER:.0f} s, SSH connection dropped"
        if err is None or isinstance(err, EOFError) or not str(err):  # paramiko reports a reset and a drop alike
            return f"SSH connection lost (closed by the device, or no answer for {DEAD_AFTER:.0f} s)"
        return f"SSH connection lost ({err})"
    if chan.closed or chan.eof_received:
        return "SSH session closed by the device"
    return None


def watch(conn: Any, host: str, dead_after: float = DEAD_AFTER) -> None:
    """Arm *conn* (a netmiko SSH connection) as the module docstring says."""
    chan = getattr(getattr(conn, "channel", None), "remote_conn", None)
    if chan is None or not hasattr(chan, "get_transport"):
        return  # not an SSH channel (tests' fakes): nothing to arm
    transport = chan.get_transport()
    transport.set_keepalive(KEEPALIVE)
    sock = getattr(transport, "sock", None)
    if isinstance(sock, socket.socket) and hasattr(socket, "TCP_USER_TIMEOUT"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, int(dead_after * 1000))
    channel = conn.channel
    read = channel.read_buffer

    def read_buffer() -> str:
        out = read()
        if not out:
            why = lost(conn)
            if why:
                raise SessionLost(f"{host}: unreachable: {why}")
        return out

    channel.read_buffer = read_buffer
