"""MLflow tracking and model registry for a workspace: log with lineage, resolve, verify, load."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.config import CONFIG_FILENAME
from shipyard.errors import EngineUnavailable, InvalidInput, NotFound
from shipyard.registry import lineage
from shipyard.registry.mlflow_io import (
    pip_requirements,
    quiet_mlflow_logging,
    reference_sample,
    verified_download,
    version_info,
)
from shipyard.registry.models import (
    MODEL_DIR,
    REFERENCE_DIR,
    REFERENCE_FILE,
    TAG_ARTIFACT,
    TAG_ENTITY_KEYS,
    TAG_FEATURE_COLUMNS,
    TAG_FEATURE_REFS,
    TAG_FLAVOR,
    TAG_REFERENCE,
    TAG_REFERENCE_URI,
    TAG_TARGET,
    ModelVersionInfo,
    dump_list,
    validate_alias,
    validate_model_name,
)
from shipyard.registry.validation import validate_log_inputs, validate_metrics, validate_params

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    from shipyard.registry.promotion import PromotionGate, PromotionReport
    from shipyard.workspace import Workspace


_SCHEMA_LOCK_TIMEOUT_S = 120.0


class RegistryService:
    """Registers sklearn models in the workspace's MLflow, with lineage, and hands them back verified."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        cfg = ws.config.mlflow
        self.tracking_uri = cfg.tracking_uri or f"sqlite:///{ws.state_dir / 'mlflow.db'}"
        root = cfg.artifact_root or ".shipyard/mlartifacts"
        self.artifact_root = root if "://" in root else ws.path(root).resolve().as_uri()

    # -- engine ---------------------------------------------------------------------------------------
    @cached_property
    def client(self) -> MlflowClient:
        """An MLflow client bound to this workspace's URIs (never to MLflow's process-global state)."""
        from mlflow import MlflowClient

        quiet_mlflow_logging()
        try:
            with self._schema_lock():
                client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
                # Both stores create or upgrade their tables on first use: do it while holding the lock.
                client.search_experiments(max_results=1)
                client.search_registered_models(max_results=1)
        except EngineUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - any backend failure means MLflow is unusable here
            raise EngineUnavailable(
                f"MLflow at {self.tracking_uri} cannot be opened: {exc}; check [mlflow] tracking_uri "
                "in shipyard.toml"
            ) from exc
        return client

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        """Serialise MLflow's table creation on a SQLite file across processes.

        Two processes opening a fresh workspace at once (JupyterLab and the CLI, say) would both run MLflow's
        migrations, and all but one fail ("duplicate column name"). A server backend migrates itself.
        """
        if not self.tracking_uri.startswith("sqlite:///"):
            yield
            return
        from filelock import FileLock, Timeout

        db = Path(self.tracking_uri.removeprefix("sqlite:///"))
        db.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(db.with_name(db.name + ".lock")))
        try:
            lock.acquire(timeout=_SCHEMA_LOCK_TIMEOUT_S)
        except Timeout as exc:
            raise EngineUnavailable(
                f"another process has held {lock.lock_file} for {_SCHEMA_LOCK_TIMEOUT_S:.0f} s while opening "
                f"{db}; wait for it, or remove the lock file if no Shipyard process is running"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    @cached_property
    def experiment_id(self) -> str:
        """The project's experiment, created on first use with artifacts under the workspace."""
        from mlflow.exceptions import MlflowException

        name = self.ws.project
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(self.client.create_experiment(name, artifact_location=f"{self.artifact_root}/{name}"))
        except MlflowException:
            # Another process created it between our lookup and create.
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                raise
            return str(exp.experiment_id)

    # -- logging --------------------------------------------------------------------------------------
    def log_model(
        self,
        model: Any,
        *,
        name: str,
        training_frame: pd.DataFrame,
        feature_columns: list[str],
        target: str,
        feature_refs: list[str],
        metrics: dict[str, float],
        params: dict[str, Any],
        alias: str | None = "champion",
        entity_keys: list[str] | None = None,
    ) -> ModelVersionInfo:
        """Log ``model`` in an MLflow run with lineage and a reference sample, register it, set ``alias``.

        ``entity_keys`` (the columns a prediction request names an entity by) default to the frame's
        columns that are neither features, target nor timestamps.
        """
        validate_model_name(name)
        if alias is not None:
            validate_alias(alias)
        entity_keys = validate_log_inputs(
            model, training_frame, feature_columns, target, feature_refs, entity_keys
        )
        clean_metrics = validate_metrics(metrics)
        clean_params = validate_params(params)
        reference = reference_sample(training_frame, feature_columns, target)
        tags = lineage.lineage_tags(
            run_context=self.ws.run_context,
            config_path=self.ws.root / CONFIG_FILENAME,
            training_frame=training_frame,
        )
        run_tags = {**tags, "shipyard.model_name": name}
        if tags[lineage.TAG_NOTEBOOK_PATH] != lineage.UNKNOWN:
            run_tags["mlflow.source.name"] = tags[lineage.TAG_NOTEBOOK_PATH]
        run = self.client.create_run(self.experiment_id, run_name=name, tags=run_tags)
        run_id = run.info.run_id
        try:
            version = self._log_and_register(
                run_id,
                run.info.artifact_uri,
                model,
                name,
                training_frame,
                feature_columns,
                reference,
                clean_metrics,
                clean_params,
                {
                    **tags,
                    TAG_FEATURE_COLUMNS: dump_list(feature_columns),
                    TAG_FEATURE_REFS: dump_list(feature_refs),
                    TAG_ENTITY_KEYS: dump_list(entity_keys),
                    TAG_TARGET: target,
                    TAG_FLAVOR: f"{type(model).__module__}.{type(model).__qualname__}",
                },
            )
            if alias is not None:
                self.client.set_registered_model_alias(name, alias, version)
        except BaseException:
            self.client.set_terminated(run_id, status="FAILED")
            raise
        self.client.set_terminated(run_id, status="FINISHED")
        return self.resolve(name, version)

    def _log_and_register(
        self,
        run_id: str,
        artifact_uri: str,
        model: Any,
        name: str,
        frame: pd.DataFrame,
        feature_columns: list[str],
        reference: pd.DataFrame,
        metrics: dict[str, float],
        params: dict[str, str],
        version_tags: dict[str, str],
    ) -> str:
        import mlflow.sklearn
        from mlflow.entities import Metric, Param
        from mlflow.exceptions import MlflowException
        from mlflow.models import infer_signature

        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        try:
            self.client.log_batch(
                run_id,
                metrics=[Metric(k, v, now_ms, 0) for k, v in metrics.items()],
                params=[Param(k, v) for k, v in params.items()],
            )
        except MlflowException as exc:
            raise InvalidInput(
                f"MLflow rejected the params or metrics of model {name!r}: {exc.message}"
            ) from exc
        # Served features are floats whatever their training dtype; say so in the signature.
        sample = frame[feature_columns].head(50).astype("float64")
        output = model.predict_proba(sample) if hasattr(model, "predict_proba") else model.predict(sample)
        with tempfile.TemporaryDirectory(prefix="shipyard-model-") as tmp:
            model_dir = Path(tmp) / MODEL_DIR
            # cloudpickle keeps custom transformers loadable; the sha256 check guards the unpickling.
            mlflow.sklearn.save_model(
                model,
                str(model_dir),
                serialization_format="cloudpickle",
                signature=infer_signature(sample, output),
                pip_requirements=pip_requirements(),
            )
            ref_path = Path(tmp) / REFERENCE_DIR / REFERENCE_FILE
            ref_path.parent.mkdir()
            reference.to_parquet(ref_path, index=False)
            version_tags[TAG_ARTIFACT] = lineage.sha256_tree(model_dir)
            version_tags[TAG_REFERENCE] = lineage.sha256_tree(ref_path)
            version_tags[TAG_REFERENCE_URI] = f"{artifact_uri}/{REFERENCE_DIR}/{REFERENCE_FILE}"
            self.client.log_artifacts(run_id, tmp)
        self.client.set_tag(run_id, TAG_ARTIFACT, version_tags[TAG_ARTIFACT])
        try:
            self.client.create_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        mv = self.client.create_model_version(
            name, source=f"{artifact_uri}/{MODEL_DIR}", run_id=run_id, tags=version_tags
        )
        return str(mv.version)

    # -- reading --------------------------------------------------------------------------------------
    def resolve(self, name: str, ref: str) -> ModelVersionInfo:
        """The version ``ref`` of model ``name``: an alias ("champion"), a number, or "latest"."""
        from mlflow.exceptions import MlflowException

        validate_model_name(name)
        ref = str(ref).strip()
        if not ref:
            raise InvalidInput(f"model reference for {name!r} is empty: pass an alias or a version number")
        self._registered_model(name)
        try:
            if ref.isdigit():
                mv = self.client.get_model_version(name, ref)
            elif ref == "latest":
                # Search results carry no aliases: fetch the version itself.
                latest = max(self._versions(name), key=lambda v: int(v.version))
                mv = self.client.get_model_version(name, str(latest.version))
            else:
                mv = self.client.get_model_version_by_alias(name, ref)
        except (MlflowException, ValueError) as exc:
            raise NotFound(
                f"model {name!r} has no version or alias {ref!r}; {self._describe_refs(name)}"
            ) from exc
        return self._info(mv)

    def alias_version(self, name: str, alias: str) -> str | None:
        """The version ``alias`` points at right now (read fresh from MLflow), or None when unset."""
        rm = self._registered_model(name)
        value = (rm.aliases or {}).get(alias)
        return str(value) if value is not None else None

    def promote(
        self,
        name: str,
        version: str,
        alias: str = "champion",
        gates: Sequence[PromotionGate | str] | Mapping[str, float] | None = None,
        eval_frame: pd.DataFrame | None = None,
        tolerance: float = 0.0,
    ) -> PromotionReport:
        """Give ``alias`` to ``version`` only if the gates hold and it is not worse than the current holder.

        Both are scored on ``eval_frame`` (default: the candidate's logged reference sample); a concurrent
        promotion of the same alias that moved it first makes this one raise ``Conflict``.
        """
        from shipyard.registry.promotion import promote

        validate_model_name(name)
        validate_alias(alias)
        return promote(self, name, str(version), alias, gates, eval_frame, tolerance)

    def list_models(self) -> list[ModelVersionInfo]:
        """The latest version and every aliased version of each registered model, by name."""
        out: list[ModelVersionInfo] = []
        for rm in self._registered_models():
            versions = {int(v.version): v for v in self._versions(rm.name)}
            if not versions:
                continue
            aliases: dict[int, list[str]] = {}
            for alias, number in (rm.aliases or {}).items():
                aliases.setdefault(int(number), []).append(alias)
            wanted = {max(versions)} | set(aliases)
            out.extend(
                self._info(versions[v], aliases.get(v, []))
                for v in sorted(wanted, reverse=True)
                if v in versions
            )
        return out

    def load_model(self, info: ModelVersionInfo) -> Any:
        """The sklearn model of ``info``, after checking its artifact against the registered sha256."""
        import mlflow.sklearn

        with self._verified_download(
            info.source, info.artifact_sha256, f"model {info.name} v{info.version}"
        ) as p:
            return mlflow.sklearn.load_model(str(p))

    def load_reference(self, info: ModelVersionInfo) -> pd.DataFrame:
        """The reference sample (feature columns + target) logged with ``info``, hash-verified."""
        import pandas as pd

        what = f"reference sample of model {info.name} v{info.version}"
        with self._verified_download(info.reference_uri, info.reference_sha256, what) as p:
            return pd.read_parquet(p)

    def export_reference(self, info: ModelVersionInfo, dst: Path) -> Path:
        """Copy the verified reference sample of ``info`` to ``dst`` (atomically) and return ``dst``."""
        what = f"reference sample of model {info.name} v{info.version}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        with self._verified_download(info.reference_uri, info.reference_sha256, what) as p:
            tmp = dst.with_name(f".{dst.name}.tmp")
            shutil.copyfile(p, tmp)
            tmp.replace(dst)
        return dst

    # -- helpers --------------------------------------------------------------------------------------
    @contextmanager
    def _verified_download(self, uri: str, expected: str, what: str) -> Iterator[Path]:
        with verified_download(uri, expected, what, self.tracking_uri) as local:
            yield local

    def _registered_model(self, name: str) -> Any:
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException as exc:
            known = ", ".join(rm.name for rm in self._registered_models()) or "none"
            raise NotFound(
                f"model {name!r} is not registered (registered models: {known}); register it with "
                "ws.registry.log_model(...)"
            ) from exc

    def _registered_models(self) -> list[Any]:
        models: list[Any] = []
        token: str | None = None
        while True:
            page = self.client.search_registered_models(max_results=200, page_token=token)
            models.extend(page)
            token = page.token
            if not token:
                return sorted(models, key=lambda m: m.name)

    def _versions(self, name: str) -> list[ModelVersion]:
        versions: list[ModelVersion] = []
        token: str | None = None
        while True:
            page = self.client.search_model_versions(f"name = '{name}'", max_results=200, page_token=token)
            versions.extend(page)
            token = page.token
            if not token:
                return versions

    def _describe_refs(self, name: str) -> str:
        rm = self.client.get_registered_model(name)
        aliases = ", ".join(f"{a}->v{v}" for a, v in sorted((rm.aliases or {}).items())) or "none"
        numbers = sorted(int(v.version) for v in self._versions(name))
        return f"aliases: {aliases}; versions: {', '.join(map(str, numbers)) or 'none'}"

    def _info(self, mv: ModelVersion, aliases: list[str] | None = None) -> ModelVersionInfo:
        return version_info(self.client, mv, aliases)
