"""Run a promoted pipeline in-process: ``dagster.materialize`` over the assets of its ``definitions.py``.

Each run gets ``WS/.shipyard/runs/RUN_ID/`` (output notebooks, passed variables, per-step results) and a
``PipelineRun`` row, written as ``running`` before the first step and updated when the run ends.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from shipyard.bridge.codegen import ASSETS_NAME, dagster_group
from shipyard.bridge.datapassing import METRICS_FILE
from shipyard.bridge.execution import (
    TAG_CACHE,
    TAG_PARAMS,
    TAG_RAY,
    TAG_RUN_DIR,
    TAG_RUN_ID,
    TAG_WORKSPACE,
    ProgressHook,
    StepOutcome,
    is_cached,
    prestart_kernel,
    progress_hook,
    read_outcome,
)
from shipyard.bridge.models import FAILED, RUNNING, SKIPPED, STARTED, SUCCEEDED, RunResult, StepResult
from shipyard.bridge.paths import DEFINITIONS_FILE, RUN_FILE, read_spec
from shipyard.errors import InvalidInput, OperationFailed

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

EVENTS_FILE = "dagster_events.jsonl"
CACHE_DIR = "pipeline_cache"  # under WS/.shipyard/: per pipeline, per step, the last good run's key + folder
Progress = Callable[[StepResult], None]
# Dagster's console logger would print every step failure with a stack trace; the run result carries it.
_QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline(
    ws: Workspace,
    pipeline_dir: Path,
    params: dict[str, Any] | None,
    *,
    force: bool = False,
    strict_resources: bool = False,
    progress: Progress | None = None,
    ray: bool | None = None,
) -> RunResult:
    """Materialize every step of the pipeline in ``pipeline_dir``; a failed step fails the run (not raised).

    With ``ray`` (default: the notebook's ``metadata.shipyard.ray``) each step runs as a Ray task holding its
    ``limit:`` resources; a request the cluster cannot meet fails before any step runs.
    """
    spec = read_spec(pipeline_dir)
    values = coerce_parameters(spec["name"], spec.get("parameters", {}), params or {})
    from shipyard.bridge.resources import check_resources, local_capacity

    resources = [(s["name"], s.get("resources") or {}) for s in spec["steps"]]
    use_ray = bool(spec.get("ray", False)) if ray is None else ray
    ray_requests = _ray_requests(ws, resources) if use_ray else {}
    warnings = (
        check_resources(resources, local_capacity(), strict=strict_resources)
        if any(r for _, r in resources) and not use_ray
        else []
    )
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(4)
    run_dir = ws.path(ws.config.pipelines.runs_dir) / run_id
    run_dir.mkdir(parents=True)
    (run_dir / RUN_FILE).write_text(
        json.dumps({"pipeline": spec["name"], "run_id": run_id, "parameters": values})
    )
    _record(ws, run_id, spec["name"], RUNNING, run_dir, values, [], finished=False)
    status, steps = FAILED, [StepResult(s["name"], SKIPPED, 0.0, None, None) for s in spec["steps"]]
    cache = {
        "dir": str(ws.state_dir / CACHE_DIR / spec["name"]),
        "keys": cache_keys(spec, values),
        "force": force,
    }
    try:
        module = _load_definitions(pipeline_dir, run_id)
        import dagster as dg

        with progress_hook(run_id, _adapt(progress)):
            first = spec["steps"][0]["name"] if spec["steps"] else None
            if first is not None and not use_ray and not is_cached(cache, first):
                # The first step's kernel boots while Dagster builds the job (later ones: execute_step).
                kernel = spec.get("kernel") or ws.config.pipelines.kernel
                prestart_kernel(ws.root, pipeline_dir, first, run_id, kernel)
            result = dg.materialize(
                getattr(module, ASSETS_NAME),
                run_config=_QUIET,
                raise_on_error=False,
                tags={
                    TAG_RUN_ID: run_id,
                    TAG_RUN_DIR: str(run_dir),
                    TAG_WORKSPACE: str(ws.root),
                    TAG_PARAMS: json.dumps(values),
                    TAG_CACHE: json.dumps(cache),
                    **({TAG_RAY: json.dumps(ray_requests)} if use_ray else {}),
                },
            )
        _write_event_log(run_dir, result.all_events)
        failures = {
            e.step_key: _failure_message(e)
            for e in result.get_step_failure_events()
            if e.step_key is not None
        }
        group = dagster_group(spec["name"])
        steps = [
            _step_result(run_dir, s["name"], failures.get(f"{group}__{s['name']}")) for s in spec["steps"]
        ]
        ok = result.success and all(s.status == SUCCEEDED for s in steps)
        status = SUCCEEDED if ok else FAILED
    finally:
        _record(ws, run_id, spec["name"], status, run_dir, values, steps, finished=True)
    if progress is not None:
        for step in steps:
            if step.status == SKIPPED:
                progress(step)
    run = RunResult(
        run_id=run_id,
        status=status,
        steps=steps,
        pipeline=spec["name"],
        run_dir=str(run_dir),
        parameters=values,
        metrics=read_metrics(run_dir),
        warnings=warnings,
    )
    _track(ws, spec, run)
    return run


def _ray_requests(ws: Workspace, resources: list[tuple[str, dict[str, str]]]) -> dict[str, dict[str, Any]]:
    """Per step, its ``ray.remote`` options, after checking the (started or connected) Ray can meet them."""
    from shipyard.bridge.raysteps import check_ray_capacity, ray_request

    requests = {step: ray_request(r) for step, r in resources}
    available = ws.training.ensure_ray()
    check_ray_capacity(requests.items(), available, ws.training.ray_address)
    return requests


def cache_keys(spec: dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Per step: sha256 of its code, the run's parameters and its upstream steps' keys (inputs follow from them)."""
    keys: dict[str, str] = {}
    params = json.dumps(values, sort_keys=True)
    for step in spec["steps"]:  # notebook order: upstream steps come first
        upstream = [keys[a] for a in step.get("after", []) if a in keys]
        payload = json.dumps([step["name"], step.get("code_sha256", ""), params, upstream])
        keys[step["name"]] = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return keys


def _track(ws: Workspace, spec: dict[str, Any], run: RunResult) -> None:
    from shipyard.bridge.tracking import log_pipeline_run
    from shipyard.errors import ShipyardError

    per_step = {
        s.name: json.loads(p.read_text())
        for s in run.steps
        if (p := Path(run.run_dir) / s.name / METRICS_FILE).is_file()
    }
    try:
        run.mlflow_run_id = log_pipeline_run(ws, spec, run, per_step)
    except ShipyardError as exc:
        # The pipeline ran; a tracking outage must not turn its result into an error. Say so instead.
        run.warnings.append(f"run not logged to MLflow: {exc.message}")


def _adapt(progress: Progress | None) -> ProgressHook | None:
    if progress is None:
        return None

    def hook(step: str, status: str, outcome: StepOutcome | None) -> None:
        if outcome is None:
            progress(StepResult(step, STARTED, 0.0, None, None))
        else:
            progress(
                StepResult(
                    step, status, outcome.duration_s, outcome.output_notebook, outcome.error, outcome.cached
                )
            )

    return hook


def coerce_parameters(pipeline: str, declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Check overrides against the notebook's parameters; CLI strings become the default's type."""
    values = dict(declared)
    for key, value in given.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidInput(
                f"parameter name {key!r} is not a Python identifier; use a name from the parameters cell"
            )
        if key not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InvalidInput(
                f"parameter '{key}' is not a parameter of pipeline '{pipeline}' (parameters: {known})"
            )
        values[key] = _coerce(key, declared[key], value)
    return values


def _coerce(key: str, default: Any, value: Any) -> Any:
    if isinstance(value, str) and not isinstance(default, str):
        text = value.strip()
        if isinstance(default, bool) and text.lower() in ("true", "false", "yes", "no", "1", "0"):
            return text.lower() in ("true", "yes", "1")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                if default is not None:
                    raise InvalidInput(
                        f"parameter '{key}': {text!r} is not a {type(default).__name__} like the default {default!r}"
                    ) from None
    if isinstance(default, bool) != isinstance(value, bool) and default is not None:
        raise InvalidInput(f"parameter '{key}': {value!r} is not a bool like the default {default!r}")
    numbers = (int, float)
    if isinstance(default, numbers) and not isinstance(value, numbers):
        raise InvalidInput(f"parameter '{key}': {value!r} is not a number like the default {default!r}")
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, float):
        if not value.is_integer():
            raise InvalidInput(f"parameter '{key}': {value!r} is not an integer like the default {default!r}")
        value = int(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"parameter '{key}': {value!r} is not JSON-compatible ({exc})") from exc
    return value


def read_metrics(run_dir: Path) -> dict[str, Any]:
    """Metric values the steps of the run in ``run_dir`` recorded (``metrics`` cells)."""
    values: dict[str, Any] = {}
    for path in sorted(run_dir.glob(f"*/{METRICS_FILE}")):
        values.update(json.loads(path.read_text()))
    return values


def _step_result(run_dir: Path, step: str, dagster_error: str | None) -> StepResult:
    outcome = read_outcome(run_dir, step)
    if outcome is None:
        if dagster_error is not None:
            return StepResult(step, FAILED, 0.0, None, dagster_error)
        return StepResult(step, SKIPPED, 0.0, None, "not run: an upstream step failed")
    status = outcome.status if outcome.status in (SUCCEEDED, FAILED) else FAILED
    error = outcome.error or (dagster_error if status == FAILED else None)
    if status == FAILED and error is None:
        error = f"step '{step}' stopped before it finished"
    return StepResult(step, status, outcome.duration_s, outcome.output_notebook, error, outcome.cached)


def _write_event_log(run_dir: Path, events: Sequence[Any]) -> None:
    # Dagster's in-process instance is ephemeral; this keeps its event log with the run for debugging.
    with (run_dir / EVENTS_FILE).open("w") as fh:
        for e in events:
            fh.write(
                json.dumps({"event": e.event_type_value, "step": e.step_key, "message": e.message}) + "\n"
            )


def _failure_message(event: Any) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return str(data.user_failure_data.description)
    return data.error.message.strip() if data.error is not None else "failed"


def _load_definitions(pipeline_dir: Path, run_id: str) -> ModuleType:
    path = pipeline_dir / DEFINITIONS_FILE
    name = f"shipyard_pipeline_{dagster_group(pipeline_dir.name)}_{run_id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise OperationFailed(f"cannot load {path}; promote the notebook again")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - any error in (possibly hand-edited) generated code
        raise OperationFailed(
            f"{path} failed to load ({type(exc).__name__}: {exc}); promote the notebook again"
        ) from exc
    return module


def _record(
    ws: Workspace,
    run_id: str,
    pipeline: str,
    status: str,
    run_dir: Path,
    params: dict[str, Any],
    steps: list[StepResult],
    *,
    finished: bool,
) -> None:
    from dataclasses import asdict

    from shipyard.store.models import PipelineRun

    with ws.store.session() as session:
        row = session.get(PipelineRun, run_id)
        if row is None:
            row = PipelineRun(id=run_id, project=ws.project, pipeline=pipeline, run_dir=str(run_dir))
            session.add(row)
        row.status = status
        row.parameters = params
        row.steps = [asdict(s) for s in steps]
        if finished:
            row.finished_at = datetime.now(UTC)
