"""What accelerators this machine has, without importing a GPU library."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

_NVIDIA_PROC = Path("/proc/driver/nvidia/gpus")


def gpu_count() -> int:
    """Number of NVIDIA GPUs visible to this process (0 when there is no driver)."""
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
