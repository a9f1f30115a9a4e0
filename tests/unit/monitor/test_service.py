"""MonitorService through a real Workspace: drift from files, the prediction log round trip, closing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.config import default_toml
from shipyard.errors import EngineUnavailable, InvalidInput, NotFound
from shipyard.monitor import PredictionRecord
from shipyard.monitor.service import MonitorService, compute_drift
from shipyard.store.models import Deployment
from shipyard.workspace import Workspace

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    (tmp_path / "shipyard.toml").write_text(default_toml("t"))
    workspace = Workspace.open(tmp_path)
    yield workspace
    workspace.close()


@pytest.fixture
def windows() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(
        {
            "tenure": rng.normal(24, 6, 5_000),
            "spend": rng.gamma(2, 30, 5_000),
            "plan": rng.choice(["a", "b"], 5_000),
        }
    )
    current = pd.DataFrame(
        {
            "tenure": rng.normal(27, 6, 1_000),
            "spend": rng.gamma(2, 30, 1_000),
            "plan": rng.choice(["a", "b"], 1_000),
        }
    )
    return reference, current


def records(n: int, start: datetime = T0) -> list[PredictionRecord]:
    return [
        PredictionRecord(
            request_id=f"q{i}",
            ts=start + timedelta(minutes=i),
            entity={"customer_id": 100 + i},
            features={"tenure": float(i), "plan": "pro"},
            output={"probability": 0.25, "prediction": 0},
            latency_ms=2.0 + i,
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_drift_from_paths_matches_dataframes(
    ws: Workspace, tmp_path: Path, windows: tuple[pd.DataFrame, pd.DataFrame], suffix: str
) -> None:
    reference, current = windows
    paths = [tmp_path / f"reference{suffix}", tmp_path / f"current{suffix}"]
    for frame, path in zip(windows, paths, strict=True):
        frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    from_files = ws.monitor.drift(paths[0], str(paths[1]))
    from_frames = ws.monitor.drift(reference, current)
    assert from_files.drifted_features == ["tenure"]
    assert from_files.to_dict()["features"].keys() == from_frames.to_dict()["features"].keys()
    for name, feature in from_files.features.items():
        assert feature.statistic == pytest.approx(from_frames.features[name].statistic), name


def test_drift_features_subset(ws: Workspace, windows: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    report = ws.monitor.drift(*windows, features=["spend"])
    assert list(report.features) == ["spend"] and not report.drift_detected


@pytest.mark.parametrize("name", ["reference.json", "reference.txt", "reference", "reference.parquet.gz"])
def test_unsupported_suffix_is_invalid_input_naming_the_path(
    ws: Workspace, tmp_path: Path, windows: tuple[pd.DataFrame, pd.DataFrame], name: str
) -> None:
    path = tmp_path / name
    path.write_text("x\n1\n")
    with pytest.raises(InvalidInput, match="unsupported file type") as info:
        ws.monitor.drift(path, windows[1])
    assert str(path) in info.value.message


@pytest.mark.parametrize("role", ["reference", "current"])
def test_nonexistent_path_is_not_found(
    ws: Workspace, tmp_path: Path, windows: tuple[pd.DataFrame, pd.DataFrame], role: str
) -> None:
    missing = tmp_path / "nowhere" / f"{role}.parquet"
    args = (missing, windows[1]) if role == "reference" else (windows[0], missing)
    with pytest.raises(NotFound) as info:
        ws.monitor.drift(*args)
    assert str(missing) in info.value.message and role in info.value.message


@pytest.mark.parametrize(("name", "content"), [("bad.parquet", b"not parquet"), ("empty.csv", b"")])
def test_unreadable_file_is_invalid_input(
    ws: Workspace, tmp_path: Path, windows: tuple[pd.DataFrame, pd.DataFrame], name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match="cannot be read") as info:
        ws.monitor.drift(windows[0], path)
    assert str(path) in info.value.message


def test_drift_rejects_other_argument_types(
    ws: Workspace, windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    with pytest.raises(InvalidInput, match="reference must be a DataFrame"):
        ws.monitor.drift({"x": [1]}, windows[1])  # type: ignore[arg-type]


def test_log_then_read_round_trip(ws: Workspace) -> None:
    ws.monitor.log_predictions("churn-prod", "4", records(5))
    frame = ws.monitor.read_predictions("churn-prod")  # reads this process's own writes
    assert list(frame["request_id"]) == [f"q{i}" for i in range(5)]
    assert {
        "request_id",
        "ts",
        "model_version",
        "latency_ms",
        "customer_id",
        "tenure",
        "plan",
        "probability",
    } <= set(frame.columns)
    assert list(frame["customer_id"]) == [100, 101, 102, 103, 104]
    assert frame["ts"].iloc[0] == pd.Timestamp(T0)
    since = ws.monitor.read_predictions("churn-prod", since=T0 + timedelta(minutes=3))
    assert list(since["request_id"]) == ["q3", "q4"]
    files = list((ws.root / ".shipyard" / "predictions" / "churn-prod" / "2024-06-01").glob("part-*.parquet"))
    assert len(files) == 1


def test_read_of_a_deployment_without_predictions_is_empty(ws: Workspace) -> None:
    frame = ws.monitor.read_predictions("nothing-yet")
    assert frame.empty and list(frame.columns) == ["request_id", "ts", "model_version", "latency_ms"]


def test_read_rejects_a_bad_deployment_name(ws: Workspace) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        ws.monitor.read_predictions("../etc")


def test_config_drives_the_writer(tmp_path: Path) -> None:
    toml = default_toml("t").replace('log_dir = ".shipyard/predictions"', 'log_dir = "plog"')
    (tmp_path / "shipyard.toml").write_text(toml)
    with Workspace.open(tmp_path) as workspace:
        workspace.monitor.log_predictions("churn", "1", records(2))
        workspace.monitor.flush()
        assert workspace.monitor.writer_stats.written == 2
        assert list((tmp_path / "plog" / "churn").iterdir())


def test_workspace_close_flushes_and_stops_logging(tmp_path: Path) -> None:
    (tmp_path / "shipyard.toml").write_text(default_toml("t"))
    workspace = Workspace.open(tmp_path)
    monitor = workspace.monitor
    monitor.log_predictions("churn", "1", records(3))
    workspace.close()
    monitor.close()  # twice is fine
    with pytest.raises(EngineUnavailable, match="closed"):
        monitor.log_predictions("churn", "1", records(1))
    with Workspace.open(tmp_path) as reopened:
        assert len(reopened.monitor.read_predictions("churn")) == 3


def test_closed_service_that_never_logged_refuses_to_log(ws: Workspace) -> None:
    service = MonitorService(ws)
    service.close()
    with pytest.raises(EngineUnavailable, match="closed"):
        service.log_predictions("churn", "1", records(1))


def test_drift_and_reads_start_no_writer_thread(
    ws: Workspace, windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    def writers() -> int:
        return sum(t.name == "shipyard-prediction-log" for t in threading.enumerate())

    before = writers()
    service = MonitorService(ws)
    service.drift(*windows)
    service.read_predictions("churn")
    service.flush()
    assert writers() == before
    service.close()


def test_module_compute_drift_takes_paths_without_a_workspace(
    tmp_path: Path, windows: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    windows[0].to_parquet(tmp_path / "ref.parquet")
    windows[1].to_csv(tmp_path / "cur.csv", index=False)
    report = compute_drift(tmp_path / "ref.parquet", str(tmp_path / "cur.csv"), ["tenure"])
    assert report.drifted_features == ["tenure"]


def add_deployment(ws: Workspace, name: str, reference_path: str, refs: list[str]) -> None:
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name=name,
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model="churn_1",
                feature_refs=refs,
                entity_keys=["customer_id"],
                reference_path=reference_path,
            )
        )


def test_deployment_drift_compares_logged_features_with_the_reference(ws: Workspace) -> None:
    rng = np.random.default_rng(1)
    reference = pd.DataFrame({"tenure": rng.normal(30, 5, 2_000), "plan": "pro", "churned": 0})
    reference.to_parquet(ws.root / "ref.parquet")
    add_deployment(ws, "churn", "ref.parquet", ["profile:tenure", "profile:plan"])
    ws.monitor.log_predictions("churn", "1", records(200))  # tenure 0..199: far from the reference
    report = ws.monitor.deployment_drift("churn")
    assert list(report.features) == ["tenure", "plan"]
    assert report.features["tenure"].drifted and not report.features["plan"].drifted


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        ("none", NotFound, "no deployment named 'churn'"),
        ("no-reference", NotFound, "no reference sample"),
        ("missing-file", NotFound, "does not exist"),
        ("no-traffic", InvalidInput, "no predictions logged"),
        ("no-features", InvalidInput, "has none of its features"),
    ],
)
def test_deployment_drift_bad_states(ws: Workspace, setup: str, error: type[Exception], message: str) -> None:
    pd.DataFrame({"tenure": [1.0, 2.0], "plan": ["a", "b"]}).to_parquet(ws.root / "ref.parquet")
    refs = ["profile:tenure"]
    if setup == "no-reference":
        add_deployment(ws, "churn", "", refs)
    elif setup == "missing-file":
        add_deployment(ws, "churn", "gone.parquet", refs)
    elif setup == "no-features":
        add_deployment(ws, "churn", "ref.parquet", ["profile:other"])
        ws.monitor.log_predictions("churn", "1", records(2))
    elif setup == "no-traffic":
        add_deployment(ws, "churn", "ref.parquet", refs)
    with pytest.raises(error, match=message):
        ws.monitor.deployment_drift("churn")
