"""DeploymentService rules that need no Triton: names, feature alignment, lookups, backend choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import default_toml
from shipyard.errors import InvalidInput, NotFound
from shipyard.gpu_runtime import deployments as dep_mod
from shipyard.gpu_runtime.deployments import aligned_feature_refs, validate_deployment_name
from shipyard.gpu_runtime.triton_dist import TritonDistribution
from shipyard.registry.models import ModelVersionInfo
from shipyard.workspace import Workspace


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


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "shipyard.toml").write_text(default_toml("unit"))
    w = Workspace.open(tmp_path)
    yield w  # type: ignore[misc]
    w.close()


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


def test_lookups_on_an_empty_workspace(ws: Workspace) -> None:
    assert ws.deployments.list() == []
    with pytest.raises(NotFound, match="deployment 'nope' does not exist"):
        ws.deployments.get("nope")
    with pytest.raises(NotFound, match="deployment 'nope'"):
        ws.deployments.predict("nope", [{"customer_id": 1}])
    assert ws.deployments.triton_url is None


def test_deploy_rejects_a_bad_name_before_any_work(ws: Workspace) -> None:
    with pytest.raises(InvalidInput, match="deployment name"):
        ws.deployments.deploy("churn", "champion", "bad name")
    assert not (ws.state_dir / "mlflow.db").exists()


def test_close_without_a_server_is_safe(ws: Workspace) -> None:
    ws.deployments.close()
    ws.deployments.close()


def test_backend_choice(ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backends = tmp_path / "backends"
    (backends / "python").mkdir(parents=True)
    dist = TritonDistribution(tmp_path / "tritonserver", backends, [])
    monkeypatch.setattr("shipyard.gpu_runtime.triton_dist.locate_triton", lambda work_dir: dist)
    monkeypatch.setattr("shipyard.gpu_runtime.devices.gpu_count", lambda: 2)
    service = ws.deployments
    assert service._serving_options().backend == "python"
    assert service._serving_options().gpus == 0
    (backends / "onnxruntime").mkdir()
    options = service._serving_options()
    assert (options.backend, options.gpus, options.tensorrt) == ("onnxruntime", 2, True)


def test_external_triton_is_assumed_to_have_onnxruntime(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws.config.serving.triton_url = "triton.internal:8000"
    monkeypatch.setattr("shipyard.gpu_runtime.devices.gpu_count", lambda: 0)
    assert ws.deployments._serving_options().backend == "onnxruntime"
    assert ws.deployments.triton_url == "triton.internal:8000"
    assert dep_mod.DeploymentService(ws).triton_server is None
