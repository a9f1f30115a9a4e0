"""Run every benchmark and write one JSON file per benchmark to benchmarks/results/."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
BENCHMARKS = [
    "cli_startup",
    "bench_drift",
    "predict_latency",
    "bench_features",
    "bench_pipeline",
    "bench_calibration",
    "bench_prediction_log",
    "bench_tuning",
    "bench_governance",
    "bench_serving",
    "bench_copilot",
]


def main(names: list[str]) -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        t0 = time.perf_counter()
        print(f"== {name}", file=sys.stderr, flush=True)
        figures = module.run()
        doc = {
            "benchmark": name,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "cpus": _cpus(),
                "platform": platform.platform(),
            },
            "seconds": round(time.perf_counter() - t0, 1),
            "results": figures,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2))
        print(json.dumps(figures, indent=2), flush=True)
    return 0


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
