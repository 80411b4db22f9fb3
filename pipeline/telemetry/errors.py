"""Errors of the telemetry package (all NetchangeError, so the CLI shows them without a traceback)."""

from __future__ import annotations

from ..errors import NetchangeError


class TelemetryError(NetchangeError):
    """The sampler, the collector or the verifier cannot do what was asked."""


class BpfUnavailable(TelemetryError):
    """The kernel refuses eBPF here (no privilege, no BTF, no TCX/clsact)."""

    exit_code = 2


class MalformedDatagram(TelemetryError):
    """An sFlow datagram that does not decode (truncated, lying lengths, wrong version)."""
