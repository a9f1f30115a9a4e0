"""Ray Tune searches logged to MLflow: one parent run per search, one child run per trial.

The driver logs to MLflow after the trials return, so workers on a ``ray://`` cluster never need to reach
the workspace's (often SQLite, local) tracking store.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.search_space import to_tune, validate_space
from shipyard.gpu_runtime.seeding import DatasetProfile, PastExperiment, SeedTrial

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.gpu_runtime.training import ResourceRequest, TrainingService
    from shipyard.workspace import Workspace

TAG_KIND = "shipyard.kind"
TAG_TRAINER = "shipyard.trainer"
TAG_PROFILE = "shipyard.dataset_profile"
TAG_BEST_CONFIG = "shipyard.best_config"
TAG_PARENT = "mlflow.parentRunId"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class TrialResult:
    index: int
    config: dict[str, Any]
    metrics: dict[str, float]
    run_id: str
    seeded: bool
    error: str = ""


@dataclass(frozen=True)
class TuneReport:
    """A finished search: the best trial, every trial in launch order, and the seeds with their reasons."""

    name: str
    parent_run_id: str
    metric: str
    mode: str
    best_config: dict[str, Any]
    best_score: float
    trials: list[TrialResult]
    seeds: list[SeedTrial] = field(default_factory=list)
    profile: DatasetProfile | None = None
    duration_s: float = 0.0

    def trials_to_within(self, fraction: float, target: float | None = None) -> int | None:
        """1-based index of the first trial within ``fraction`` of ``target`` (default: this search's best)."""
        goal = self.best_score if target is None else target
        for t in self.trials:
            value = t.metrics.get(self.metric)
            if value is None:
                continue
            ok = (
                value >= goal - abs(goal) * fraction
                if self.mode == "max"
                else value <= goal + abs(goal) * fraction
            )
            if ok:
                return t.index
        return None


def clean_metrics(metrics: object, what: str) -> dict[str, float]:
    """Finite float metrics from whatever a training function returned, or ``OperationFailed`` saying why."""
    if not isinstance(metrics, Mapping):
        raise OperationFailed(f"{what} returned {type(metrics).__name__}; return a dict of metric -> number")
    out: dict[str, float] = {}
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            raise OperationFailed(f"{what} returned metric {k!r}={v!r}; metrics must be finite numbers")
        out[str(k)] = float(v)
    return out


def log_run(
    ws: Workspace, name: str, params: Mapping[str, Any], metrics: Mapping[str, float], tags: Mapping[str, str]
) -> str:
    """One finished MLflow run in the project's experiment; returns its id."""
    from mlflow.entities import Metric, Param

    client, exp = ws.registry.client, ws.registry.experiment_id
    run = client.create_run(exp, run_name=name, tags=dict(tags))
    now = int(datetime.now(UTC).timestamp() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()],
        params=[Param(str(k), str(v)[:500]) for k, v in params.items()],
    )
    client.set_terminated(run.info.run_id, status="FINISHED")
    return str(run.info.run_id)


