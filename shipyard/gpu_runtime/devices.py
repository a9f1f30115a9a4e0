"""What accelerators this machine has, without importing a GPU library."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

_NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")


def gpu_count() -> int:
    """Number of NVIDIA GPUs visible to this process (0 when there is no driver)."""
    # CUDA_VISIBLE_DEVICES is how a scheduler hands a process its GPUs; honour it like CUDA itself does.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return 0
    count = _installed_gpus()
    if visible:
        count = min(count, len([v for v in visible.split(",") if v.strip()]))
    return count


def _installed_gpus() -> int:
    if _NVIDIA_PROC.is_dir():
        return sum(1 for _ in _NVIDIA_PROC.iterdir())
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in out.stdout.splitlines() if line.startswith("GPU "))
