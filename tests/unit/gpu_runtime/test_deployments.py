"""DeploymentService behaviour that needs no Triton: lookups, early refusals, backend choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import default_toml
from shipyard.errors import InvalidInput, NotFound
from shipyard.gpu_runtime import deployments as dep_mod
from shipyard.gpu_runtime.triton_dist import TritonDistribution
from shipyard.workspace import Workspace


@pytest.fixture()
def ws(tmp_path: Path) -> Workspace:
    (tmp_path / "shipyard.toml").write_text(default_toml("unit"))
    w = Workspace.open(tmp_path)
    yield w  # type: ignore[misc]
    w.close()


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
