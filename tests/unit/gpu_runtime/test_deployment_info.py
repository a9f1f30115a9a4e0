"""Deployment names, and the alignment of a model's feature columns with its feature refs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipyard.errors import InvalidInput
from shipyard.gpu_runtime.deployment_info import aligned_feature_refs, to_info, validate_deployment_name
from shipyard.registry.models import ModelVersionInfo
from shipyard.store.models import Deployment


def _info(columns: list[str], refs: list[str]) -> ModelVersionInfo:
    return ModelVersionInfo(
        name="churn",
        version="3",
        run_id="r",
        model_uri="models:/churn/3",
        source="",
        aliases=[],
        artifact_sha256="",
        feature_columns=columns,
        feature_refs=refs,
        entity_keys=["customer_id"],
        target="churned",
        reference_uri="",
        reference_sha256="",
    )


@pytest.mark.parametrize("name", ["churn", "churn-prod", "c.1_x"])
def test_good_deployment_names(name: str) -> None:
    assert validate_deployment_name(name) == name


@pytest.mark.parametrize("name", ["", "-x", "a/b", "a b", "x" * 101, None, "../etc"])
def test_bad_deployment_names(name: object) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        validate_deployment_name(name)


def test_feature_refs_follow_the_model_column_order() -> None:
    info = _info(["b", "a"], ["profile:a", "activity:b", "activity:unused"])
    assert aligned_feature_refs(info) == ["activity:b", "profile:a"]


@pytest.mark.parametrize(
    ("columns", "refs", "message"),
    [
        (["a", "derived"], ["v:a"], "feature column 'derived' has no feature ref"),
        (["a"], [], "feature column 'a' has no feature ref"),
        (["a"], ["v1:a", "v2:a"], "matches several refs"),
    ],
)
def test_unservable_feature_columns(columns: list[str], refs: list[str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        aligned_feature_refs(_info(columns, refs))


def test_to_info_derives_columns_and_reads_sqlite_times_as_utc() -> None:
    row = Deployment(
        project="p",
        name="churn",
        model_name="churn",
        model_version="2",
        model_uri="models:/churn/2",
        triton_model="churn-v2",
        feature_refs=["profile:b", "activity:a"],
        entity_keys=["customer_id"],
        reference_path="/r.parquet",
        artifact_sha256="x",
        parity_max_abs_diff=1e-7,
        status="ready",
        created_at=datetime(2024, 1, 1, 12, 0),
        updated_at=datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
    )
    info = to_info(row, "127.0.0.1:8000", {"parity": 0.1})
    assert info.feature_columns == ["b", "a"]
    assert info.created_at == datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    assert info.updated_at is not None and info.updated_at.tzinfo is UTC
    assert (info.triton_url, info.stage_seconds) == ("127.0.0.1:8000", {"parity": 0.1})
