"""The optional C hot path (fastscan.c), built on first use like the eBPF object and cached per source and
interpreter.  Without a C compiler or Python headers, or with NETCHANGE_NO_CEXT=1, the collector uses the
pure-Python scan: same results, about three times the CPU per sample (docs/benchmarks.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from types import ModuleType

from .bpf_build import cache_dir

SOURCE = Path(__file__).with_name("fastscan.c")
_loaded: ModuleType | None = None
_tried = False


def _build() -> Path | None:
    include = sysconfig.get_paths()["include"]
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None or not (Path(include) / "Python.h").exists():
        return None
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    tag = hashlib.sha256(SOURCE.read_bytes() + include.encode() + suffix.encode()).hexdigest()[:16]
    root = cache_dir().parent / "cext"
    root.mkdir(parents=True, exist_ok=True)
    out = root / f"_netchange_fastscan-{tag}{suffix}"
    if out.exists():
        return out
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if out.exists():
            return out
        tmp = out.with_suffix(".tmp")
        p = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-I", include, str(SOURCE), "-o", str(tmp)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            return None
        tmp.rename(out)
    return out


def fastscan() -> ModuleType | None:
    """The compiled module, or None (then the pure-Python scan runs)."""
    global _loaded, _tried
    if _tried:
        return _loaded
    _tried = True
    if os.environ.get("NETCHANGE_NO_CEXT"):
        return None
    try:
        path = _build()
        if path is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader("_netchange_fastscan", str(path))
        spec = importlib.util.spec_from_file_location("_netchange_fastscan", path, loader=loader)
        assert spec is not None  # a file location with a loader always has a spec
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        _loaded = mod
    except (OSError, ImportError):
        _loaded = None
    return _loaded
