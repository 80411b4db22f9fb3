"""Builds the sampler's eBPF object on first use: vmlinux.h from the running kernel's BTF, then clang CO-RE.

The object is cached per kernel BTF and per source text, so a kernel upgrade or an edit rebuilds it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

from .errors import TelemetryError

SOURCE = Path(str(files("pipeline.telemetry") / "bpf" / "sampler.bpf.c"))  # package data
KERNEL_BTF = Path("/sys/kernel/btf/vmlinux")
LIBBPF_INCLUDE = Path("/usr/include/bpf/bpf_helpers.h")


def cache_dir() -> Path:
    base = os.environ.get("NETCHANGE_CACHE") or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netchange" / "bpf"


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise TelemetryError(f"`{name}` is needed to build the eBPF sampler: install the Debian package `{package}`")
    return path


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        raise TelemetryError(f"{what} failed ({' '.join(cmd[:2])} ...):\n" + "\n".join(tail))


def build_object(force: bool = False) -> Path:
    """Path of the compiled sampler object, building it if needed (safe to call from several processes)."""
    if not KERNEL_BTF.exists():
        raise TelemetryError(f"{KERNEL_BTF} is missing: the kernel has no BTF, the CO-RE sampler cannot be built")
    if not LIBBPF_INCLUDE.exists():
        raise TelemetryError("libbpf headers are missing: install the Debian package `libbpf-dev`")
    clang = _tool("clang", "clang")
    bpftool = _tool("bpftool", "bpftool")

    btf = KERNEL_BTF.read_bytes()
    btf_id = hashlib.sha256(btf).hexdigest()[:16]
    src_id = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    obj = root / f"sampler-{btf_id}-{src_id}.bpf.o"
    if obj.exists() and not force:
        return obj

    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if obj.exists() and not force:
            return obj
        include = root / f"btf-{btf_id}"
        header = include / "vmlinux.h"
        if not header.exists():
            include.mkdir(exist_ok=True)
            proc = subprocess.run([bpftool, "btf", "dump", "file", str(KERNEL_BTF), "format", "c"], capture_output=True)
            if proc.returncode != 0:
                raise TelemetryError(f"bpftool could not dump the kernel BTF: {proc.stderr.decode(errors='replace').strip()}")
            tmp = header.with_suffix(".tmp")
            tmp.write_bytes(proc.stdout)
            tmp.rename(header)
        tmp_obj = obj.with_suffix(".tmp")
        arch = os.uname().machine
        target_arch = {"x86_64": "x86", "aarch64": "arm64"}.get(arch, arch)
        _run([clang, "-O2", "-g", "-target", "bpf", f"-D__TARGET_ARCH_{target_arch}", "-I", str(include),
              "-c", str(SOURCE), "-o", str(tmp_obj)], "compiling the eBPF sampler")
        tmp_obj.rename(obj)
    return obj
