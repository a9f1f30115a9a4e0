"""Calibrated drift thresholds: few false alarms on windows from the reference, shifts caught, bad input."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput
from shipyard.monitor.calibration import calibrated_drift
from shipyard.monitor.profile import build_profile
from shipyard.monitor.service import compute_drift

LEVELS = ["basic", "plus", "pro", "team"]
SHARES = [0.5, 0.3, 0.15, 0.05]


def population(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": rng.normal(24, 6, n),
            "spend": rng.gamma(2, 30, n),
            "visits": rng.poisson(3, n),
            "plan": rng.choice(LEVELS, n, p=SHARES),
            "score": np.where(rng.random(n) < 0.02, np.nan, rng.normal(0, 1, n)),
        }
    )


SHIFTS = {
    "mean": lambda w, rng: w.assign(tenure=w["tenure"] + 0.25 * 6),
    "variance": lambda w, rng: w.assign(spend=w["spend"] * rng.choice([0.6, 1.4], len(w))),
    "categories": lambda w, rng: w.assign(plan=rng.choice(LEVELS, len(w), p=[0.35, 0.3, 0.2, 0.15])),
    "missing": lambda w, rng: w.assign(score=w["score"].mask(rng.random(len(w)) < 0.08)),
    "new_category": lambda w, rng: w.assign(plan=w["plan"].mask(rng.random(len(w)) < 0.05, "enterprise")),
}
SHIFTED_FEATURE = {
    "mean": "tenure",
    "variance": "spend",
    "categories": "plan",
    "missing": "score",
    "new_category": "plan",
}


@pytest.fixture(scope="module")
def profile():  # type: ignore[no-untyped-def]
    return build_profile(population(np.random.default_rng(1), 20_000))


def test_windows_from_the_reference_rarely_alarm(profile) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    alarms = sum(calibrated_drift(profile, population(rng, 1_000)).drift_detected for _ in range(200))
    assert alarms / 200 <= 0.05


@pytest.mark.parametrize("shift", sorted(SHIFTS))
def test_single_feature_shift_is_caught(profile, shift: str) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    caught = 0
    for _ in range(40):
        report = calibrated_drift(profile, SHIFTS[shift](population(rng, 1_000), rng))
        caught += report.features[SHIFTED_FEATURE[shift]].drifted
    assert caught / 40 >= 0.95


@pytest.mark.parametrize(("factor", "direction"), [(1.25, 1), (0.75, -1)])
def test_a_spread_change_around_the_same_centre_is_caught_by_the_scale_check(
    profile,  # type: ignore[no-untyped-def]
    factor: float,
    direction: int,
) -> None:
    rng = np.random.default_rng(8)
    caught = 0
    for _ in range(20):
        window = population(rng, 1_000)
        window["tenure"] = 24 + (window["tenure"] - 24) * factor
        scale = calibrated_drift(profile, window).features["tenure"].checks["scale"]  # type: ignore[index]
        assert np.sign(scale["difference"]) == direction  # wider: more mass in the tails, and vice versa
        caught += scale["statistic"] > scale["threshold"] and scale["effect"] >= scale["min_effect"]
    assert caught / 20 >= 0.95


def test_contract_reports_calibrated_threshold_per_feature(profile) -> None:  # type: ignore[no-untyped-def]
    data = calibrated_drift(profile, population(np.random.default_rng(5), 2_000)).to_dict()
    assert data["rule"] == "calibrated" and data["window_rows"] == 2_000
    for name, f in data["features"].items():
        assert {"kind", "method", "statistic", "p_value", "threshold", "drifted"} <= set(f), name
        assert f["drifted"] == any(c["statistic"] > c["threshold"] for c in f["checks"].values())
    json.dumps(data, allow_nan=False)


def test_thresholds_shrink_with_window_size(profile) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(6)
    small = calibrated_drift(profile, population(rng, 500)).features["tenure"].threshold
    large = calibrated_drift(profile, population(rng, 50_000)).features["tenure"].threshold
    assert large < small


def test_calibration_is_cached_per_window_size(profile) -> None:  # type: ignore[no-untyped-def]
    window = population(np.random.default_rng(7), 3_000)
    calibrated_drift(profile, window)
    start = time.perf_counter()
    for _ in range(5):
        calibrated_drift(profile, window)
    assert (time.perf_counter() - start) / 5 < 0.5


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (pd.DataFrame({"x": []}), "no rows"),
        (pd.DataFrame({"x": ["a", "b"] * 25}), "non-numbers"),
    ],
)
def test_bad_current_windows_are_clear_errors(current: pd.DataFrame, message: str) -> None:
    reference = pd.DataFrame({"x": np.random.default_rng(9).normal(size=500)})
    with pytest.raises(InvalidInput) as info:
        compute_drift(reference, current)
    assert message in info.value.message


def test_unknown_rule_is_refused() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidInput, match="rule 'fancy'"):
        compute_drift(frame, frame, rule="fancy")
