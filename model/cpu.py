"""What this CPU is, in the terms that decide ONNX Runtime's int8 kernels: for logs and benchmark figures."""

from __future__ import annotations

import platform
from pathlib import Path

# CPU features that decide which int8 kernels ONNX Runtime picks, as /proc/cpuinfo names them.
INT8_FEATURES = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The int8-relevant instruction-set features of this CPU (empty where /proc/cpuinfo is absent)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return ()
    flags: set[str] = set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):
            flags.update(value.split())
    return tuple(feature for feature in INT8_FEATURES if feature in flags)


def cpu_description() -> str:
    """The machine and its int8 features in a few words, for logs and benchmark figures."""
    features = cpu_features()
    return f"{platform.machine()} ({', '.join(features) if features else 'no int8 features listed'})"
