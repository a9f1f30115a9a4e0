"""Steps as Ray tasks: a step's ``limit:`` tags become Ray resource requests that Ray enforces.

Ray would leave a task that asks for more than the cluster has pending forever, so every step's request is
checked against the cluster before the first step runs. The task body is the same papermill execution as a
local run (``run_step_notebook``): each step still gets its own kernel, started inside the Ray worker, which
inherits the worker's ``CUDA_VISIBLE_DEVICES`` and ``OMP_NUM_THREADS`` limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shipyard.bridge.resources import GPU, parse_quantity
from shipyard.errors import OperationFailed

DEFAULT_CPUS = 1.0  # Ray's own default for a task


def ray_request(resources: Mapping[str, str]) -> dict[str, Any]:
    """``ray.remote`` options for a step's resources: ``cpu`` -> num_cpus, GPUs -> num_gpus, memory in bytes."""
    request: dict[str, Any] = {"num_cpus": DEFAULT_CPUS, "num_gpus": 0.0}
    custom: dict[str, float] = {}
    for resource, quantity in resources.items():
        value = parse_quantity(resource, quantity)
        if resource == "cpu":
            request["num_cpus"] = value
        elif resource == GPU:
            request["num_gpus"] = value
        elif resource == "memory":
            request["memory"] = int(value)
        else:
            custom[resource] = value
    if custom:
        request["resources"] = custom
    return request


def check_ray_capacity(
    requests: Iterable[tuple[str, Mapping[str, Any]]], available: Mapping[str, float], where: str
) -> None:
    """Raise ``OperationFailed`` for the first step the Ray cluster can never schedule (instead of hanging)."""
    for step, request in requests:
        wanted = {
            "CPU": float(request.get("num_cpus", 0)),
            "GPU": float(request.get("num_gpus", 0)),
            "memory": float(request.get("memory", 0)),
            **request.get("resources", {}),
        }
        for resource, amount in wanted.items():
            have = float(available.get(resource, 0))
            if amount > have:
                shown = f"{amount / 2**30:.1f} GiB" if resource == "memory" else f"{amount:g}"
                has = f"{have / 2**30:.1f} GiB" if resource == "memory" else f"{have:g}"
                raise OperationFailed(
                    f"step '{step}' asks Ray for {resource} {shown} but the Ray cluster ({where}) has {has}; "
                    "lower the step's limit: tag, set [ray] address to a larger cluster, or run without --ray"
                )


def run_on_ray(request: Mapping[str, Any], **step: Any) -> Any:
    """``run_step_notebook(**step)`` as a Ray task with ``request``; a crashed worker becomes a failed step."""
    import ray

    from shipyard.bridge.execution import StepOutcome, _now, run_step_notebook

    task: Any = run_step_notebook  # Ray's stubs only type zero-argument functions for keyword-only ones
    remote = ray.remote(max_retries=0, **request)(task)
    started = _now()
    try:
        return ray.get(remote.remote(**step))
    except (ray.exceptions.RayError, OSError) as exc:
        # run_step_notebook returns notebook failures; reaching here means the worker itself died.
        from shipyard.bridge.execution import _write_result
        from shipyard.bridge.paths import OUTPUT_NOTEBOOK, step_run_dir

        name = step["step"]
        outcome = StepOutcome(
            status="failed",
            duration_s=0.0,
            output_notebook=str(step_run_dir(step["run_dir"], name) / OUTPUT_NOTEBOOK),
            error=f"step '{name}' could not run on Ray: {type(exc).__name__}: {exc}",
            started_at=started,
            finished_at=_now(),
        )
        folder = step_run_dir(step["run_dir"], name)
        folder.mkdir(parents=True, exist_ok=True)
        _write_result(folder, outcome)
        return outcome