def run_search(
    svc: TrainingService,
    fn: Callable[..., Mapping[str, float]],
    space: Mapping[str, Any],
    *,
    metric: str,
    mode: str,
    num_samples: int,
    data: Any,
    seeds: list[dict[str, Any]],
    name: str,
    resources: ResourceRequest,
    random_state: int | None,
    seed_trials: list[SeedTrial] | None = None,
    extra_tags: Mapping[str, str] | None = None,
    profile: DatasetProfile | None = None,
) -> TuneReport:
    """Run the Tune search (seed configs first), then log parent + child runs to MLflow."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from shipyard.gpu_runtime.training import ship_by_value

    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(f"search name {name!r} is not valid: use 1-100 letters, digits, '_', '-' or '.'")
    if mode not in ("max", "min"):
        raise InvalidInput(f"mode {mode!r} must be 'max' or 'min'")
    if not isinstance(metric, str) or not metric:
        raise InvalidInput("metric must name one of the metrics the training function returns")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or not 1 <= num_samples <= 1000:
        raise InvalidInput(f"num_samples {num_samples!r} must be an integer from 1 to 1000")
    if not callable(fn):
        raise InvalidInput(f"training function {fn!r} is not callable")
    # Declarative specs ({"uniform": [0, 1]}) are validated; Ray Tune domains pass through as given.
    declarative = isinstance(space, Mapping) and all(isinstance(v, Mapping) for v in space.values())
    param_space = to_tune(validate_space(space)) if declarative else dict(space)
    if not param_space:
        raise InvalidInput("search space is empty: give at least one parameter")
    seeds = seeds[:num_samples]
    ship_by_value(fn)
    # Tune's newer console output ignores verbose=0 and prints tables on stdout, which would break `--json`.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    trainable = tune.with_resources(
        tune.with_parameters(_trial, fn=fn, data=data),
        {"cpu": resources.num_cpus, "gpu": resources.num_gpus},
    )
    storage = (svc.ws.state_dir / "ray" / "tune").resolve()
    started = time.perf_counter()
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=metric,
            mode=mode,
            num_samples=num_samples,
            search_alg=BasicVariantGenerator(points_to_evaluate=seeds or None, random_state=random_state),
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=f"{name}-{int(time.time() * 1000)}", storage_path=str(storage), verbose=0
        ),
    )
    grid = tuner.fit()
    duration = time.perf_counter() - started
    results: list[Any] = [grid[i] for i in range(len(grid))]
    rows = sorted(((_trial_order(r.metrics or {}, i), r) for i, r in enumerate(results)), key=lambda t: t[0])
    parent_tags = {
        TAG_KIND: "tune",
        "shipyard.metric": metric,
        "shipyard.mode": mode,
        "shipyard.ray": svc.ray_address,
        **(extra_tags or {}),
    }
    if profile is not None:
        parent_tags[TAG_PROFILE] = profile.to_json()
    client, exp = svc.ws.registry.client, svc.ws.registry.experiment_id
    parent = client.create_run(exp, run_name=name, tags=parent_tags).info.run_id
    trials: list[TrialResult] = []
    try:
        for index, (_, r) in enumerate(rows, start=1):
            config = {k: _plain(v) for k, v in (r.config or {}).items()}
            error = repr(r.error) if r.error is not None else ""
            reported = {k: v for k, v in (r.metrics or {}).items() if k in _user_keys(r.metrics or {})}
            metrics = {
                k: float(v)
                for k, v in reported.items()
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            }
            seeded = index <= len(seeds)
            run_id = log_run(
                svc.ws,
                f"{name}-trial-{index}",
                config,
                metrics,
                {
                    TAG_PARENT: parent,
                    TAG_KIND: "trial",
                    "shipyard.seeded": str(seeded).lower(),
                    "shipyard.trial_error": error[:500],
                },
            )
            trials.append(TrialResult(index, config, metrics, run_id, seeded, error))
        scored = [t for t in trials if metric in t.metrics]
        if not scored:
            errors = "; ".join(t.error for t in trials if t.error)[:1000]
            raise OperationFailed(
                f"no trial of search {name!r} reported metric {metric!r}: {errors or 'check the metric name'}"
            )
        pick = max if mode == "max" else min
        best = pick(scored, key=lambda t: t.metrics[metric])
        client.set_tag(parent, TAG_BEST_CONFIG, json.dumps(best.config, sort_keys=True))
        client.log_metric(parent, metric, best.metrics[metric])
        client.log_metric(parent, "trials", float(len(trials)))
    except BaseException:
        client.set_terminated(parent, status="FAILED")
        raise
    client.set_terminated(parent, status="FINISHED")
    return TuneReport(
        name=name,
        parent_run_id=parent,
        metric=metric,
        mode=mode,
        best_config=best.config,
        best_score=best.metrics[metric],
        trials=trials,
        seeds=seed_trials or [],
        profile=profile,
        duration_s=round(duration, 3),
    )


def tune_builtin(
    svc: TrainingService,
    frame: pd.DataFrame,
    target: str,
    *,
    trainer: str,
    space: Mapping[str, Any] | None,
    num_samples: int,
    seed_from_history: bool,
    max_seeds: int,
    name: str,
    resources: ResourceRequest,
    random_state: int | None,
) -> TuneReport:
    """Profile ``frame``, propose seeds from similar past searches of ``trainer``, run the search."""
    from shipyard.gpu_runtime.seeding import profile_frame, propose_seeds
    from shipyard.gpu_runtime.trainers import DEFAULT_SPACES, fit_and_score, validate_trainer

    validate_trainer(trainer)
    profile = profile_frame(frame, target)
    checked = validate_space(space if space is not None else DEFAULT_SPACES[trainer])
    seeds = (
        propose_seeds(profile, load_history(svc.ws, trainer), checked, k=max_seeds)
        if seed_from_history
        else []
    )
    fn = partial(fit_and_score, trainer=trainer, target=target, task=profile.task)
    return run_search(
        svc,
        fn,
        checked,
        metric="score",
        mode="max",
        num_samples=num_samples,
        data=frame,
        seeds=[s.config for s in seeds],
        name=name,
        resources=resources,
        random_state=random_state,
        seed_trials=seeds,
        extra_tags={TAG_TRAINER: trainer, "shipyard.target": target},
        profile=profile,
    )


def load_history(ws: Workspace, trainer: str) -> list[PastExperiment]:
    """Finished searches of ``trainer`` in the project's MLflow experiment that recorded a profile."""
    client, exp = ws.registry.client, ws.registry.experiment_id
    runs = client.search_runs(
        [exp],
        filter_string=f"tags.`{TAG_KIND}` = 'tune' and tags.`{TAG_TRAINER}` = '{trainer}' "
        "and attributes.status = 'FINISHED'",
        max_results=500,
    )
    out = []
    for run in runs:
        tags = run.data.tags
        profile = DatasetProfile.from_json(tags.get(TAG_PROFILE, ""))
        try:
            config = json.loads(tags.get(TAG_BEST_CONFIG, ""))
        except ValueError:
            continue
        score = run.data.metrics.get(tags.get("shipyard.metric", "score"))
        if profile is None or not isinstance(config, dict) or score is None:
            continue
        out.append(PastExperiment(run.info.run_id, run.info.run_name or "", profile, config, float(score)))
    return out


