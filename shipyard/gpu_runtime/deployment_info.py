"""What a deployment is: its stored description, and the rules a deployment name and its features obey."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    from shipyard.registry.models import ModelVersionInfo
    from shipyard.store.models import Deployment

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class DeploymentInfo:
    """A deployment as stored, plus where it is served."""

    name: str
    project: str
    model_name: str
    model_version: str
    model_uri: str
    triton_model: str
    feature_refs: list[str]
    feature_columns: list[str]
    entity_keys: list[str]
    reference_path: str
    artifact_sha256: str
    parity_max_abs_diff: float
    status: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    triton_url: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    runtime: str = ""


def to_info(
    row: Deployment | DeploymentInfo,
    triton_url: str | None,
    stages: dict[str, float] | None = None,
    runtime: str = "",
) -> DeploymentInfo:
    """A stored deployment row as a ``DeploymentInfo`` served at ``triton_url``."""
    refs = list(row.feature_refs or [])
    return DeploymentInfo(
        name=row.name,
        project=row.project,
        model_name=row.model_name,
        model_version=row.model_version,
        model_uri=row.model_uri,
        triton_model=row.triton_model,
        feature_refs=refs,
        feature_columns=[r.partition(":")[2] for r in refs],
        entity_keys=list(row.entity_keys or []),
        reference_path=row.reference_path,
        artifact_sha256=row.artifact_sha256,
        parity_max_abs_diff=row.parity_max_abs_diff,
        status=row.status,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        triton_url=triton_url,
        stage_seconds=dict(stages or {}),
        runtime=runtime or getattr(row, "runtime", ""),
    )


def validate_deployment_name(name: object) -> str:
    """A deployment name (also a folder and URL segment), or ``InvalidInput`` saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"deployment name {name!r} is not valid: use 1-100 letters, digits, '_', '-' or '.', starting "
            "with a letter or digit"
        )
    return name


def aligned_feature_refs(info: ModelVersionInfo) -> list[str]:
    """The model's feature refs, one per feature column and in column order (what online lookup returns)."""
    by_feature: dict[str, list[str]] = {}
    for ref in info.feature_refs:
        by_feature.setdefault(ref.partition(":")[2], []).append(ref)
    aligned = []
    for column in info.feature_columns:
        refs = by_feature.get(column, [])
        if not refs:
            raise InvalidInput(
                f"model {info.name} v{info.version}: feature column {column!r} has no feature ref, so it cannot "
                "be looked up online; train on features from a Feast feature service and pass its refs"
            )
        if len(refs) > 1:
            raise InvalidInput(
                f"model {info.name} v{info.version}: feature column {column!r} matches several refs "
                f"({', '.join(refs)}); feature names must be unique across the model's feature views"
            )
        aligned.append(refs[0])
    return aligned


def _utc(ts: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; the store writes UTC.
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts
