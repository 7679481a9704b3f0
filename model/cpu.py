"""What this CPU is, in the terms that decide ONNX Runtime's int8 kernels: for logs and benchmark figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path

# CPU features that decide which int8 kernels ONNX Runtime picks, as /proc/cpuinfo names them.
INT8_FEATURES = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")


CPUINFO = Path("/proc/cpuinfo")


def _cpuinfo_values(names: tuple[str, ...], cpuinfo: Path) -> list[str]:
    """The values of /proc/cpuinfo's fields of these names, one per core that lists them (none where the
    file is absent)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return []
    fields = (line.partition(":") for line in text.splitlines())
    return [value.strip() for name, _, value in fields if name.strip() in names]


def cpu_features(cpuinfo: Path = CPUINFO) -> tuple[str, ...]:
    """The int8-relevant instruction-set features of this CPU (empty where /proc/cpuinfo is absent)."""
    flags = {flag for value in _cpuinfo_values(("flags", "Features"), cpuinfo) for flag in value.split()}
    return tuple(feature for feature in INT8_FEATURES if feature in flags)


def cpu_model_name(cpuinfo: Path = CPUINFO) -> str | None:
    """The CPU's model name as /proc/cpuinfo gives it ("AMD EPYC", ...), if it does."""
    names = _cpuinfo_values(("model name",), cpuinfo)
    return names[0] if names else None


def cpu_description() -> str:
    """The machine and its int8 features in a few words, for logs and benchmark figures."""
    features = cpu_features()
    return f"{platform.machine()} ({', '.join(features) if features else 'no int8 features listed'})"


def machine_description(gpu_name: str | None = None) -> str:
    """What a run on this host uses, for a model's card: the GPU's name, or else the CPU's model and cores."""
    return gpu_name or f"{cpu_model_name() or 'CPU'}, {os.cpu_count()} cores"
