"""Loads the sampler object with libbpf (ctypes against libbpf.so.1) and attaches it to interfaces.

Attachment prefers TCX links (kernel >= 6.6; libbpf 1.1 has no helper, so `bpf_link_create` with the raw
attach types) and falls back to a clsact qdisc filter.  Closing a TCX link fd detaches it, so even a killed
agent leaves nothing behind; clsact filters are removed explicitly in `close()`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import BpfUnavailable, TelemetryError

BPF_TCX_INGRESS = 46
BPF_TCX_EGRESS = 47
BPF_TC_INGRESS = 1
BPF_TC_EGRESS = 2
INGRESS, EGRESS = 0, 1

_STOP = -4095  # callback return that ends ring_buffer__poll early (the record is consumed); no errno has it
SRC_STATE = struct.Struct("=IIIIQQQ")  # struct src_state: ifindex, rate, snaplen, pad, pool, samples, drops (per CPU)
SLOTS = 1024  # sampler.bpf.c: a source lives in slot (ifindex % SLOTS) << 1 | direction
# struct sample_event up to the header bytes (see sampler.bpf.c)
EVENT = struct.Struct("=QQQIIIIHBBI")
HDR_MAX = 256

RingCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)


class _TcHook(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("ifindex", ctypes.c_int), ("attach_point", ctypes.c_int),
                ("parent", ctypes.c_uint32), ("_pad", ctypes.c_uint32)]


class _TcOpts(ctypes.Structure):
    _fields_ = [("sz", ctypes.c_size_t), ("prog_fd", ctypes.c_int), ("flags", ctypes.c_uint32),
                ("prog_id", ctypes.c_uint32), ("handle", ctypes.c_uint32), ("priority", ctypes.c_uint32),
                ("_pad", ctypes.c_uint32)]


def _libbpf() -> ctypes.CDLL:
    name = ctypes.util.find_library("bpf") or "libbpf.so.1"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        raise TelemetryError("libbpf.so.1 is missing: install the Debian package `libbpf1`") from None
    vp, i, u32, sz = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32, ctypes.c_size_t
    for fn, res, args in (
        ("bpf_object__open_file", vp, [ctypes.c_char_p, vp]),
        ("bpf_object__load", i, [vp]),
        ("bpf_object__close", None, [vp]),
        ("bpf_object__find_program_by_name", vp, [vp, ctypes.c_char_p]),
        ("bpf_object__find_map_fd_by_name", i, [vp, ctypes.c_char_p]),
        ("bpf_object__find_map_by_name", vp, [vp, ctypes.c_char_p]),
        ("bpf_map__set_max_entries", i, [vp, u32]),
        ("bpf_program__fd", i, [vp]),
        ("bpf_link_create", i, [i, i, i, vp]),
        ("bpf_map_update_elem", i, [i, vp, vp, ctypes.c_uint64]),
        ("bpf_map_lookup_elem", i, [i, vp, vp]),
        ("bpf_map_delete_elem", i, [i, vp]),
        ("libbpf_num_possible_cpus", i, []),
        ("ring_buffer__new", vp, [i, RingCallback, vp, vp]),
        ("ring_buffer__poll", i, [vp, i]),
        ("ring_buffer__free", None, [vp]),
        ("bpf_tc_hook_create", i, [vp]),
        ("bpf_tc_hook_destroy", i, [vp]),
        ("bpf_tc_attach", i, [vp, vp]),
        ("bpf_tc_detach", i, [vp, vp]),
    ):
        f = getattr(lib, fn)
        f.restype, f.argtypes = res, args
    del u32, sz
    return lib


def _err(rc: int) -> str:
    code = -rc if rc < 0 else ctypes.get_errno()
    return f"{errno.errorcode.get(code, code)} ({os.strerror(code)})"


@dataclass
class Attachment:
    ifindex: int
    direction: int
    mode: str                # "tcx" or "tc"
    link_fd: int = -1
    tc_created_hook: bool = False
    tc_handle: int = 0
    tc_priority: int = 0


class Sampler:
    """The loaded eBPF sampler: rates per interface, attachments, stats, and the ring buffer."""

    def __init__(self, obj_path: Path, ring_bytes: int | None = None):
        """`ring_bytes`: size of the ring buffer between kernel and agent (a power of two, at least one page;
        default 4 MiB as built).  Samples the agent has not consumed wait there; when it is full they are
        counted as drops."""
        self.lib = _libbpf()
        self.obj = self.lib.bpf_object__open_file(str(obj_path).encode(), None)
        if not self.obj:
            raise TelemetryError(f"libbpf cannot open {obj_path}: {_err(0)}")
        if ring_bytes is not None:
            page = os.sysconf("SC_PAGE_SIZE")
            if ring_bytes < page or ring_bytes & (ring_bytes - 1):
                self.lib.bpf_object__close(self.obj)
                raise TelemetryError(f"ring buffer size must be a power of two of at least {page} bytes, not {ring_bytes}")
            m = self.lib.bpf_object__find_map_by_name(self.obj, b"events")
            if not m or self.lib.bpf_map__set_max_entries(m, ring_bytes) != 0:
                self.lib.bpf_object__close(self.obj)
                raise TelemetryError(f"cannot size the ring buffer to {ring_bytes} bytes: {_err(0)}")
        rc = self.lib.bpf_object__load(self.obj)
        if rc != 0:
            self.lib.bpf_object__close(self.obj)
            self.obj = None
            code = -rc
            if code in (errno.EPERM, errno.EACCES):
                raise BpfUnavailable(f"the kernel refuses to load eBPF programs here: {_err(rc)} (run as root with CAP_BPF and CAP_NET_ADMIN)")
            raise BpfUnavailable(f"loading the eBPF sampler failed: {_err(rc)} (the verifier log is above)")
        self.prog_fd = {}
        for direction, name in ((INGRESS, b"sample_ingress"), (EGRESS, b"sample_egress")):
            prog = self.lib.bpf_object__find_program_by_name(self.obj, name)
            self.prog_fd[direction] = self.lib.bpf_program__fd(prog)
        self.sources_fd = self.lib.bpf_object__find_map_fd_by_name(self.obj, b"sources")
        self.events_fd = self.lib.bpf_object__find_map_fd_by_name(self.obj, b"events")
        self.ncpus = max(1, self.lib.libbpf_num_possible_cpus())
        self.attachments: list[Attachment] = []
        self._rb = None
        self._cb: Any = None

    # -- configuration -------------------------------------------------------------------------------
    def set_rate(self, ifindex: int, rate: int, snaplen: int) -> None:
        """Sample both directions of *ifindex* 1-in-*rate*; the counters of an existing source are kept."""
        for direction in (INGRESS, EGRESS):
            per_cpu = self._slot(ifindex, direction)
            owner = per_cpu[0][0]
            if owner not in (0, ifindex) and per_cpu[0][1] != 0:
                raise TelemetryError(f"interfaces with ifindex {owner} and {ifindex} cannot both be sampled by one agent "
                                     f"(they share slot {ifindex % SLOTS}); run a second agent for one of them")
            keep = owner == ifindex
            buf = ctypes.create_string_buffer(SRC_STATE.size * self.ncpus)
            for cpu, (_, _, _, _, *counters) in enumerate(per_cpu):
                SRC_STATE.pack_into(buf, cpu * SRC_STATE.size, ifindex, rate, min(snaplen, HDR_MAX), 0,
                                    *(counters if keep else (0, 0, 0)))
            key = ctypes.c_uint32((ifindex % SLOTS) << 1 | direction)
            if self.lib.bpf_map_update_elem(self.sources_fd, ctypes.byref(key), buf, 0) != 0:
                raise TelemetryError(f"cannot set the sampling rate of ifindex {ifindex}: {_err(0)}")

    def _slot(self, ifindex: int, direction: int) -> list[tuple[int, ...]]:
        """Per CPU (ifindex, rate, snaplen, pad, pool, samples, drops) of the slot of one data source."""
        key = ctypes.c_uint32((ifindex % SLOTS) << 1 | direction)
        buf = ctypes.create_string_buffer(SRC_STATE.size * self.ncpus)
        if self.lib.bpf_map_lookup_elem(self.sources_fd, ctypes.byref(key), buf) != 0:
            raise TelemetryError(f"cannot read the sampler's slot of ifindex {ifindex}: {_err(0)}")
        return [SRC_STATE.unpack_from(buf, cpu * SRC_STATE.size) for cpu in range(self.ncpus)]

    def _read(self, ifindex: int, direction: int) -> list[tuple[int, int, int]] | None:
        """Per CPU (pool, samples, drops) of one data source, None if it is not configured."""
        per_cpu = self._slot(ifindex, direction)
        if per_cpu[0][0] != ifindex:
            return None
        return [(c[4], c[5], c[6]) for c in per_cpu]  # (pool, samples, drops)

    def stats(self, ifindex: int, direction: int) -> tuple[int, int, int]:
        """(pool, samples, drops) of one data source, summed over CPUs."""
        per_cpu = self._read(ifindex, direction) or []
        return (sum(c[0] for c in per_cpu), sum(c[1] for c in per_cpu), sum(c[2] for c in per_cpu))

    # -- attachment ----------------------------------------------------------------------------------
    def attach(self, ifindex: int, direction: int, mode: str = "auto") -> Attachment:
        prog_fd = self.prog_fd[direction]
        if mode in ("auto", "tcx"):
            fd = self.lib.bpf_link_create(prog_fd, ifindex, BPF_TCX_INGRESS if direction == INGRESS else BPF_TCX_EGRESS, None)
            if fd >= 0:
                a = Attachment(ifindex, direction, "tcx", link_fd=fd)
                self.attachments.append(a)
                return a
            if mode == "tcx" or -fd in (errno.EPERM, errno.EACCES):
                raise BpfUnavailable(f"TCX attach to ifindex {ifindex} failed: {_err(fd)}")
        return self._attach_tc(ifindex, direction, prog_fd)

    def _attach_tc(self, ifindex: int, direction: int, prog_fd: int) -> Attachment:
        hook = _TcHook(ctypes.sizeof(_TcHook), ifindex, BPF_TC_INGRESS if direction == INGRESS else BPF_TC_EGRESS, 0, 0)
        # one clsact qdisc serves both directions: create it once
        ours = any(a.ifindex == ifindex and a.mode == "tc" for a in self.attachments)
        rc = 0 if ours else self.lib.bpf_tc_hook_create(ctypes.byref(hook))
        created = rc == 0 and not ours
        if rc not in (0, -errno.EEXIST):
            raise BpfUnavailable(f"cannot create a clsact qdisc on ifindex {ifindex}: {_err(rc)}")
        opts = _TcOpts(ctypes.sizeof(_TcOpts), prog_fd, 0, 0, 0, 0, 0)
        rc = self.lib.bpf_tc_attach(ctypes.byref(hook), ctypes.byref(opts))
        if rc != 0:
            raise BpfUnavailable(f"tc attach to ifindex {ifindex} failed: {_err(rc)}")
        a = Attachment(ifindex, direction, "tc", tc_created_hook=created, tc_handle=opts.handle, tc_priority=opts.priority)
        self.attachments.append(a)
        return a

    def detach(self, a: Attachment) -> None:
        """Detach one attachment (the maps and their counters stay)."""
        self._detach(a)
        self.attachments.remove(a)
        if a.mode == "tc" and a.tc_created_hook:  # the clsact qdisc we created goes with its last filter
            rest = [b for b in self.attachments if b.ifindex == a.ifindex and b.mode == "tc"]
            if rest:
                rest[0].tc_created_hook = True
            else:
                hook = _TcHook(ctypes.sizeof(_TcHook), a.ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS, 0, 0)
                self.lib.bpf_tc_hook_destroy(ctypes.byref(hook))

    def _detach(self, a: Attachment) -> None:
        if a.mode == "tcx":
            os.close(a.link_fd)
            return
        hook = _TcHook(ctypes.sizeof(_TcHook), a.ifindex, BPF_TC_INGRESS if a.direction == INGRESS else BPF_TC_EGRESS, 0, 0)
        opts = _TcOpts(ctypes.sizeof(_TcOpts), 0, 0, 0, a.tc_handle, a.tc_priority, 0)
        self.lib.bpf_tc_detach(ctypes.byref(hook), ctypes.byref(opts))

    # -- ring buffer ---------------------------------------------------------------------------------
    def on_event(self, handler: Callable[[bytes], bool | None]) -> None:
        """Calls handler(raw event bytes) for each sample during `poll()`; a handler returning True ends that
        poll early, leaving later samples in the ring buffer (libbpf would otherwise keep consuming for as
        long as the kernel keeps producing, and the caller's backlog would grow without bound)."""
        string_at = ctypes.string_at

        def cb(_ctx, data, size):
            return _STOP if handler(string_at(data, size)) else 0

        self._cb = RingCallback(cb)  # keep a reference: libbpf holds the raw pointer
        self._rb = self.lib.ring_buffer__new(self.events_fd, self._cb, None, None)
        if not self._rb:
            raise TelemetryError(f"cannot open the sampler's ring buffer: {_err(0)}")

    def poll(self, timeout_ms: int) -> int:
        """Consume samples (waiting up to timeout_ms for the first); returns how many were consumed, or -1 if
        the handler ended the poll early."""
        rc = self.lib.ring_buffer__poll(self._rb, timeout_ms)
        if rc == _STOP:
            return -1
        if rc < 0 and -rc != errno.EINTR:
            raise TelemetryError(f"ring buffer poll failed: {_err(rc)}")
        return rc

    def close(self) -> None:
        """Detaches everything (qdiscs we created go too) and frees the object; idempotent."""
        for a in reversed(self.attachments):
            try:
                self._detach(a)
            except OSError:
                pass
        for a in self.attachments:
            if a.mode == "tc" and a.tc_created_hook:
                hook = _TcHook(ctypes.sizeof(_TcHook), a.ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS, 0, 0)
                self.lib.bpf_tc_hook_destroy(ctypes.byref(hook))
        self.attachments = []
        if self._rb:
            self.lib.ring_buffer__free(self._rb)
            self._rb = None
        if self.obj:
            self.lib.bpf_object__close(self.obj)
            self.obj = None


def parse_event(raw: bytes) -> tuple[int, int, int, int, int, int, int, int, int, int, bytes]:
    """(ts_ns, pool, drops, ifindex, frame_len, rate, segs, hdr_len, direction, cpu, header); pool and drops
    are the sampling CPU's counters of this (ifindex, direction) at the time of the sample."""
    ts, pool, drops, ifindex, frame_len, rate, segs, hdr_len, direction, cpu, _pad = EVENT.unpack_from(raw)
    return ts, pool, drops, ifindex, frame_len, rate, segs, hdr_len, direction, cpu, raw[EVENT.size:EVENT.size + hdr_len]
