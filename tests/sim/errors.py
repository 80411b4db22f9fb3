"""What a simulated device answers when it will not take a command."""

from __future__ import annotations


class Rejected(Exception):
    """The device refuses `command` (the message is what the platform prints, or says so in words)."""

    def __init__(self, command: str, message: str):
        super().__init__(f"{command!r}: {message}")
        self.command = command
        self.message = message


class Unmodelled(Rejected):
    """The simulator does not know what the device does with `command`: a gap in the simulator, never a
    verdict on the plan. A test that meets one fails and says so, so the gap is closed, not papered over."""
