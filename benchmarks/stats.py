"""Percentiles of latency samples, in milliseconds."""

from __future__ import annotations

import numpy as np


def summarize(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of samples in ms, rounded for reading."""
    arr = np.asarray(samples_ms, dtype=float)
    return {
        "n": int(arr.size),
        "p50_ms": round(float(np.percentile(arr, 50)), 3),
        "p95_ms": round(float(np.percentile(arr, 95)), 3),
        "p99_ms": round(float(np.percentile(arr, 99)), 3),
        "mean_ms": round(float(arr.mean()), 3),
    }
