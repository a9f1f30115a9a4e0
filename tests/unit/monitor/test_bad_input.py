"""Issue 6's "Bad input" list, one case per item (the only place these are tested): each ends in a clear result or a clear error, never a
crash, in bounded time and memory. Drift cases run both rules (calibrated default and classic)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound, ShipyardError
from shipyard.monitor import PredictionRecord
from shipyard.monitor.drift import DriftReport
from shipyard.monitor.service import compute_drift

RULES = ("calibrated", "classic")
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(10, 2, n), "plan": rng.choice(["a", "b", "c"], n)})


def drift_both(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, DriftReport]:
    return {rule: compute_drift(reference, current, rule=rule) for rule in RULES}


def all_nan() -> None:
    ref, cur = frame(2_000).assign(x=np.nan), frame(500, 1).assign(x=np.nan)
    for rule, report in drift_both(ref, cur).items():
        x = report.features["x"]
        assert (x.status, x.drifted, report.drift_detected) == ("not_computable", False, False), rule
        assert "no values in either window" in x.reasons[0]
    # Values in the reference, none now: a feature pipeline returning nulls is a real change.
    for rule, report in drift_both(frame(2_000), cur).items():
        x = report.features["x"]
        assert x.drifted and x.missing_rate_current == 1.0 and x.status == "ok", rule


def constant() -> None:
    ref, cur = frame(2_000).assign(x=3.0), frame(500, 1).assign(x=3.0)
    for rule, report in drift_both(ref, cur).items():
        assert not report.drift_detected and report.features["x"].psi == pytest.approx(0.0), rule
    for rule, report in drift_both(ref, cur.assign(x=5.0)).items():
        assert report.drifted_features == ["x"], rule


def infinite() -> None:
    ref = frame(2_000).assign(x=np.inf)
    cur = frame(500, 1).assign(x=np.where(np.arange(500) % 2, np.inf, -np.inf))
    for rule, report in drift_both(ref, cur).items():
        x = report.features["x"]
        assert (x.status, x.drifted, x.missing_rate_reference, x.missing_rate_current) == (
            "not_computable",
            False,
            1.0,
            1.0,
        ), rule


def column_missing_from_current() -> None:
    for rule in RULES:
        with pytest.raises(
            InvalidInput, match="feature 'x' is in the reference but missing from the current"
        ):
            compute_drift(frame(2_000), frame(500, 1)[["plan"]], rule=rule)


def new_columns() -> None:
    # Columns the reference lacks are ignored: the report is the one of the known columns alone.
    cur = frame(500, 1).assign(brand_new=1.0, other=np.arange(500))
    known = drift_both(frame(2_000), frame(500, 1))
    for rule, report in drift_both(frame(2_000), cur).items():
        assert list(report.features) == ["x", "plan"], rule
        assert report.to_dict() == known[rule].to_dict(), rule


def fewer_than_30_rows() -> None:
    cur = frame(20, 1).assign(x=50.0)  # even a wild shift is not judged on 20 rows
    for rule, report in drift_both(frame(2_000), cur).items():
        assert not report.drift_detected, rule
        for f in report.features.values():
            assert f.status == "not_computable" and f.reasons == [
                "only 20 rows in the window; at least 30 are needed"
            ]


def thousand_columns() -> None:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(1_000)]
    ref = pd.DataFrame(rng.normal(size=(2_000, 1_000)), columns=names)
    cur = pd.DataFrame(rng.normal(size=(1_000, 1_000)), columns=names)
    for rule, budget_s in (("calibrated", 15.0), ("classic", 30.0)):
        t0 = time.perf_counter()
        report = compute_drift(ref, cur, rule=rule)
        elapsed = time.perf_counter() - t0
        assert len(report.features) == 1_000 and elapsed < budget_s, (rule, elapsed)
        assert not report.drift_detected, (rule, report.drifted_features)  # 1,000 null features, no alarm


def categorical_100k_levels() -> None:
    rng = np.random.default_rng(0)
    levels = np.array([f"id{i}" for i in range(100_000)])
    ref = pd.DataFrame({"k": rng.choice(levels, 200_000)})
    cur = pd.DataFrame({"k": rng.choice(levels, 50_000)})
    for rule in RULES:
        tracemalloc.start()
        t0 = time.perf_counter()
        report = compute_drift(ref, cur, rule=rule)
        elapsed, peak = time.perf_counter() - t0, tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        k = report.features["k"]
        assert k.kind == "categorical" and not k.drifted, rule
        assert len(k.unseen_categories or []) <= 20  # listed, bounded
        assert elapsed < 15.0 and peak < 300e6, (rule, elapsed, peak)


def identical() -> None:
    ref = frame(2_000)
    for rule, report in drift_both(ref, ref.copy()).items():
        assert not report.drift_detected, rule
        for f in report.features.values():
            assert f.psi == pytest.approx(0.0, abs=1e-9) and f.status == "ok"


@pytest.mark.parametrize(
    "case",
    [
        all_nan,
        constant,
        infinite,
        column_missing_from_current,
        new_columns,
        fewer_than_30_rows,
        thousand_columns,
        categorical_100k_levels,
        identical,
    ],
    ids=lambda c: c.__name__,
)
def test_drift_bad_input(case: Callable[[], None]) -> None:
    case()


@pytest.fixture
def deployed(workspace: Any, add_deployment: Callable[..., None]) -> Any:
    add_deployment(workspace, ["c:x"], ["customer_id"])
    records = [
        PredictionRecord(
            f"r{i}", T0 + timedelta(minutes=i), {"customer_id": i}, {"x": 1.0}, {"probability": 0.7}
        )
        for i in range(50)
    ]
    workspace.monitor.log_predictions("churn", "1", records)
    return workspace


def test_labels_for_unknown_request_ids_are_counted_not_an_error(deployed: Any) -> None:
    labels = pd.DataFrame(
        {"request_id": ["r1", "r2", "ghost-1", "ghost-2", "ghost-3"], "label": [1, 0, 1, 1, 0]}
    )
    result = deployed.monitor.ingest_labels("churn", labels)
    assert (result.rows, result.matched, result.unmatched) == (5, 2, 3)
    [window] = deployed.monitor.performance("churn")
    assert window.rows == 2


def _write(tmp: Path, name: str, content: str | pd.DataFrame) -> Path:
    path = tmp / name
    if isinstance(content, pd.DataFrame):
        content.to_parquet(path) if name.endswith(".parquet") else content.to_csv(path, index=False)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("labels.csv", "request_id,outcome\nr1,1\n", InvalidInput, "has no 'label' column"),
        ("labels.csv", "request_id,label\nr1,yes\n", InvalidInput, "label row 0 holds 'yes'"),
        ("labels.csv", "request_id,label\nr1,inf\n", InvalidInput, "labels must be finite numbers"),
        ("labels.csv", "", InvalidInput, "cannot be read as CSV"),
        ("labels.csv", "\x00\x01garbage", InvalidInput, "label"),
        ("labels.csv", "request_id,label\n", InvalidInput, "the label file has no rows"),
        (
            "labels.csv",
            "customer_id,label\n1,1\n",
            InvalidInput,
            "needs request_id, or the entity keys and ts",
        ),
        (
            "labels.csv",
            "customer_id,ts,label\n1,not-a-time,1\n",
            InvalidInput,
            "'ts' holds values that are not",
        ),
        ("labels.parquet", "PAR1 garbage", InvalidInput, "cannot be read as Parquet"),
        ("labels.json", '{"request_id": "r1"}', InvalidInput, "unsupported file type '.json'"),
        ("absent.csv", None, NotFound, "does not exist"),
    ],
)
def test_malformed_label_files_are_refused_and_nothing_is_stored(
    deployed: Any, tmp_path: Path, name: str, content: str | None, error: type[ShipyardError], message: str
) -> None:
    path = tmp_path / name if content is None else _write(tmp_path, name, content)
    with pytest.raises(error, match=message):
        deployed.monitor.ingest_labels("churn", path)
    assert not (deployed.monitor.monitor_dir("churn") / "labels").exists()
