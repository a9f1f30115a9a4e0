"""XGBoost and PyTorch models go registry -> ONNX -> parity -> real Triton, and predictions also flow over gRPC.

Feature lookup is a fake_features stand-in (as in test_triton_serving.py) so this file tests serving alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.gpu_runtime.torch_model import TorchClassifier
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

FEATURES = ["monthly_charge", "txn_count_30d", "refunds_30d"]
REFS = ["customer_profile:monthly_charge", "customer_activity:txn_count_30d", "customer_activity:refunds_30d"]
IDS = [100_003, 100_001, 100_042, 100_007]


def _xgboost(frame: pd.DataFrame) -> Any:
    import xgboost

    return xgboost.XGBClassifier(n_estimators=15, max_depth=3).fit(frame[FEATURES], frame["churned"])


def _torch(frame: pd.DataFrame) -> Any:
    import torch

    torch.manual_seed(0)
    raw = torch.tensor(frame[FEATURES].to_numpy(np.float32))
    mean, std = raw.mean(0), raw.std(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    target = torch.tensor(frame["churned"].to_numpy())
    for _ in range(60):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net((raw - mean) / std), target).backward()
        optimizer.step()

    class Standardized(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.mean: torch.Tensor = mean
            self.std: torch.Tensor = std

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net((x - self.mean) / self.std)

    return TorchClassifier(Standardized(), n_features=len(FEATURES))


@pytest.fixture(scope="module")
def frame(synthetic_churn_frame: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return synthetic_churn_frame(800)


@pytest.fixture(scope="module")
def ws(
    serving_workspace: Callable[[str, pd.DataFrame], Workspace], frame: pd.DataFrame
) -> Iterator[Workspace]:
    w = serving_workspace("flavors-ws", frame)
    yield w
    w.close()


@pytest.mark.parametrize(
    ("build", "name"), [(_xgboost, "churn-xgb"), (_torch, "churn-torch")], ids=["xgboost", "pytorch"]
)
def test_flavor_deploys_on_triton_and_predicts_like_the_model(
    ws: Workspace, frame: pd.DataFrame, build: Callable[[pd.DataFrame], Any], name: str
) -> None:
    model = build(frame)
    ws.registry.log_model(
        model,
        name=name,
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=REFS,
        metrics={"auc": 0.8},
        params={},
    )
    dep = ws.deployments.deploy(name)
    assert dep.status == "ready" and dep.runtime.startswith("onnxruntime-cpu")
    assert 0 <= dep.parity_max_abs_diff <= ws.config.serving.parity_tolerance
    result = ws.deployments.predict(name, [{"customer_id": i} for i in IDS])
    rows = frame.set_index("customer_id").loc[IDS, FEATURES]
    expected = model.predict_proba(rows)[:, 1]
    np.testing.assert_allclose([p["probability"] for p in result.predictions], expected, atol=1e-5)
    assert [p["prediction"] for p in result.predictions] == [int(v) for v in model.predict(rows)]


def test_grpc_protocol_serves_the_same_predictions(ws: Workspace) -> None:
    from shipyard.gpu_runtime.triton_grpc_client import TritonGrpcClient

    names = [d.name for d in ws.deployments.list()]
    assert names, "the flavor tests deploy first"
    over_http = {n: ws.deployments.predict(n, [{"customer_id": i} for i in IDS]).predictions for n in names}
    ws.deployments.close()
    ws.config.serving.protocol = "grpc"
    try:
        over_grpc = {
            n: ws.deployments.predict(n, [{"customer_id": i} for i in IDS]).predictions for n in names
        }
        assert isinstance(ws.deployments._supervisor.client(), TritonGrpcClient)
    finally:
        ws.deployments.close()
        ws.config.serving.protocol = "http"
    for n in names:
        np.testing.assert_allclose(
            [p["probability"] for p in over_grpc[n]], [p["probability"] for p in over_http[n]], atol=1e-7
        )


def test_cli_deploy_shows_stages_on_stderr_and_json_on_stdout(ws: Workspace) -> None:
    import json

    from typer.testing import CliRunner

    from shipyard.cli.main import app

    result = CliRunner().invoke(
        app, ["deploy", "churn-xgb@1", "--name", "xgb-cli", "-w", str(ws.root), "--json"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["name"], body["model_version"], body["status"]) == ("xgb-cli", "1", "ready")
    for stage in ("resolve", "parity", "repository and load", "smoke inference", "record"):
        assert f"{stage}: done" in result.stderr
    bad = CliRunner().invoke(app, ["deploy", "churn-xgb@9", "-w", str(ws.root), "--json"])
    assert bad.exit_code == 2 and "resolve: failed" in bad.stderr
    assert json.loads(bad.stdout)["error"]["code"] == "not_found"
