"""Reading a command's answer at the known prompt (connect.KnownPrompt): the answer is the text between the
command's own echo and the prompt that ends the output, however the bytes arrive."""

from __future__ import annotations

import queue
import socket
import threading
import time

import pytest

from pipeline.connect import KnownPrompt
from pipeline.drivers.frr import DRIVER


class FakeChannel:
    """What KnownPrompt needs of paramiko's Channel: `recv` that waits up to its timeout for bytes."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue()
        self.timeout: float | None = None

    def settimeout(self, t: float | None) -> None:
        self.timeout = t

    def gettimeout(self) -> float | None:
        return self.timeout

    def recv(self, n: int) -> bytes:
        try:
            return self.chunks.get(timeout=self.timeout)
        except queue.Empty:
            raise socket.timeout() from None


class FakeNetmiko:
    """A netmiko connection whose device answers each written command with `answer(cmd)`, in chunks
    delivered over time; anything in `pending` (a stale prompt) arrives first."""

    RETURN = "\n"
    host = "e01"

    def __init__(self, answer, pending: str = "", chunk: int = 7, gap: float = 0.002) -> None:
        self.remote_conn = FakeChannel()
        self.answer, self.pending, self.chunk, self.gap = answer, pending, chunk, gap
        self.written: list[str] = []

    def normalize_cmd(self, command: str) -> str:
        return command.rstrip() + self.RETURN

    def normalize_linefeeds(self, text: str) -> str:
        return text.replace("\r\n", "\n")

    def write_channel(self, data: str) -> None:
        self.written.append(data)
        text = (self.pending + data.rstrip("\n") + "\r\n" + self.answer(data.strip())).encode()
        self.pending = ""

        def deliver() -> None:
            for i in range(0, len(text), self.chunk):
                time.sleep(self.gap)
                self.remote_conn.chunks.put(text[i:i + self.chunk])

        threading.Thread(target=deliver, daemon=True).start()

    def read_channel(self) -> str:  # netmiko's own buffer: empty here
        return ""

    def send_command(self, *args, **kwargs):  # the fast path must not fall back to netmiko here
        raise AssertionError("netmiko's send_command was used")


PROMPT = DRIVER.prompt_pattern("e01")


def test_answer_is_what_lies_between_echo_and_final_prompt():
    body = 'Building configuration...\r\n\r\ninterface lo\r\n description e01# is not a prompt here\r\nexit\r\n!\r\nend'
    conn = FakeNetmiko(lambda cmd: body + "\r\ne01# ")  # CR LF split across reads is still one line end
    assert KnownPrompt(conn, PROMPT).send_command("show running-config", read_timeout=5) == body.replace("\r\n", "\n")
    assert conn.written == ["show running-config\n"]


def test_a_stale_prompt_in_the_channel_does_not_end_the_next_answer():
    """A prompt left unread by an earlier exchange arrives first: the read waits for this command's echo,
    so the answer is not empty (netmiko's expect_string matched the stale prompt and returned early)."""
    conn = FakeNetmiko(lambda cmd: '{"peers": {}}\ne01# ', pending="e01# ")
    assert KnownPrompt(conn, PROMPT).send_command("show bgp summary json", read_timeout=5) == '{"peers": {}}'


def test_config_mode_prompt_and_empty_answer():
    conn = FakeNetmiko(lambda cmd: "e01(config-router)# ")
    assert KnownPrompt(conn, PROMPT).send_command("clear bgp ipv4 unicast 198.51.100.2 soft in", read_timeout=5) == ""


def test_no_prompt_is_a_read_timeout_not_a_hang():
    from netmiko.exceptions import ReadTimeout

    conn = FakeNetmiko(lambda cmd: "half an answer")
    with pytest.raises(ReadTimeout, match="no prompt"):
        KnownPrompt(conn, PROMPT).send_command("show bgp summary json", read_timeout=0.3)


def test_a_closed_session_is_reported_as_lost_at_once():
    from pipeline.liveness import SessionLost

    conn = FakeNetmiko(lambda cmd: "")
    conn.write_channel = lambda data: conn.remote_conn.chunks.put(b"")  # the device closed the channel
    with pytest.raises(SessionLost, match="e01: unreachable"):
        KnownPrompt(conn, PROMPT).send_command("show bgp summary json", read_timeout=30)


class Vtysh:
    """Answers like vtysh: the prompt follows the mode; `set bogus` is refused."""

    def __init__(self, mode: str = "") -> None:
        self.mode = mode

    def __call__(self, cmd: str) -> str:
        out = ""
        if cmd == "configure terminal":
            self.mode = "(config)"
        elif cmd.startswith("route-map "):
            self.mode = "(config-route-map)"
        elif cmd == "end":
            self.mode = ""
        elif "bogus" in cmd:
            out = f"% Unknown command: {cmd}\r\n"
        return f"{out}e01{self.mode}# "


def test_config_lines_enter_and_leave_config_mode_at_the_known_prompt():
    conn = FakeNetmiko(Vtysh())
    out = KnownPrompt(conn, PROMPT).send_config_set(["route-map RM-A permit 10", " set local-preference 250"],
                                                   error_pattern="^%", exit_config_mode=True, read_timeout=5)
    assert conn.written == ["\n", "configure terminal\n", "route-map RM-A permit 10\n", " set local-preference 250\n", "end\n"]
    assert out.endswith("end\ne01# ") and "e01(config-route-map)#" in out


def test_a_refused_line_raises_and_nothing_after_it_is_sent():
    from netmiko.exceptions import ConfigInvalidException

    conn = FakeNetmiko(Vtysh())
    with pytest.raises(ConfigInvalidException, match="at command:  set bogus 1, matched error: %"):
        KnownPrompt(conn, PROMPT).send_config_set(["route-map RM-A permit 10", " set bogus 1", " set local-preference 250"],
                                                  error_pattern="^%", exit_config_mode=True, read_timeout=5)
    assert conn.written[-1] == " set bogus 1\n"  # left in config mode, as netmiko leaves it (the caller abandons)


def test_already_in_config_mode_is_not_entered_again():
    conn = FakeNetmiko(Vtysh("(config)"))
    KnownPrompt(conn, PROMPT).send_config_set(["no route-map RM-A permit 10"], error_pattern="^%", read_timeout=5)
    assert conn.written == ["\n", "no route-map RM-A permit 10\n", "end\n"]
