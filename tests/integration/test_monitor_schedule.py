"""Scheduled monitoring with real Dagster, in-process: the generated code location's sensor and schedule
tick against an ephemeral instance, their run requests execute the real job, and each pass checks only the
prediction-log partitions that are new since the last one."""

from __future__ import annotations

import runpy
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.monitor import PredictionRecord
from shipyard.monitor.alerts import MonitorRules
from shipyard.monitor.scheduling import JOB, OP, SCHEDULE, SENSOR, ScheduleOptions
from shipyard.store.models import Deployment

pytestmark = pytest.mark.integration
T0 = datetime(2024, 6, 1, tzinfo=UTC)


def frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"tenure": rng.normal(24, 6, n), "spend": rng.gamma(2, 30, n)})


def deploy(ws: Any) -> None:
    reference = ws.state_dir / "ref.parquet"
    frame(0, 3_000).to_parquet(reference)
    with ws.store.session() as session:
        session.add(
            Deployment(
                project=ws.project,
                name="churn",
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model="churn_1",
                feature_refs=["c:tenure", "c:spend"],
                entity_keys=[],
                reference_path=str(reference),
            )
        )
    ws.monitor.configure("churn", MonitorRules(window_rows=200))


def traffic(ws: Any, seed: int, n: int, start: datetime) -> None:
    records = [
        PredictionRecord(
            request_id=f"{seed}-{i}",
            ts=start + timedelta(seconds=i),
            features=row,
            output={"probability": 0.5},
            latency_ms=1.0,
        )
        for i, row in enumerate(frame(seed, n).to_dict("records"))
    ]
    ws.monitor.log_predictions("churn", "1", records)
    ws.monitor.flush()


def test_sensor_and_schedule_run_incremental_passes_in_dagster(workspace: Any) -> None:
    import dagster as dg

    ws = workspace
    deploy(ws)
    location = ws.monitor.write_schedule(ScheduleOptions(cron="*/5 * * * *", sensor_interval_s=30))
    assert location.command == f"dagster dev -f {location.path}"
    defs = runpy.run_path(location.path)["defs"]  # the very file `dagster dev -f` loads
    sensor, schedule = defs.resolve_sensor_def(SENSOR), defs.resolve_schedule_def(SCHEDULE)
    job = defs.resolve_job_def(JOB)
    assert schedule.cron_schedule == "*/5 * * * *" and sensor.minimum_interval_seconds == 30
    instance = dg.DagsterInstance.ephemeral()

    def sensor_tick(cursor: str | None) -> Any:
        return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))

    def schedule_tick() -> Any:
        when = datetime(2024, 6, 2, 12, 5, tzinfo=UTC)
        return schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        )

    def execute(request: Any) -> dict[str, Any]:
        result = job.execute_in_process(run_config=request.run_config, instance=instance, tags=request.tags)
        assert result.success
        return result.output_for_node(OP)

    assert sensor_tick(None).skip_message and not sensor_tick(None).run_requests  # nothing logged yet

    traffic(ws, 1, 500, T0)
    first = sensor_tick(None)
    [request] = first.run_requests
    assert request.run_key == f"churn:{ws.monitor.log_cursor('churn')}"
    assert request.tags["shipyard/deployment"] == "churn"
    summary = execute(request)
    assert (summary["windows"], summary["rows_checked"], summary["pending_rows"]) == (2, 400, 100)

    again = sensor_tick(first.cursor)  # no new partitions: nothing to do
    assert not again.run_requests and "no new prediction-log partitions" in again.skip_message
    assert not schedule_tick().run_requests

    traffic(ws, 2, 300, T0 + timedelta(hours=2))
    [scheduled] = schedule_tick().run_requests
    assert scheduled.run_config == request.run_config
    second = sensor_tick(first.cursor)
    [request] = second.run_requests
    summary = execute(request)
    # Only the new partition was read: the 100 pending rows + 300 new ones make two windows.
    assert (summary["windows"], summary["rows_checked"], summary["pending_rows"]) == (2, 400, 0)
    windows = ws.monitor.status("churn")["windows"]
    assert len(windows) == 4 and windows[-1]["end"] == (T0 + timedelta(hours=2, seconds=299)).isoformat()
    assert not sensor_tick(second.cursor).run_requests
    assert not schedule_tick().run_requests

    ws.monitor.ingest_labels("churn", pd.DataFrame({"request_id": ["2-0"], "label": [1.0]}))
    [for_labels] = schedule_tick().run_requests  # labels alone make a pass due (performance checks)
    assert execute(for_labels)["windows"] == 0
    assert not schedule_tick().run_requests
