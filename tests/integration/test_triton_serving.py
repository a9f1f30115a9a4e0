"""Serving on a real Triton (the tritonserver bundled with nvidia-pytriton) with real MLflow models.

Feature lookup is a fake_features stand-in so this file tests serving alone; the lead's end-to-end test
drives predict through the real Feast online store.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.errors import Conflict, EngineUnavailable, InvalidInput, NotFound, OperationFailed
from shipyard.gpu_runtime import processes
from shipyard.gpu_runtime.deployment_info import DeploymentInfo
from shipyard.gpu_runtime.onnx_export import export_classifier
from shipyard.gpu_runtime.parity import onnx_probabilities, onnx_session
from shipyard.gpu_runtime.triton_client import TritonClient
from shipyard.gpu_runtime.triton_repository import ServingOptions, write_model
from shipyard.gpu_runtime.triton_server import TritonServer
from shipyard.registry.models import ModelVersionInfo
from shipyard.workspace import Workspace
from tests.churn_models import log_churn_model

pytestmark = pytest.mark.integration

FEATURES = ["monthly_charge", "txn_count_30d", "refunds_30d"]
REFS = ["customer_activity:txn_count_30d", "customer_profile:monthly_charge", "customer_activity:refunds_30d"]
SHM = Path("/dev/shm")


def _log(ws: Workspace, frame: pd.DataFrame, *, name: str = "churn", c: float = 1.0) -> ModelVersionInfo:
    # REFS lists the features in another order than the model's columns: deploy must align them.
    return log_churn_model(ws, frame, c=c, name=name, refs=REFS)


@pytest.fixture(scope="module")
def frame(synthetic_churn_frame: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return synthetic_churn_frame(1500)


@pytest.fixture(scope="module")
def ws(
    serving_workspace: Callable[[str, pd.DataFrame], Workspace], frame: pd.DataFrame
) -> Iterator[Workspace]:
    w = serving_workspace("serving-ws", frame)
    _log(w, frame)
    yield w
    w.close()


def _alive(pids: list[int]) -> list[int]:
    return [p for p in pids if processes.is_alive(p)]


def _shm_regions() -> set[str]:
    return {p.name for p in SHM.glob("shipyard_*")} if SHM.is_dir() else set()


def test_triton_client_matches_onnxruntime_and_stop_leaves_nothing(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    model = LogisticRegression().fit(frame[FEATURES], frame["churned"])
    exported = export_classifier(model, len(FEATURES))
    write_model(tmp_path / "models", "direct", exported, ServingOptions())
    shm_before = _shm_regions()
    server = TritonServer(tmp_path / "models", tmp_path / "triton", startup_timeout_s=60)
    server.start()
    client = TritonClient(server.url)
    try:
        assert client.is_ready()
        client.load_model("direct")
        assert client.is_model_ready("direct")
        tree = server.process_tree()
        assert len(tree) >= 2, "the Python backend stub should run under tritonserver"
        x = frame[FEATURES].to_numpy(np.float32)[:64]
        out = client.infer("direct", x, input_name="input", outputs=["probabilities", "label"])
        local = onnx_probabilities(onnx_session(exported.onnx), exported, x)
        np.testing.assert_allclose(out["probabilities"], local, atol=1e-6)
        # Dynamic batching: the label comes back one [1]-shaped row per input row.
        assert out["label"].shape == (64, 1)
        np.testing.assert_array_equal(out["label"].reshape(-1), model.predict(frame[FEATURES].iloc[:64]))
        with pytest.raises(OperationFailed, match="could not load model 'missing'"):
            client.load_model("missing")
    finally:
        client.close()
        server.stop()
    assert _alive(tree) == []
    assert _shm_regions() <= shm_before
    server.stop()


@pytest.fixture(scope="module")
def deployed(ws: Workspace) -> DeploymentInfo:
    return ws.deployments.deploy("churn")


def test_deploy_end_to_end(ws: Workspace, deployed: DeploymentInfo) -> None:
    dep = deployed
    assert (dep.name, dep.model_version, dep.triton_model, dep.status) == ("churn", "1", "churn-v1", "ready")
    # No GPU here: ONNX Runtime on CPU, in Triton's onnxruntime or (bundled Triton) python backend.
    assert dep.runtime.startswith("onnxruntime-cpu")
    assert ws.deployments.get("churn").runtime == dep.runtime
    assert dep.feature_columns == FEATURES
    assert dep.feature_refs == [
        "customer_profile:monthly_charge",
        "customer_activity:txn_count_30d",
        "customer_activity:refunds_30d",
    ]
    assert dep.entity_keys == ["customer_id"]
    assert 0 <= dep.parity_max_abs_diff <= ws.config.serving.parity_tolerance
    assert dep.triton_url == ws.deployments.triton_url and dep.triton_url
    assert {"parity", "triton_start", "repository_and_load", "smoke_inference"} <= set(dep.stage_seconds)
    model_dir = ws.path(ws.config.serving.model_repository) / "churn-v1"
    assert (model_dir / "config.pbtxt").is_file()
    assert (model_dir / "1" / "model.onnx").is_file()
    assert (model_dir / "1" / "model.py").is_file()
    assert Path(dep.reference_path).is_file()
    assert [d.name for d in ws.deployments.list()] == ["churn"]
    assert ws.deployments.get("churn").artifact_sha256 == ws.registry.resolve("churn", "1").artifact_sha256


def test_predict_uses_online_features_and_logs(
    ws: Workspace, deployed: DeploymentInfo, frame: pd.DataFrame
) -> None:
    ids = [100_003, 100_001, 100_042]
    result = ws.deployments.predict("churn", [{"customer_id": i} for i in ids])
    assert [p["customer_id"] for p in result.predictions] == ids
    model = ws.registry.load_model(ws.registry.resolve("churn", "champion"))
    rows = frame.set_index("customer_id").loc[ids, FEATURES]
    expected = model.predict_proba(rows)[:, 1]
    got = np.array([p["probability"] for p in result.predictions])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert [p["prediction"] for p in result.predictions] == list(model.predict(rows))
    assert result.latency_ms > 0 and len(result.request_ids) == 3
    logged = ws.monitor.read_predictions("churn")
    assert set(result.request_ids) <= set(logged["request_id"])
    assert {"monthly_charge", "txn_count_30d", "refunds_30d"} <= set(logged.columns)


def test_predict_on_raw_feature_rows_matches_the_model_and_logs(
    ws: Workspace, deployed: DeploymentInfo, frame: pd.DataFrame
) -> None:
    rows = frame.set_index("customer_id").loc[[100_005, 100_006], FEATURES]
    payload = [{c: float(v) for c, v in r.items()} for r in rows.to_dict("records")]
    result = ws.deployments.predict("churn", rows=payload)
    model = ws.registry.load_model(ws.registry.resolve("churn", "champion"))
    got = np.array([p["probability"] for p in result.predictions])
    np.testing.assert_allclose(got, model.predict_proba(rows)[:, 1], atol=1e-5)
    ws.monitor.flush()
    logged = ws.monitor.read_predictions("churn").set_index("request_id")
    assert set(result.request_ids) <= set(logged.index)
    np.testing.assert_allclose(
        logged.loc[result.request_ids, "monthly_charge"].to_numpy(),
        rows["monthly_charge"].to_numpy(),
        rtol=1e-6,
    )


def test_concurrent_predicts_through_the_batching_model_match_the_model(
    ws: Workspace, deployed: DeploymentInfo, frame: pd.DataFrame
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    config = (
        ws.path(ws.config.serving.model_repository) / deployed.triton_model / "config.pbtxt"
    ).read_text()
    assert "dynamic_batching" in config
    groups = [[100_000 + 3 * i + k for k in range(1 + i % 3)] for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda ids: ws.deployments.predict("churn", [{"customer_id": i} for i in ids]), groups)
        )
    model = ws.registry.load_model(ws.registry.resolve("churn", deployed.model_version))
    for ids, result in zip(groups, results, strict=True):
        rows = frame.set_index("customer_id").loc[ids, FEATURES]
        assert [p["customer_id"] for p in result.predictions] == ids
        assert [p["prediction"] for p in result.predictions] == list(model.predict(rows))
        got = np.array([p["probability"] for p in result.predictions])
        np.testing.assert_allclose(got, model.predict_proba(rows)[:, 1], atol=1e-5)


def test_predict_larger_than_max_batch_size_is_split_and_kept_in_order(
    ws: Workspace, deployed: DeploymentInfo, frame: pd.DataFrame
) -> None:
    ids = list(range(101_000, 101_000 + 150))[::-1]  # more rows than max_batch_size (64), reversed
    result = ws.deployments.predict("churn", [{"customer_id": i} for i in ids])
    model = ws.registry.load_model(ws.registry.resolve("churn", deployed.model_version))
    rows = frame.set_index("customer_id").loc[ids, FEATURES]
    assert [p["customer_id"] for p in result.predictions] == ids
    assert [p["prediction"] for p in result.predictions] == list(model.predict(rows))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": [{"monthly_charge": 1.0}]}, r"rows\[0\] lacks txn_count_30d, refunds_30d"),
        (
            {"rows": [{"monthly_charge": 1.0, "txn_count_30d": 2, "refunds_30d": 0, "email": 3}]},
            r"rows\[0\] has unknown email",
        ),
        (
            {"rows": [{"monthly_charge": "1", "txn_count_30d": 2, "refunds_30d": 0}]},
            "must be a finite number",
        ),
        ({"rows": [{"monthly_charge": float("nan"), "txn_count_30d": 2, "refunds_30d": 0}]}, "finite number"),
        ({"rows": [{"monthly_charge": True, "txn_count_30d": 2, "refunds_30d": 0}]}, "finite number"),
        ({"rows": []}, "non-empty list"),
        ({}, "exactly one of 'entities'"),
        ({"entities": [{"customer_id": 100_001}], "rows": [{}]}, "exactly one of 'entities'"),
    ],
)
def test_bad_raw_rows_are_refused_and_nothing_is_logged(
    ws: Workspace, deployed: DeploymentInfo, kwargs: dict[str, Any], message: str
) -> None:
    ws.monitor.flush()
    before = len(ws.monitor.read_predictions("churn"))
    entities = kwargs.pop("entities", None)
    with pytest.raises(InvalidInput, match=message):
        ws.deployments.predict("churn", entities, **kwargs)
    ws.monitor.flush()
    assert len(ws.monitor.read_predictions("churn")) == before


def test_unknown_entity_is_not_found(ws: Workspace, deployed: DeploymentInfo) -> None:
    with pytest.raises(NotFound, match="entity customer_id=999 has no online features"):
        ws.deployments.predict("churn", [{"customer_id": 100_001}, {"customer_id": 999}])


def test_parity_failure_deploys_nothing(ws: Workspace) -> None:
    tolerance = ws.config.serving.parity_tolerance
    ws.config.serving.parity_tolerance = 1e-12  # float32 serving cannot match float64 sklearn this closely
    try:
        with pytest.raises(OperationFailed, match="parity check failed"):
            ws.deployments.deploy("churn", "champion", "strict")
    finally:
        ws.config.serving.parity_tolerance = tolerance
    assert "strict" not in [d.name for d in ws.deployments.list()]
    assert not list(ws.path(ws.config.serving.model_repository).glob("strict*"))


def test_tampered_artifact_deploys_nothing(ws: Workspace, frame: pd.DataFrame) -> None:
    info = _log(ws, frame, name="tampered")
    pickle = Path(info.source.removeprefix("file://")) / "model.pkl"
    pickle.write_bytes(pickle.read_bytes() + b"\x00")
    with pytest.raises(OperationFailed, match="integrity check"):
        ws.deployments.deploy("tampered")
    assert "tampered" not in [d.name for d in ws.deployments.list()]


def test_redeploy_swaps_versions(ws: Workspace, deployed: DeploymentInfo, frame: pd.DataFrame) -> None:
    v2 = _log(ws, frame, c=0.01)
    dep = ws.deployments.deploy("churn", v2.version)
    assert (dep.model_version, dep.triton_model) == ("2", "churn-v2")
    repo = ws.path(ws.config.serving.model_repository)
    assert not (repo / "churn-v1").exists()
    client = TritonClient(ws.deployments.triton_url or "")
    try:
        assert client.is_model_ready("churn-v2") and not client.is_model_ready("churn-v1")
    finally:
        client.close()
    assert ws.deployments.predict("churn", [{"customer_id": 100_000}]).model_version == "2"


def test_rollback_serves_the_previous_version(ws: Workspace, deployed: DeploymentInfo) -> None:
    from typer.testing import CliRunner

    from shipyard.cli.main import app

    seen: list[tuple[str, str]] = []
    dep = ws.deployments.rollback("churn", lambda stage, state, _s: seen.append((stage, state)))
    assert (dep.model_version, dep.triton_model) == ("1", "churn-v1")
    assert ("smoke_inference", "done") in seen
    client = TritonClient(ws.deployments.triton_url or "")
    try:
        assert client.is_model_ready("churn-v1") and not client.is_model_ready("churn-v2")
    finally:
        client.close()
    assert ws.deployments.predict("churn", [{"customer_id": 100_000}]).model_version == "1"
    with pytest.raises(Conflict, match="no earlier version"):
        ws.deployments.rollback("churn")
    out = CliRunner().invoke(app, ["deployments", "rollback", "nope", "-w", str(ws.root), "--json"])
    assert out.exit_code == 2 and "does not exist" in out.stdout


def test_close_then_ensure_serving_rebuilds(ws: Workspace, deployed: DeploymentInfo) -> None:
    server = ws.deployments.triton_server
    assert server is not None
    tree = server.process_tree()
    ws.deployments.close()
    ws.deployments.close()
    assert _alive(tree) == []
    assert ws.deployments.triton_url is None
    dep = ws.deployments.list()[0]
    repo = ws.path(ws.config.serving.model_repository)
    for path in sorted((repo / dep.triton_model).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (repo / dep.triton_model).rmdir()
    ws.deployments.ensure_serving()
    assert (repo / dep.triton_model / "1" / "model.onnx").is_file()
    assert ws.deployments.predict(dep.name, [{"customer_id": 100_002}]).predictions


def test_crashed_triton_fails_fast_then_is_restarted(ws: Workspace, deployed: DeploymentInfo) -> None:
    ws.deployments.predict("churn", [{"customer_id": 100_000}])
    server = ws.deployments.triton_server
    assert server is not None and server.pid is not None
    tree = server.process_tree()
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(EngineUnavailable, match="Triton stopped unexpectedly") as refused:
        ws.deployments.predict("churn", [{"customer_id": 100_001}])
    assert refused.value.detail["retry_after_s"] >= 1
    result = None
    deadline = time.monotonic() + 90
    while result is None and time.monotonic() < deadline:
        try:
            result = ws.deployments.predict("churn", [{"customer_id": 100_001}])
        except EngineUnavailable:
            time.sleep(0.2)
    assert result is not None and result.predictions
    assert ws.deployments.triton_server is not None and ws.deployments.triton_server.pid not in tree
    deadline = time.monotonic() + 10
    while _alive(tree) and time.monotonic() < deadline:  # orphaned stubs notice their server is gone
        time.sleep(0.1)
    assert _alive(tree) == []


def test_external_triton_url(ws: Workspace, deployed: DeploymentInfo, tmp_path: Path) -> None:
    repo = tmp_path / "external-models"
    external = TritonServer(repo, tmp_path / "external", startup_timeout_s=60)
    external.start()
    try:
        config = ws.config.model_copy(deep=True)
        config.serving.triton_url = external.url
        config.serving.model_repository = str(repo)
        other = Workspace(ws.root, config)
        other.__dict__["features"] = ws.features
        try:
            dep = other.deployments.deploy("churn", "champion", "ext")
            assert other.deployments.triton_server is None
            assert dep.triton_url == external.url
            # The bundled Triton has no ONNX Runtime backend: deploy fell back to the Python backend.
            assert 'backend: "python"' in (repo / dep.triton_model / "config.pbtxt").read_text()
            assert other.deployments.predict("ext", [{"customer_id": 100_005}]).predictions
            other.deployments.delete("ext")
        finally:
            other.close()
        assert external.is_alive(), "closing a workspace must not stop a Triton it did not start"
    finally:
        external.stop()


def test_workspace_close_leaves_no_triton_processes(ws: Workspace, deployed: DeploymentInfo) -> None:
    ws.deployments.predict("churn", [{"customer_id": 100_000}])  # make sure one is running
    ours = str(ws.root).encode()
    assert _tritons_of(ours) != [], "the filter must see this workspace's running Triton"
    ws.close()
    ws.close()
    assert _tritons_of(ours) == []


def _tritons_of(root: bytes) -> list[int]:
    # Only this workspace's Tritons count: session-scoped fixtures (e.g. the browser suite's lab server) may
    # legitimately keep their own running in this process tree.
    found = []
    for pid in processes.descendants(os.getpid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if (b"tritonserver" in cmd or b"triton_python_backend_stub" in cmd) and root in cmd:
            found.append(pid)
    return found
