"""Detection quality: calibrated Shipyard drift vs Evidently's DataDriftPreset defaults, on the same windows.

Synthetic population (5 features: normal, gamma, Poisson count, 4-level category, normal with 2% missing);
a reference of 20,000 rows; windows of 1,000 rows drawn from the population (null windows) or with one
feature shifted (mean +0.25 sd, variance x0.6/x1.4 mixture, category shares moved, missing rate 2% -> 10%,
a new category at 5%). Reported: window-level false-alarm rate (any feature flagged on a null window) and
per-shift recall (the shifted feature flagged), with fixed seeds. Evidently's verdict per column is its
own default test at its default threshold; a window alarms when any column drifts (as Shipyard's does),
and its dataset-level verdict (share of drifted columns >= 0.5) is listed too.

Nothing in the calibrated rule is fitted to these windows (its thresholds come from the reference alone).
As a check on that, ``shipyard_held_out`` scores Shipyard on an independent reference and fresh windows
at other window sizes (false alarms and the variance shift, the hardest one for CDF-based tests).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

LEVELS = ["basic", "plus", "pro", "team"]
SHARES = [0.5, 0.3, 0.15, 0.05]
WINDOW = 1_000
SHIFTS = {
    "mean": ("tenure", lambda w, rng: w.assign(tenure=w["tenure"] + 0.25 * 6)),
    "variance": ("spend", lambda w, rng: w.assign(spend=w["spend"] * rng.choice([0.6, 1.4], len(w)))),
    "categories": (
        "plan",
        lambda w, rng: w.assign(plan=rng.choice(LEVELS, len(w), p=[0.35, 0.3, 0.2, 0.15])),
    ),
    "missing": ("score", lambda w, rng: w.assign(score=w["score"].mask(rng.random(len(w)) < 0.08))),
    "new_category": (
        "plan",
        lambda w, rng: w.assign(plan=w["plan"].mask(rng.random(len(w)) < 0.05, "enterprise")),
    ),
}


def population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Rows from the reference distribution."""
    return pd.DataFrame(
        {
            "tenure": rng.normal(24, 6, n),
            "spend": rng.gamma(2, 30, n),
            "visits": rng.poisson(3, n).astype(float),
            "plan": rng.choice(LEVELS, n, p=SHARES),
            "score": np.where(rng.random(n) < 0.02, np.nan, rng.normal(0, 1, n)),
        }
    )


def _windows(null: int, per_shift: int, seed: int) -> list[tuple[str, str | None, pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[str, str | None, pd.DataFrame]] = [
        ("null", None, population(rng, WINDOW)) for _ in range(null)
    ]
    for name, (feature, shift) in SHIFTS.items():
        out += [(name, feature, shift(population(rng, WINDOW), rng)) for _ in range(per_shift)]
    return out


def _evidently_flags(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[set[str], bool]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    data = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference).dict()
    flagged, share = set(), 0.0
    for metric in data["metrics"]:
        config, value = metric["config"], metric["value"]
        if config.get("type", "").endswith("DriftedColumnsCount"):
            share = float(value["share"])
        elif config.get("type", "").endswith("ValueDrift"):
            p_value_test = "p_value" in config["method"].lower() or config["method"] in (
                "K-S p_value",
                "chi-square p_value",
            )
            drifted = (
                float(value) < config["threshold"] if p_value_test else float(value) >= config["threshold"]
            )
            if drifted:
                flagged.add(config["column"])
    return flagged, share >= 0.5


def _score(results: list[tuple[str, str | None, set[str]]]) -> dict[str, Any]:
    null = [flags for kind, _, flags in results if kind == "null"]
    out: dict[str, Any] = {"false_alarm_rate": round(sum(bool(f) for f in null) / max(len(null), 1), 4)}
    for name in SHIFTS:
        hits = [feature in flags for kind, feature, flags in results if kind == name]
        out[f"recall_{name}"] = round(sum(hits) / max(len(hits), 1), 4)
    return out


def run(
    null_windows: int = 200, per_shift: int = 40, evidently_null: int = 40, evidently_per_shift: int = 10
) -> dict[str, Any]:
    """Score both detectors on seeded windows; Evidently on a subset (it takes ~1 s a window)."""
    from shipyard.monitor.calibration import calibrated_drift, clear_cache
    from shipyard.monitor.profile import build_profile

    reference = population(np.random.default_rng(1), 20_000)
    clear_cache()
    start = time.perf_counter()
    profile = build_profile(reference)
    windows = _windows(null_windows, per_shift, seed=2)
    ours = [(k, f, set(calibrated_drift(profile, w).drifted_features)) for k, f, w in windows]
    shipyard_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "benchmark": "calibration",
        "reference_rows": len(reference),
        "window_rows": WINDOW,
        "shipyard_windows": len(windows),
        "shipyard_s_per_window": round(shipyard_s / len(windows), 4),
        "shipyard": _score(ours),
        "shipyard_held_out": _held_out(),
    }
    try:
        import evidently  # noqa: F401
    except ImportError:
        result["evidently"] = "not installed"
        return result
    subset = _windows(evidently_null, evidently_per_shift, seed=2)
    start = time.perf_counter()
    theirs, dataset = [], []
    for kind, feature, window in subset:
        flags, dataset_drift = _evidently_flags(reference, window)
        theirs.append((kind, feature, flags))
        dataset.append((kind, feature, {"*"} if dataset_drift else set()))
    result["evidently_windows"] = len(subset)
    result["evidently_s_per_window"] = round((time.perf_counter() - start) / len(subset), 4)
    result["evidently_any_column"] = _score(theirs)
    result["evidently_dataset_share_rule_false_alarm"] = _score(dataset)["false_alarm_rate"]
    ours_subset = [(k, f, set(calibrated_drift(profile, w).drifted_features)) for k, f, w in subset]
    result["shipyard_same_subset"] = _score(ours_subset)
    return result


def _held_out(sizes: tuple[int, ...] = (300, 5_000), null: int = 200, shifted: int = 40) -> dict[str, Any]:
    """False-alarm rate and variance recall on an independent reference, at other window sizes."""
    from shipyard.monitor.calibration import calibrated_drift
    from shipyard.monitor.profile import build_profile

    profile = build_profile(population(np.random.default_rng(101), 20_000))
    _, shift = SHIFTS["variance"]
    out: dict[str, Any] = {}
    for m in sizes:
        rng = np.random.default_rng(1_000 + m)
        alarms = [calibrated_drift(profile, population(rng, m)).drift_detected for _ in range(null)]
        hits = [
            "spend" in calibrated_drift(profile, shift(population(rng, m), rng)).drifted_features
            for _ in range(shifted)
        ]
        out[f"window_{m}"] = {
            "false_alarm_rate": round(float(np.mean(alarms)), 4),
            "recall_variance": round(float(np.mean(hits)), 4),
        }
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=1))
