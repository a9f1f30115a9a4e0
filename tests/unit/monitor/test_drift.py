"""Drift statistics: false-alarm rate, detection, categorical handling, bad input, the JSON contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from shipyard.errors import InvalidInput
from shipyard.monitor.drift import DriftPolicy, _js, _ks, compute_drift

CONTRACT_KEYS = {"kind", "method", "statistic", "p_value", "threshold", "drifted"}


def mixed_window(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Numeric columns of several shapes plus categorical ones, all drawn from fixed distributions."""
    return pd.DataFrame(
        {
            "normal": rng.normal(10.0, 2.0, n),
            "lognormal": rng.lognormal(0.0, 1.0, n),
            "uniform": rng.uniform(-1.0, 1.0, n),
            "exponential": rng.exponential(3.0, n),
            "visits": rng.poisson(30, n),  # integral but many values: numeric, with ties
            "plan": rng.choice(
                ["basic", "plus", "pro", "team", "enterprise"], n, p=[0.4, 0.3, 0.15, 0.1, 0.05]
            ),
            "tickets": rng.integers(0, 5, n),  # low-cardinality int: categorical
            "autopay": rng.random(n) < 0.3,
        }
    )


@pytest.mark.parametrize(("n_reference", "n_current"), [(50_000, 2_000), (2_000, 50_000)])
def test_same_distribution_rarely_alarms(n_reference: int, n_current: int) -> None:
    alarms = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        report = compute_drift(mixed_window(rng, n_reference), mixed_window(rng, n_current))
        alarms += report.drift_detected
    assert alarms <= 1


def test_kinds_are_inferred_from_the_reference() -> None:
    report = compute_drift(
        mixed_window(np.random.default_rng(0), 5_000), mixed_window(np.random.default_rng(1), 500)
    )
    kinds = {name: f.kind for name, f in report.features.items()}
    assert kinds == {
        "normal": "numeric",
        "lognormal": "numeric",
        "uniform": "numeric",
        "exponential": "numeric",
        "visits": "numeric",
        "plan": "categorical",
        "tickets": "categorical",
        "autopay": "categorical",
    }
    assert {f.method for f in report.features.values() if f.kind == "numeric"} == {"ks"}
    assert {f.method for f in report.features.values() if f.kind == "categorical"} == {"chi2"}


@pytest.mark.parametrize("seed", range(5))
def test_half_sd_mean_shift_is_detected_in_that_feature_only(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = mixed_window(rng, 50_000)
    current = mixed_window(rng, 2_000)
    current["normal"] += 0.5 * 2.0
    report = compute_drift(reference, current)
    assert report.drift_detected
    assert report.drifted_features == ["normal"]
    assert report.features["normal"].statistic >= 0.1


def test_large_windows_ignore_a_trivial_but_significant_shift() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0.0, 1.0, 300_000)})
    current = pd.DataFrame({"x": rng.normal(0.03, 1.0, 300_000)})
    feature = compute_drift(reference, current).features["x"]
    assert feature.p_value < feature.threshold  # significant...
    assert not feature.drifted  # ...but not material
    assert feature.statistic < 0.1 and feature.psi < 0.1


def test_categorical_frequency_shift_is_detected() -> None:
    rng = np.random.default_rng(4)
    reference = pd.DataFrame({"plan": rng.choice(["basic", "plus", "pro"], 20_000, p=[0.6, 0.3, 0.1])})
    current = pd.DataFrame({"plan": rng.choice(["basic", "plus", "pro"], 2_000, p=[0.3, 0.3, 0.4])})
    feature = compute_drift(reference, current).features["plan"]
    assert feature.kind == "categorical" and feature.method == "chi2"
    assert feature.drifted
    assert feature.p_value < feature.threshold and feature.psi >= 0.2
    assert feature.unseen_categories == []


def test_unseen_category_is_reported_and_drifts() -> None:
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"plan": rng.choice(["basic", "plus"], 10_000)})
    current = pd.DataFrame({"plan": rng.choice(["basic", "plus", "student"], 3_000, p=[0.35, 0.35, 0.3])})
    feature = compute_drift(reference, current).features["plan"]
    assert feature.drifted
    assert feature.unseen_categories == ["student"]
    assert feature.unseen_rate == pytest.approx(0.3, abs=0.03)
    assert np.isfinite(feature.statistic) and np.isfinite(feature.psi)


def test_unseen_integer_category_is_labelled_as_an_integer() -> None:
    reference = pd.DataFrame({"tickets": [0, 1, 2, 3] * 500})
    # floats, as after a round trip through a nullable store
    current = pd.DataFrame({"tickets": [0.0, 1.0, 2.0, 3.0, 9.0] * 100})
    feature = compute_drift(reference, current).features["tickets"]
    assert feature.kind == "categorical"
    assert feature.unseen_categories == ["9"]


