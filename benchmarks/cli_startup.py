"""Start-up time of `shipyard --help` against a bare `python -c pass` (the floor)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from typing import Any

from benchmarks.stats import summarize


def _time(cmd: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def run(runs: int = 10) -> dict[str, Any]:
    """Median start-up of the CLI and of the interpreter alone, and their ratio."""
    exe = shutil.which("shipyard") or str(sys.prefix) + "/bin/shipyard"
    cli = summarize(_time([exe, "--help"], runs))
    bare = summarize(_time([sys.executable, "-c", "pass"], runs))
    return {
        "shipyard_help": cli,
        "python_bare": bare,
        "ratio_p50": round(cli["p50_ms"] / bare["p50_ms"], 2),
        "target": "shipyard --help < 1500 ms",
    }
