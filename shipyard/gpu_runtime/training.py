"""Training on Ray: local Ray by default, a cluster by ``ray.address``; CPU/GPU requests checked up front."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import EngineUnavailable, InvalidInput, OperationFailed

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.gpu_runtime.tuning import TuneReport
    from shipyard.workspace import Workspace

# Ray puts unix sockets under its temp dir; their paths must stay under the 107-byte AF_UNIX limit.
_MAX_RAY_DIR = 48
OBJECT_STORE_BYTES = 150 * 1024 * 1024
LOCAL_CPUS = 2


@dataclass(frozen=True)
class ResourceRequest:
    """What one training task or trial asks Ray for."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0


@dataclass(frozen=True)
class TrainingResult:
    """One training function run as Ray work, logged as an MLflow run."""

    run_id: str
    name: str
    metrics: dict[str, float]
    config: dict[str, Any]
    resources: ResourceRequest
    duration_s: float
    ray_address: str
    extra: dict[str, Any] = field(default_factory=dict)


def check_resources(request: ResourceRequest, available: Mapping[str, float]) -> ResourceRequest:
    """``request`` if the Ray cluster can ever satisfy it; otherwise ``InvalidInput`` saying what it has."""
    if request.num_cpus < 0 or request.num_gpus < 0:
        raise InvalidInput(f"resource request {request} is negative; ask for >= 0 CPUs and GPUs")
    cpus, gpus = float(available.get("CPU", 0)), float(available.get("GPU", 0))
    if request.num_gpus > 0 and gpus < request.num_gpus:
        raise InvalidInput(
            f"--gpus {request.num_gpus:g} requested but the Ray cluster has {gpus:g} GPU(s); drop the GPU "
            "request or set [ray] address to a cluster with GPUs"
        )
    if request.num_cpus > cpus:
        raise InvalidInput(
            f"--cpus {request.num_cpus:g} requested but the Ray cluster has {cpus:g} CPU(s); ask for fewer"
        )
    return request


def local_init_kwargs(ray_dir: Path, gpus: int) -> dict[str, Any]:
    """Arguments for a private local Ray: 2 CPUs, the GPUs this machine has, a small object store."""
    return {
        "num_cpus": LOCAL_CPUS,
        "num_gpus": gpus,
        "object_store_memory": OBJECT_STORE_BYTES,
        "include_dashboard": False,
        "ignore_reinit_error": True,
        "log_to_driver": False,
        "logging_level": logging.WARNING,
        "_temp_dir": str(ray_dir),
    }


