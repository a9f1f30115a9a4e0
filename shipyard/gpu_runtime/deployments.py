"""Deployments: a registered model exported to ONNX, parity-checked, served on Triton, fed by online features."""

from __future__ import annotations

import builtins
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import Conflict, InvalidInput, NotFound, OperationFailed, ShipyardError
from shipyard.gpu_runtime.deployment_history import (
    PENDING_FILE,
    clear_pending,
    push_version,
    read_history,
    read_pending,
    rollback_target,
    write_history,
    write_pending,
)
from shipyard.gpu_runtime.deployment_info import (
    DeploymentInfo,
    aligned_feature_refs,
    to_info,
    validate_deployment_name,
)
from shipyard.gpu_runtime.deployment_stages import Progress, Stages
from shipyard.gpu_runtime.deployment_stages import stage as _stage
from shipyard.gpu_runtime.onnx_export import INPUT_NAME, OnnxModel, export_classifier
from shipyard.gpu_runtime.predictions import PredictionResult, predict_rows
from shipyard.gpu_runtime.serving_backend import runtime_of_model
from shipyard.gpu_runtime.triton_repository import ServingOptions, remove_leftovers, remove_model, write_model
from shipyard.gpu_runtime.triton_supervisor import ModelRetired, TritonSupervisor

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from shipyard.gpu_runtime.triton_client import TritonClient
    from shipyard.gpu_runtime.triton_server import TritonServer
    from shipyard.registry.models import ModelVersionInfo
    from shipyard.workspace import Workspace

_SMOKE_ROWS = 8
_ROW_TTL_S = 1.0


