"""MLflow plumbing for the registry: quiet logging, pinned requirements, verified downloads, version records."""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import OperationFailed
from shipyard.registry import lineage
from shipyard.registry.models import (
    REFERENCE_MAX_ROWS,
    TAG_ARTIFACT,
    TAG_ENTITY_KEYS,
    TAG_FEATURE_COLUMNS,
    TAG_FEATURE_REFS,
    TAG_REFERENCE,
    TAG_REFERENCE_URI,
    TAG_TARGET,
    ModelVersionInfo,
    load_list,
)

if TYPE_CHECKING:
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion


def quiet_mlflow_logging() -> None:
    """Silence MLflow's INFO chatter, progress bars and a harmless SQLAlchemy deprecation warning."""
    # MLflow logs table creation at INFO, warns on every cloudpickle save and draws a progress bar on every
    # download; none of it helps a user here, and surfaces keep stderr for their own progress lines.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("mlflow.sklearn").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # MLflow's store uses a SQLAlchemy loader option deprecated in SQLAlchemy 2.1; harmless, and not ours to fix.
    warnings.filterwarnings("ignore", message=r".*``noload`` loader strategy", module=r"mlflow\..*")


def reference_sample(frame: pd.DataFrame, feature_columns: list[str], target: str) -> pd.DataFrame:
    """The reference sample stored with a model version: features and target, at most REFERENCE_MAX_ROWS rows."""
    sample = frame[[*feature_columns, target]]
    if len(sample) > REFERENCE_MAX_ROWS:
        sample = sample.sample(n=REFERENCE_MAX_ROWS, random_state=0).sort_index()
    return sample.reset_index(drop=True)


def pip_requirements() -> list[str]:
    """Pinned requirements of a saved sklearn model: the installed scikit-learn, cloudpickle, numpy, pandas."""
    # Explicit requirements: MLflow's inference of them imports the model in a subprocess (seconds).
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for dist in ("scikit-learn", "cloudpickle", "numpy", "pandas"):
        try:
            reqs.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            continue
    return reqs


@contextmanager
def verified_download(uri: str, expected: str, what: str, tracking_uri: str) -> Iterator[Path]:
    """Download ``uri`` to a temporary directory and yield it only if its sha256 matches ``expected``."""
    from mlflow.artifacts import download_artifacts
    from mlflow.exceptions import MlflowException

    if not uri or not expected:
        raise OperationFailed(
            f"{what} has no recorded sha256, so it cannot be verified; register it with "
            "ws.registry.log_model(...)"
        )
    with tempfile.TemporaryDirectory(prefix="shipyard-artifact-") as tmp:
        try:
            local = Path(download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=tracking_uri))
        except (MlflowException, OSError) as exc:
            raise OperationFailed(f"{what} could not be read from {uri}: {exc}") from exc
        actual = lineage.sha256_tree(local)
        if actual != expected:
            raise OperationFailed(
                f"{what} failed its integrity check: sha256 {actual} != registered {expected} "
                f"(artifact at {uri} was modified after registration); re-register the model "
                "from its training run"
            )
        yield local


def version_info(
    client: MlflowClient, mv: ModelVersion, aliases: list[str] | None = None
) -> ModelVersionInfo:
    """A registered MLflow model version as a ``ModelVersionInfo`` (tags decoded, run metrics attached)."""
    tags = dict(mv.tags or {})
    metrics: dict[str, float] = {}
    if mv.run_id:
        metrics = dict(client.get_run(mv.run_id).data.metrics)
    created = datetime.fromtimestamp(mv.creation_timestamp / 1000, tz=UTC) if mv.creation_timestamp else None
    return ModelVersionInfo(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id or "",
        model_uri=f"models:/{mv.name}/{mv.version}",
        source=mv.source or "",
        aliases=sorted((mv.aliases or []) if aliases is None else aliases),
        artifact_sha256=tags.get(TAG_ARTIFACT, ""),
        feature_columns=load_list(tags.get(TAG_FEATURE_COLUMNS)),
        feature_refs=load_list(tags.get(TAG_FEATURE_REFS)),
        entity_keys=load_list(tags.get(TAG_ENTITY_KEYS)),
        target=tags.get(TAG_TARGET, ""),
        reference_uri=tags.get(TAG_REFERENCE_URI, ""),
        reference_sha256=tags.get(TAG_REFERENCE, ""),
        tags=tags,
        metrics=metrics,
        created_at=created,
    )