def _trial(config: dict[str, Any], fn: Callable[..., Mapping[str, float]], data: Any = None) -> None:
    from ray import tune

    metrics = fn(config) if data is None else fn(config, data)
    tune.report(dict(clean_metrics(metrics, f"training function {getattr(fn, '__name__', fn)!r}")))


# Keys Ray Tune adds to every result; the rest are what the training function reported.
_TUNE_KEYS = {
    "timestamp",
    "checkpoint_dir_name",
    "done",
    "training_iteration",
    "trial_id",
    "date",
    "time_this_iter_s",
    "time_total_s",
    "pid",
    "hostname",
    "node_ip",
    "config",
    "time_since_restore",
    "iterations_since_restore",
    "experiment_tag",
    "should_checkpoint",
}


def _user_keys(metrics: Mapping[str, Any]) -> set[str]:
    return {k for k in metrics if k not in _TUNE_KEYS}


def _trial_order(metrics: Mapping[str, Any], fallback: int) -> tuple[int, int]:
    # Trial ids end in a launch counter ("a1b2c_00003"); a failed trial may lack it, so keep the grid order.
    suffix = str(metrics.get("trial_id", "")).rpartition("_")[2]
    return (int(suffix), fallback) if suffix.isdigit() else (10**9, fallback)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and callable(value.item) else value
