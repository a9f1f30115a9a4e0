"""The prediction-log writer against a real SQLite metadata store in tmp_path."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from shipyard.errors import EngineUnavailable, InvalidInput, OperationFailed
from shipyard.monitor.log_reader import read_prediction_log
from shipyard.monitor.prediction_log import PredictionLogWriter
from shipyard.monitor.records import PredictionRecord
from shipyard.store.db import MetadataStore
from shipyard.store.models import PredictionLogPartition

T0 = datetime(2024, 5, 1, 23, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    s = MetadataStore.connect(f"sqlite:///{tmp_path / 's.db'}")
    yield s
    s.dispose()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "predictions"


def record(i: int, ts: datetime = T0, **overrides: Any) -> PredictionRecord:
    fields: dict[str, Any] = {
        "request_id": f"r{i}",
        "ts": ts,
        "entity": {"customer_id": i},
        "features": {"tenure": float(i % 50), "plan": "pro" if i % 2 else "basic"},
        "output": {"probability": (i % 100) / 100, "prediction": i % 2},
        "latency_ms": 1.5,
    }
    fields.update(overrides)
    return PredictionRecord(**fields)


def index_rows(store: MetadataStore) -> list[PredictionLogPartition]:
    with store.session() as session:
        return list(session.scalars(select(PredictionLogPartition).order_by(PredictionLogPartition.id)))


def test_records_from_several_threads_all_land(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=100, flush_interval_s=0.05)

    def produce(thread: int) -> None:
        for start in range(0, 1_000, 10):
            writer.log("churn", "3", [record(thread * 10_000 + start + k) for k in range(10)])

    threads = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    frame = read_prediction_log(store, log_dir, "churn")
    assert len(frame) == 4_000
    assert frame["request_id"].is_unique
    assert writer.stats.logged == writer.stats.written == 4_000
    assert writer.stats.dropped == 0
    assert sum(row.rows for row in index_rows(store)) == 4_000


def test_one_partition_folder_per_utc_day(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=10_000, flush_interval_s=60)
    # 23:00 UTC on May 1st plus 0..71 hours: three UTC days (and a non-UTC timestamp on the same instants).
    local = timezone(timedelta(hours=-5))
    writer.log("churn", "1", [record(h, T0 + timedelta(hours=h)) for h in range(0, 72, 2)])
    writer.log(
        "churn",
        "1",
        [record(1_000 + h, (T0 + timedelta(hours=h)).astimezone(local)) for h in range(1, 72, 2)],
    )
    writer.flush()
    days = sorted(p.name for p in (log_dir / "churn").iterdir())
    assert days == ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04"]
    for row in index_rows(store):
        table = pq.read_table(log_dir / row.path).to_pandas()
        assert {ts.strftime("%Y-%m-%d") for ts in table["ts"]} == {row.day}
        assert row.path.startswith(f"churn/{row.day}/part-")
    writer.close()


def test_index_rows_match_files(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=50, flush_interval_s=60)
    for batch in range(7):
        writer.log(
            "churn", "2", [record(batch * 30 + k, T0 + timedelta(minutes=batch * 30 + k)) for k in range(30)]
        )
    writer.log("fraud", "1", [record(9_000 + k) for k in range(5)])
    writer.close()
    rows = index_rows(store)
    on_disk = {p.relative_to(log_dir).as_posix() for p in log_dir.rglob("*") if p.is_file()}
    assert on_disk == {row.path for row in rows}  # no temp files, no unindexed files
    for row in rows:
        table = pq.read_table(log_dir / row.path).to_pandas()
        assert len(table) == row.rows
        assert table["ts"].min().to_pydatetime() == row.first_ts.replace(tzinfo=UTC)
        assert table["ts"].max().to_pydatetime() == row.last_ts.replace(tzinfo=UTC)
    assert {row.deployment for row in rows} == {"churn", "fraud"}
    assert sum(row.rows for row in rows if row.deployment == "churn") == 210


def test_close_flushes_and_twice_is_fine(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=10_000, flush_interval_s=3_600)
    writer.log("churn", "1", [record(i) for i in range(10)])
    writer.close()
    writer.close()
    writer.flush()  # after close: nothing pending, nothing to do
    assert len(read_prediction_log(store, log_dir, "churn")) == 10


def test_log_after_close_is_a_clear_error(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store)
    writer.close()
    with pytest.raises(EngineUnavailable, match="closed"):
        writer.log("churn", "1", [record(1)])


def test_interval_flushes_without_being_asked(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=10_000, flush_interval_s=0.1)
    writer.log("churn", "1", [record(i) for i in range(3)])
    deadline = time.monotonic() + 10
    while writer.stats.written < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.stats.written == 3
    assert len(index_rows(store)) == 1
    writer.close()


def test_flush_rows_triggers_a_write(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=20, flush_interval_s=3_600)
    writer.log("churn", "1", [record(i) for i in range(25)])
    deadline = time.monotonic() + 10
    while writer.stats.written < 25 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert writer.stats.written == 25
    writer.close()


def test_failed_write_keeps_rows_and_flush_reports_it(store: MetadataStore, log_dir: Path) -> None:
    log_dir.parent.mkdir(parents=True, exist_ok=True)
    log_dir.write_text("a file where the log folder should be")
    writer = PredictionLogWriter(log_dir, store, flush_rows=10_000, flush_interval_s=3_600)
    writer.log("churn", "1", [record(i) for i in range(4)])
    with pytest.raises(OperationFailed, match="flush"):
        writer.flush()
    assert writer.stats.written == 0 and "Error" in writer.stats.last_error
    assert index_rows(store) == []
    log_dir.unlink()
    writer.flush()
    writer.close()
    assert len(read_prediction_log(store, log_dir, "churn")) == 4


def test_full_queue_drops_and_counts_instead_of_blocking(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store, flush_rows=10_000, flush_interval_s=3_600, max_queued_rows=5)
    writer.log("churn", "1", [record(i) for i in range(4)])
    writer.log("churn", "1", [record(i) for i in range(4, 8)])  # would exceed 5 queued rows
    writer.close()
    assert writer.stats.dropped == 4
    assert len(read_prediction_log(store, log_dir, "churn")) == 4


def test_round_trip_values_and_types(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store)
    naive = datetime(2024, 5, 2, 8, 30)  # read as UTC
    writer.log(
        "churn",
        "7",
        [
            record(1, features={"tenure": 12.0, "plan": "pro", "spend": None}),
            record(2, ts=naive, features={"tenure": float("nan"), "plan": "basic", "spend": 3}),
        ],
    )
    writer.close()
    frame = read_prediction_log(store, log_dir, "churn")
    assert list(frame.columns[:4]) == ["request_id", "ts", "model_version", "latency_ms"]
    assert list(frame["request_id"]) == ["r1", "r2"]
    assert str(frame["ts"].dt.tz) == "UTC"
    assert frame["ts"].iloc[1] == pd.Timestamp("2024-05-02 08:30", tz="UTC")
    assert list(frame["model_version"]) == ["7", "7"]
    assert list(frame["customer_id"]) == [1, 2]
    assert frame["tenure"].iloc[0] == 12.0 and pd.isna(frame["tenure"].iloc[1])
    assert pd.isna(frame["spend"].iloc[0]) and frame["spend"].iloc[1] == 3
    assert list(frame["probability"]) == [0.01, 0.02]


def test_mixed_value_kinds_in_one_batch_are_kept(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store)
    writer.log("churn", "1", [record(1, entity={"customer_id": 1}), record(2, entity={"customer_id": "c-2"})])
    writer.flush()  # one file with a string column, then one with an int column
    writer.log("churn", "1", [record(3, features={"tenure": True, "plan": "pro"}), record(4)])
    writer.close()
    frame = read_prediction_log(store, log_dir, "churn")
    assert list(frame["customer_id"]) == ["1", "c-2", 3, 4]
    assert len(frame) == 4


def test_read_since_filters_rows(store: MetadataStore, log_dir: Path) -> None:
    writer = PredictionLogWriter(log_dir, store)
    writer.log("churn", "1", [record(i, T0 + timedelta(hours=i)) for i in range(10)])
    writer.close()
    frame = read_prediction_log(store, log_dir, "churn", since=T0 + timedelta(hours=6))
    assert list(frame["request_id"]) == ["r6", "r7", "r8", "r9"]
    assert read_prediction_log(store, log_dir, "other").empty


@pytest.mark.parametrize(
    ("deployment", "records", "message"),
    [
        ("churn", [record(1, features={"tenure": [1, 2]})], r"features\['tenure'\] is a list"),
        ("churn", [record(1, features={"tenure": {"a": 1}})], r"features\['tenure'\] is a dict"),
        ("churn", [record(1, features={"when": T0})], r"features\['when'\] is a datetime"),
        ("churn", [record(1, features={"blob": b"x"})], r"features\['blob'\] is a bytes"),
        ("churn", [record(1, entity={"id": object()})], r"entity\['id'\]"),
        ("churn", [record(1, output={"probability": [0.1]})], r"output\['probability'\]"),
        ("churn", [record(1, features={"ts": 1.0})], r"features\['ts'\] clashes"),
        ("churn", [record(1, features={"customer_id": 1.0})], r"features\['customer_id'\] clashes"),
        ("churn", [record(1, features={3: 1.0})], "keys must be non-empty strings"),
        ("churn", [record(1, features=[1.0])], "features must be a dict"),
        ("churn", [record(1, request_id="")], "request_id must be a non-empty string"),
        ("churn", [record(1, ts="2024-01-01")], "ts must be a datetime"),
        ("churn", [record(1, latency_ms="fast")], "latency_ms must be a number"),
        ("churn", [record(1), {"request_id": "r2"}], r"records\[1\] is a dict"),
        ("churn", record(1), "records must be a list"),
        ("../escape", [record(1)], "deployment name"),
        ("a/b", [record(1)], "deployment name"),
        ("", [record(1)], "deployment name"),
        (".hidden", [record(1)], "deployment name"),
    ],
)
def test_bad_records_are_rejected_at_log_time(
    store: MetadataStore, log_dir: Path, deployment: str, records: Any, message: str
) -> None:
    writer = PredictionLogWriter(log_dir, store)
    try:
        with pytest.raises(InvalidInput, match=message):
            writer.log(deployment, "1", records)
        assert writer.stats.logged == 0
    finally:
        writer.close()
    assert not log_dir.exists()


@pytest.mark.parametrize("model_version", ["", None, 1.5, True])
def test_bad_model_version_is_rejected(store: MetadataStore, log_dir: Path, model_version: Any) -> None:
    writer = PredictionLogWriter(log_dir, store)
    try:
        with pytest.raises(InvalidInput, match="model_version"):
            writer.log("churn", model_version, [record(1)])
    finally:
        writer.close()