class DeploymentService:
    """Deploys registered models on a supervised (or external) Triton and predicts through them."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.cfg = ws.config.serving
        self.repository = ws.path(self.cfg.model_repository)
        self._supervisor = TritonSupervisor(self.cfg, self.repository, ws.state_dir / "triton")
        self._deploy_lock = threading.Lock()
        self._recent: dict[str, tuple[float, DeploymentInfo]] = {}

    # -- Triton ---------------------------------------------------------------------------------------
    @property
    def triton_url(self) -> str | None:
        """``host:port`` of the Triton HTTP endpoint in use (None until a local one has started)."""
        return self._supervisor.url

    @property
    def triton_server(self) -> TritonServer | None:
        """The local Triton this service supervises, if it started one."""
        return self._supervisor.server

    def _triton(self) -> TritonClient:
        return self._supervisor.client()

    def _serving_options(self) -> ServingOptions:
        from shipyard.gpu_runtime.serving_backend import choose_serving_options

        return choose_serving_options(self.cfg, self._supervisor.has_onnxruntime)

    def _ensure_loaded(self, triton_model: str) -> TritonClient:
        return self._supervisor.ensure_loaded(triton_model)

    def _serving(self, triton_model: str) -> AbstractContextManager[TritonClient]:
        # Predictions do not wait for a Triton restart: 503 + Retry-After while it comes back.
        return self._supervisor.serving(triton_model, fail_fast=True)

    def ensure_serving(self) -> None:
        """Start Triton and load every deployment of the project (rebuilding missing model files)."""
        client = self._triton()
        failures = []
        for dep in self.list():
            try:
                self._recover(dep.name)
                if (self.repository / dep.triton_model).is_dir():
                    self._ensure_loaded(dep.triton_model)
                else:
                    info = self.ws.registry.resolve(dep.model_name, dep.model_version)
                    self._publish(client, dep.triton_model, self._export(info)[1], self._serving_options())
            except (OperationFailed, NotFound, InvalidInput) as exc:
                failures.append(f"{dep.name}: {exc.message}")
        if failures:
            raise OperationFailed("some deployments could not be served: " + "; ".join(failures))

    # -- deploy ---------------------------------------------------------------------------------------
    def deploy(
        self, model: str, ref: str = "champion", name: str | None = None, progress: Progress | None = None
    ) -> DeploymentInfo:
        """Resolve, verify, export to ONNX, check parity, write the Triton repository, serve, smoke-test, record.

        ``progress(stage, state, seconds)`` is called as each stage starts ("start") and ends ("done" or
        "failed"), so a surface can show the deploy step by step.
        """
        from shipyard.gpu_runtime.parity import check_parity

        name = validate_deployment_name(name or model)
        stages = Stages(progress)
        with self._deploy_lock:
            self._recover(name)
            with _stage(stages, "resolve"):
                info = self.ws.registry.resolve(model, ref)
                feature_refs = aligned_feature_refs(info)
                options = self._serving_options()
            with _stage(stages, "load_and_export"):
                sk_model, exported = self._export(info)
            with _stage(stages, "parity"):
                reference = self.ws.registry.load_reference(info)
                report = check_parity(
                    sk_model,
                    exported,
                    reference,
                    info.feature_columns,
                    rows=self.cfg.parity_rows,
                    tolerance=self.cfg.parity_tolerance,
                )
            if options.gpus > 0 and options.tensorrt:
                with _stage(stages, "tensorrt_parity"):
                    self._tensorrt_parity(sk_model, exported, reference, info.feature_columns)
            triton_model = f"{name}-v{info.version}"
            previous = self._row_or_none(name)
            # Written before the first model file: a deploy killed from here on is undone by the next one.
            write_pending(self._pending_path(name), triton_model)
            try:
                with _stage(stages, "triton_start"):
                    client = self._triton()
                with _stage(stages, "repository_and_load"):
                    self._publish(client, triton_model, exported, options)
                with _stage(stages, "smoke_inference"):
                    self._smoke(client, triton_model, exported, reference[info.feature_columns])
            except BaseException:
                if previous is None or previous.triton_model != triton_model:
                    self._retire(triton_model)
                clear_pending(self._pending_path(name))
                raise
            with _stage(stages, "record"):
                ref_path = self.ws.state_dir / "deployments" / name / f"reference-v{info.version}.parquet"
                self.ws.registry.export_reference(info, ref_path)
                self._upsert(name, info, triton_model, feature_refs, ref_path, report.max_abs_diff)
                # The drift baseline is fixed at deploy time, from the same frame parity was checked on.
                self.ws.monitor.capture_reference_profile(name, reference[info.feature_columns])
                push_version(self._history_path(name), info.version)
                self._recent.pop(name, None)
            if previous is not None and previous.triton_model != triton_model:
                self._retire(previous.triton_model)
            clear_pending(self._pending_path(name))
        return to_info(self.get(name), self.triton_url, stages)

    def rollback(self, name: str, progress: Progress | None = None) -> DeploymentInfo:
        """Serve the version ``name`` served before the current one (new loaded before old unloads)."""
        dep = self.get(name)
        path = self._history_path(name)
        found = rollback_target(read_history(path), dep.model_version)
        if found is None:
            raise Conflict(
                f"deployment {name!r} has no earlier version to roll back to (serving v{dep.model_version}); "
                f"deploy one explicitly with `shipyard deploy {dep.model_name}@VERSION --name {name}`"
            )
        target, history = found
        info = self.deploy(dep.model_name, target, name, progress)
        write_history(path, history)
        return info

    def _history_path(self, name: str) -> Path:
        return self.ws.state_dir / "deployments" / name / "history.json"

    def _pending_path(self, name: str) -> Path:
        return self.ws.state_dir / "deployments" / name / PENDING_FILE

    def _recover(self, name: str) -> None:
        """Undo what a deploy of ``name`` killed midway left: its unrecorded Triton model and staging files."""
        orphan = read_pending(self._pending_path(name))
        if orphan is None:
            return
        current = self._row_or_none(name)
        if current is None or current.triton_model != orphan:
            if self.cfg.triton_url:
                # An external Triton outlived the killed process, with the orphan possibly still loaded.
                self._supervisor.client()
                self._supervisor.loaded.add(orphan)
            self._retire(orphan, drain=False)
        remove_leftovers(self.repository, orphan)
        clear_pending(self._pending_path(name))

    def _publish(
        self, client: TritonClient, triton_model: str, exported: OnnxModel, options: ServingOptions
    ) -> None:
        write_model(self.repository, triton_model, exported, options)
        try:
            client.load_model(triton_model)
        except OperationFailed as exc:
            if options.backend != "onnxruntime" or "backend 'onnxruntime'" not in exc.message:
                raise
            # This server has no ONNX Runtime backend (a Python-backend-only build): run the same ONNX
            # file through model.py instead.
            write_model(self.repository, triton_model, exported, replace(options, backend="python"))
            client.load_model(triton_model)
        self._supervisor.published(triton_model)

    def _tensorrt_parity(
        self, sk_model: Any, exported: OnnxModel, reference: Any, columns: list[str]
    ) -> None:
        from shipyard.gpu_runtime.tensorrt import check_tensorrt_parity, detect_tensorrt

        cap = detect_tensorrt(self._supervisor.has_onnxruntime())
        if cap.ort_tensorrt_provider:
            check_tensorrt_parity(
                sk_model,
                exported,
                reference,
                columns,
                precision=self.cfg.tensorrt_precision,
                cap=cap,
                rows=self.cfg.parity_rows,
                tolerance=self.cfg.parity_tolerance,
            )
        # Without TensorRT in-process, the smoke inference compares Triton's TensorRT output instead.

    def _export(self, info: ModelVersionInfo) -> tuple[Any, OnnxModel]:
        sk_model = self.ws.registry.load_model(info)
        exported = export_classifier(sk_model, len(info.feature_columns), input_name=INPUT_NAME)
        if exported.label_output != "label" or exported.probability_output != "probabilities":
            raise OperationFailed(
                f"ONNX export of {info.name} v{info.version} names its outputs {exported.label_output!r}/"
                f"{exported.probability_output!r}, expected 'label'/'probabilities'"
            )
        label = next(o for o in exported.outputs if o.name == "label")
        if label.dtype != "TYPE_INT64":
            raise InvalidInput(
                f"model {info.name} v{info.version} predicts non-integer class labels; train it on 0/1 (or "
                "integer) targets to deploy it"
            )
        return sk_model, exported

    def _smoke(self, client: TritonClient, triton_model: str, exported: OnnxModel, reference: Any) -> None:
        import numpy as np

        from shipyard.gpu_runtime.parity import onnx_probabilities, onnx_session

        features = reference.head(_SMOKE_ROWS).to_numpy(dtype=np.float32)
        served = client.infer(
            triton_model, features, input_name=exported.input_name, outputs=["probabilities", "label"]
        )
        expected = onnx_probabilities(onnx_session(exported.onnx), exported, features)
        got = np.asarray(served["probabilities"], dtype=np.float64)
        gap = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("inf")
        if not gap <= self.cfg.parity_tolerance:
            raise OperationFailed(
                f"smoke inference on Triton model {triton_model} disagrees with ONNX Runtime in-process "
                f"(max abs diff {gap:.3g}); see {self._log_hint()}"
            )

    def _retire(self, triton_model: str, *, drain: bool = True) -> None:
        if drain:
            self._supervisor.retire(triton_model)
        else:
            self._supervisor.unload(triton_model)
        remove_model(self.repository, triton_model)

    def _log_hint(self) -> str:
        return self._supervisor.log_hint()

    # -- records --------------------------------------------------------------------------------------
    def _upsert(
        self,
        name: str,
        info: ModelVersionInfo,
        triton_model: str,
        feature_refs: list[str],
        reference_path: Path,
        parity: float,
    ) -> None:
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self.ws.store.session() as s:
            row = s.scalars(select(Deployment).where(Deployment.name == name)).one_or_none()
            if row is not None and row.project != self.ws.project:
                raise Conflict(
                    f"deployment name {name!r} is taken by project {row.project!r}; pick another name"
                )
            if row is None:
                row = Deployment(project=self.ws.project, name=name)
                s.add(row)
            row.model_name = info.name
            row.model_version = info.version
            row.model_uri = info.model_uri
            row.triton_model = triton_model
            row.feature_refs = feature_refs
            row.entity_keys = info.entity_keys
            row.reference_path = str(reference_path)
            row.artifact_sha256 = info.artifact_sha256
            row.parity_max_abs_diff = parity
            row.status = "ready"

    def _row_or_none(self, name: str) -> DeploymentInfo | None:
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self.ws.store.session() as s:
            row = s.scalars(
                select(Deployment).where(Deployment.name == name, Deployment.project == self.ws.project)
            ).one_or_none()
            if row is None:
                return None
            return to_info(row, self.triton_url, runtime=runtime_of_model(self.repository, row.triton_model))

    def get(self, name: str) -> DeploymentInfo:
        """The deployment called ``name``; ``NotFound`` lists the ones that exist."""
        found = self._row_or_none(name)
        if found is None:
            known = ", ".join(d.name for d in self.list()) or "none"
            raise NotFound(
                f"deployment {name!r} does not exist (deployments: {known}); create it with `shipyard deploy`"
            )
        return found

    def list(self) -> list[DeploymentInfo]:
        """Every deployment of the project, by name."""
        from sqlalchemy import select

        from shipyard.store.models import Deployment

        with self.ws.store.session() as s:
            rows = s.scalars(
                select(Deployment).where(Deployment.project == self.ws.project).order_by(Deployment.name)
            ).all()
            return [
                to_info(r, self.triton_url, runtime=runtime_of_model(self.repository, r.triton_model))
                for r in rows
            ]

    def delete(self, name: str) -> None:
        """Stop serving ``name`` and forget it (its registered model stays in the registry)."""
        from sqlalchemy import delete

        from shipyard.store.models import Deployment

        dep = self.get(name)
        with self._deploy_lock:
            self._retire(dep.triton_model)
            with self.ws.store.session() as s:
                s.execute(
                    delete(Deployment).where(Deployment.name == name, Deployment.project == self.ws.project)
                )
            self._history_path(name).unlink(missing_ok=True)
            self._recent.pop(name, None)

    def _cached(self, name: str) -> DeploymentInfo:
        # Predictions look their deployment up on every call; a short-lived copy keeps the metadata store
        # off the hot path while a redeploy from another process is still picked up within a second.
        now = time.monotonic()
        hit = self._recent.get(name)
        if hit is not None and now - hit[0] < _ROW_TTL_S:
            return hit[1]
        dep = self.get(name)
        self._recent[name] = (now, dep)
        return dep

    # -- predict --------------------------------------------------------------------------------------
    def predict(
        self,
        name: str,
        entities: builtins.list[dict[str, Any]] | None = None,
        *,
        rows: builtins.list[dict[str, Any]] | None = None,
    ) -> PredictionResult:
        """Infer on Triton from online features of ``entities`` (or raw feature ``rows``); log for monitoring."""
        started = time.perf_counter()
        dep = self._cached(name)
        # Failures are counted only once the name resolved, so unknown names cannot flood metric labels.
        try:
            if dep.status != "ready":
                raise Conflict(
                    f"deployment {name!r} is {dep.status}, not ready; redeploy it with `shipyard deploy`"
                )
            return self._predict_once_retried(dep, entities, rows, started)
        except ShipyardError as exc:
            self.ws.monitor.record_failure(dep.name, exc.code)
            raise

    def _predict_once_retried(
        self,
        dep: DeploymentInfo,
        entities: builtins.list[dict[str, Any]] | None,
        rows: builtins.list[dict[str, Any]] | None,
        started: float,
    ) -> PredictionResult:
        try:
            return predict_rows(self.ws, dep, entities, self._serving, started, rows)
        except OperationFailed as exc:
            # A redeploy or rollback may have retired the model this request looked up a moment earlier:
            # answer from the version now recorded instead of failing the request mid-swap.
            self._recent.pop(dep.name, None)
            current = self._cached(dep.name)
            if current.triton_model == dep.triton_model:
                if not isinstance(exc, ModelRetired) or self._deploy_lock.locked():
                    raise  # a real failure, or this process is deleting/replacing it right now
                # Retired here, yet recorded as current: another process deployed this version again.
                self._supervisor.unretire(dep.triton_model)
            return predict_rows(self.ws, current, entities, self._serving, started, rows)

    def close(self) -> None:
        """Stop the Triton this service started and close connections; safe to call twice."""
        self._supervisor.close()
