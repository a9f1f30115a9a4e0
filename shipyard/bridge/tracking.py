"""Log a finished pipeline run to the workspace's MLflow: one parent run, one child run per step.

Parameters go on the parent; each step's ``metrics`` values on its child (and all of them on the parent);
both carry the pipeline and source-notebook hashes so a number can be traced back to the code that made it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shipyard.bridge.models import FAILED, SKIPPED, SUCCEEDED, RunResult

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

TAG_PIPELINE = "shipyard.pipeline"
TAG_PIPELINE_SHA = "shipyard.pipeline_sha256"
TAG_NOTEBOOK_SHA = "shipyard.notebook_sha256"
TAG_RUN_ID = "shipyard.pipeline_run_id"
TAG_STEP = "shipyard.step"
TAG_CODE_SHA = "shipyard.code_sha256"
_MLFLOW_STATUS = {SUCCEEDED: "FINISHED", FAILED: "FAILED", SKIPPED: "KILLED"}


def log_pipeline_run(
    ws: Workspace, spec: Mapping[str, Any], result: RunResult, step_metrics: Mapping[str, dict[str, Any]]
) -> str:
    """Record ``result`` in MLflow; returns the parent run's id."""
    from mlflow.entities import Metric, Param, RunTag

    client = ws.registry.client
    experiment = ws.registry.experiment_id
    now = int(time.time() * 1000)
    common = {
        TAG_PIPELINE: str(spec["name"]),
        TAG_PIPELINE_SHA: str(spec.get("sha256", "")),
        TAG_NOTEBOOK_SHA: str(spec.get("source", {}).get("sha256", "")),
        TAG_RUN_ID: result.run_id,
    }
    parent = client.create_run(experiment, run_name=f"{spec['name']}:{result.run_id}", tags=common)
    parent_id = parent.info.run_id
    try:
        params = [Param(k, _param_text(v)) for k, v in sorted(result.parameters.items())]
        metrics = [Metric(k, v, now, 0) for k, v in _numeric(result.metrics).items()]
        client.log_batch(parent_id, metrics=metrics, params=params)
        code = {s["name"]: s.get("code_sha256", "") for s in spec.get("steps", [])}
        for step in result.steps:
            tags = {
                **common,
                "mlflow.parentRunId": parent_id,
                TAG_STEP: step.name,
                TAG_CODE_SHA: str(code.get(step.name, "")),
                "shipyard.cached": str(step.cached).lower(),
            }
            child = client.create_run(experiment, run_name=f"{spec['name']}.{step.name}", tags=tags)
            values = _numeric(step_metrics.get(step.name, {}))
            values["duration_s"] = float(step.duration_s)
            client.log_batch(
                child.info.run_id,
                metrics=[Metric(k, v, now, 0) for k, v in values.items()],
                tags=[RunTag("shipyard.error", step.error[:4000])] if step.error else [],
            )
            client.set_terminated(child.info.run_id, status=_MLFLOW_STATUS.get(step.status, "FAILED"))
    finally:
        client.set_terminated(parent_id, status="FINISHED" if result.status == SUCCEEDED else "FAILED")
    return str(parent_id)


def _numeric(values: Mapping[str, Any]) -> dict[str, float]:
    # MLflow metrics are numbers; other metric values stay in the run's metrics.json.
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if math.isfinite(float(value)):
            out[key] = float(value)
    return out


def _param_text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)