def ray_temp_dir(ws_state_dir: Path) -> Path:
    """Ray's session/log folder: inside the workspace when that path is short enough for Ray's sockets."""
    preferred = ws_state_dir / "ray"
    if len(str(preferred.resolve())) <= _MAX_RAY_DIR:
        return preferred
    digest = hashlib.sha256(str(ws_state_dir.resolve()).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"shipyard-ray-{digest}"


def _connect_client(address: str, attempts: int = 3) -> None:
    """``ray.init`` through Ray Client, retrying when the cluster's per-client server fails to start.

    Ray's proxier forks that server while gRPC threads run; now and then the child dies at once ("Starting Ray
    client server failed"). A new connection gets a new server, so a short retry is what a user would do by hand.
    """
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
            return
        except (ConnectionError, RuntimeError) as exc:  # Ray Client: ConnectionAbortedError from the server
            if "client server failed" not in str(exc) or attempt == attempts:
                raise
            time.sleep(1.0 * attempt)


class TrainingService:
    """Runs training functions and hyper-parameter searches as Ray work, logged to the workspace's MLflow."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.address = ws.config.ray.address
        self._started_ray = False
        self._lock = threading.Lock()

    # -- Ray lifecycle --------------------------------------------------------------------------------
    def ensure_ray(self) -> dict[str, float]:
        """Connect to (or start) Ray once and return its resources (``{"CPU": 2.0, ...}``)."""
        import ray

        with self._lock:
            if not ray.is_initialized():
                try:
                    if self.address:
                        if not self.address.startswith("ray://"):
                            raise InvalidInput(
                                f"[ray] address {self.address!r} must look like ray://host:10001 (or be empty "
                                "for local Ray)"
                            )
                        _connect_client(self.address)
                    else:
                        from shipyard.gpu_runtime.devices import gpu_count

                        ray_dir = ray_temp_dir(self.ws.state_dir)
                        ray_dir.mkdir(parents=True, exist_ok=True)
                        ray.init(**local_init_kwargs(ray_dir, gpu_count()))
                except (ConnectionError, RuntimeError, ValueError) as exc:
                    where = self.address or "local Ray"
                    raise EngineUnavailable(f"Ray ({where}) could not be started or reached: {exc}") from exc
                self._started_ray = True
            return {k: float(v) for k, v in ray.cluster_resources().items()}

    @property
    def ray_address(self) -> str:
        """Where the work runs: the configured ``ray://`` address, or "local"."""
        return self.address or "local"

    def close(self) -> None:
        """Shut down the Ray this service started (a Ray the caller started is left alone)."""
        with self._lock:
            if self._started_ray:
                import ray

                ray.shutdown()
                self._started_ray = False

    # -- one run --------------------------------------------------------------------------------------
    def run(
        self,
        fn: Callable[..., Mapping[str, float]],
        config: Mapping[str, Any] | None = None,
        *,
        data: Any = None,
        name: str = "train",
        resources: ResourceRequest | None = None,
    ) -> TrainingResult:
        """Run ``fn(config[, data])`` as a Ray task; the metrics it returns are logged as an MLflow run."""
        import ray

        if not callable(fn):
            raise InvalidInput(f"training function {fn!r} is not callable")
        request = check_resources(resources or ResourceRequest(), self.ensure_ray())
        cfg = dict(config or {})
        ship_by_value(fn)
        remote = ray.remote(num_cpus=request.num_cpus, num_gpus=request.num_gpus, max_retries=0)(_call)
        started = time.perf_counter()
        try:
            metrics = ray.get(remote.remote(fn, cfg, data))
        except ray.exceptions.RayTaskError as exc:
            raise OperationFailed(
                f"training function {getattr(fn, '__name__', fn)!r} failed on Ray: {exc.cause!r}"
            ) from exc
        duration = time.perf_counter() - started
        from shipyard.gpu_runtime.tuning import clean_metrics, log_run

        clean = clean_metrics(metrics, f"training function {getattr(fn, '__name__', fn)!r}")
        run_id = log_run(
            self.ws, name, cfg, clean, {"shipyard.kind": "train", "shipyard.ray": self.ray_address}
        )
        return TrainingResult(run_id, name, clean, cfg, request, round(duration, 4), self.ray_address)

    # -- search ---------------------------------------------------------------------------------------
    def tune(
        self,
        fn: Callable[..., Mapping[str, float]],
        space: Mapping[str, Any],
        *,
        metric: str,
        mode: str = "max",
        num_samples: int = 10,
        data: Any = None,
        seeds: list[dict[str, Any]] | None = None,
        name: str = "tune",
        resources: ResourceRequest | None = None,
        random_state: int | None = 0,
    ) -> TuneReport:
        """Ray Tune search of ``fn`` over ``space``; trials are MLflow child runs of one parent run."""
        from shipyard.gpu_runtime.tuning import run_search

        request = check_resources(resources or ResourceRequest(), self.ensure_ray())
        return run_search(
            self,
            fn,
            space,
            metric=metric,
            mode=mode,
            num_samples=num_samples,
            data=data,
            seeds=seeds or [],
            name=name,
            resources=request,
            random_state=random_state,
        )

    def tune_model(
        self,
        frame: pd.DataFrame,
        target: str,
        *,
        trainer: str = "random_forest",
        space: Mapping[str, Any] | None = None,
        num_samples: int = 10,
        seed_from_history: bool = True,
        max_seeds: int = 3,
        name: str | None = None,
        resources: ResourceRequest | None = None,
        random_state: int | None = 0,
    ) -> TuneReport:
        """Tune a built-in scikit-learn trainer on ``frame``, first trying the best configs of similar past searches."""
        from shipyard.gpu_runtime.tuning import tune_builtin

        return tune_builtin(
            self,
            frame,
            target,
            trainer=trainer,
            space=space,
            num_samples=num_samples,
            seed_from_history=seed_from_history,
            max_seeds=max_seeds,
            name=name or f"tune-{trainer}",
            resources=resources or ResourceRequest(),
            random_state=random_state,
        )


def ship_by_value(fn: Any) -> None:
    """Pickle ``fn``'s module by value when it is the user's own file, so Ray workers need not import it."""
    import sys

    from ray import cloudpickle

    target = getattr(fn, "func", fn)  # functools.partial
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    path = str(getattr(module, "__file__", "") or "")
    if module is None or module.__name__ == "__main__" or module.__name__.split(".")[0] == "shipyard":
        return
    if not path or "site-packages" in path or "dist-packages" in path or path.startswith(sys.base_prefix):
        return
    cloudpickle.register_pickle_by_value(module)


def _call(fn: Callable[..., Mapping[str, float]], config: dict[str, Any], data: Any) -> Mapping[str, float]:
    return fn(config) if data is None else fn(config, data)