def test_missing_rate_change_drifts() -> None:
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.normal(size=20_000), "c": rng.choice(["a", "b"], 20_000)})
    current = pd.DataFrame({"x": rng.normal(size=2_000), "c": rng.choice(["a", "b"], 2_000)})
    current.loc[:599, "x"] = np.nan
    current["c"] = current["c"].astype(object)
    current.loc[:599, "c"] = None
    report = compute_drift(reference, current)
    for name in ("x", "c"):
        feature = report.features[name]
        assert feature.drifted, name
        assert feature.missing_rate_current == pytest.approx(0.3)
        assert any("missing rate" in reason for reason in feature.reasons)


@pytest.mark.parametrize(
    ("n1", "n2", "ties"),
    [(2_000, 2_000, False), (3_000, 500, True), (50_000, 2_000, False), (40_000, 30_000, True)],
)
def test_ks_matches_scipy(n1: int, n2: int, ties: bool) -> None:
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(0.05, 1.0, n2)
    if ties:
        a, b = np.round(a * 4), np.round(b * 4)
    statistic, p_value = _ks(np.sort(a), np.sort(b))
    expected = stats.ks_2samp(a, b)
    assert statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_js_matches_scipy() -> None:
    p, q = np.array([10.0, 0.0, 5.0, 1.0]), np.array([3.0, 4.0, 0.0, 1.0])
    assert _js(p, q) == pytest.approx(jensenshannon(p, q, base=2))


def test_features_none_skips_timestamp_columns() -> None:
    rng = np.random.default_rng(7)
    ts = pd.date_range("2024-01-01", periods=1_000, freq="min", tz="UTC")
    reference = pd.DataFrame({"ts": ts, "x": rng.normal(size=1_000)})
    current = pd.DataFrame({"ts": ts + pd.Timedelta(days=30), "x": rng.normal(size=1_000)})
    assert list(compute_drift(reference, current).features) == ["x"]


def test_features_selects_and_orders_columns() -> None:
    frame = mixed_window(np.random.default_rng(8), 1_000)
    report = compute_drift(frame, frame.drop(columns=["plan"]), features=["uniform", "normal"])
    assert list(report.features) == ["uniform", "normal"]
    assert report.features["normal"].threshold == pytest.approx(0.01 / 2)


def _ok() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.5, 2.5, 3.5], "c": ["a", "b", "a"]})


@pytest.mark.parametrize(
    ("reference", "current", "features", "message"),
    [
        (_ok(), _ok().drop(columns=["c"]), None, "'c'"),
        (_ok(), _ok().iloc[:0], None, "current window has no rows"),
        (_ok().iloc[:0], _ok(), None, "reference window has no rows"),
        (_ok(), _ok(), ["x", "nope"], "'nope' is not a column of the reference"),
        (_ok(), _ok(), ["x", "x"], "twice"),
        (_ok(), _ok(), "x", "list of column names"),
        (_ok(), _ok(), [], "no feature columns"),
        (_ok(), _ok().assign(x=["1", "two", "3"]), None, "'x' is numeric in the reference"),
        (
            _ok().assign(t=pd.Timestamp("2024-01-01")),
            _ok().assign(t=pd.Timestamp("2024-02-01")),
            ["t"],
            "timestamps",
        ),
        (_ok(), [1, 2, 3], None, "current must be a DataFrame"),
        (pd.concat([_ok(), _ok()["x"]], axis=1), _ok(), None, "duplicate columns"),
    ],
)
def test_bad_input_raises_invalid_input(
    reference: object, current: object, features: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        compute_drift(reference, current, features)  # type: ignore[arg-type]


def test_missing_current_column_error_names_it() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_drift(_ok(), _ok().drop(columns=["c"]))
    assert "'c'" in info.value.message and "missing from the current window" in info.value.message


def test_to_dict_is_exactly_the_contract() -> None:
    rng = np.random.default_rng(9)
    report = compute_drift(mixed_window(rng, 3_000), mixed_window(rng, 300))
    data = report.to_dict()
    assert set(data) == {"drift_detected", "features"}
    assert isinstance(data["drift_detected"], bool)
    assert set(data["features"]) == set(mixed_window(rng, 1).columns)
    for name, feature in data["features"].items():
        assert CONTRACT_KEYS <= set(feature), name
        assert feature["kind"] in {"numeric", "categorical"}
        assert feature["method"] in {"ks", "chi2"}
        assert isinstance(feature["drifted"], bool)
        for key in ("statistic", "p_value", "threshold"):
            assert isinstance(feature[key], float), (name, key)
    json.dumps(data, allow_nan=False)  # valid JSON: no NaN or infinity anywhere


def test_policy_thresholds_are_used() -> None:
    rng = np.random.default_rng(10)
    reference = pd.DataFrame({"x": rng.normal(size=50_000)})
    current = pd.DataFrame({"x": rng.normal(0.2, 1.0, 5_000)})
    assert not compute_drift(reference, current).drift_detected  # KS ~0.08: below the default floor
    assert compute_drift(reference, current, policy=DriftPolicy(ks_material=0.05)).drift_detected
