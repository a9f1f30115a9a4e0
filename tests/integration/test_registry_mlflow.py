"""RegistryService against a real MLflow (SQLite backend, local artifacts) in a temporary workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from shipyard.config import default_toml
from shipyard.errors import InvalidInput, NotFound, OperationFailed
from shipyard.registry import lineage
from shipyard.registry.models import ModelVersionInfo
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

FEATURES = ["monthly_charge", "txn_count_30d", "refunds_30d"]
REFS = ["customer_profile:monthly_charge", "customer_activity:txn_count_30d", "customer_activity:refunds_30d"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("registry-ws")
    (root / "shipyard.toml").write_text(default_toml("churn"))
    w = Workspace(
        root,
        Workspace.open(root).config,
        run_context={"pipeline": "train", "run_id": "run-42", "step": "fit", "notebook_sha256": "ab" * 32},
    )
    yield w
    w.close()


@pytest.fixture(scope="module")
def frame(synthetic_churn_frame: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    return synthetic_churn_frame(6000)


@pytest.fixture(scope="module")
def v1(ws: Workspace, frame: pd.DataFrame) -> ModelVersionInfo:
    model = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame["churned"])
    return ws.registry.log_model(
        model,
        name="churn",
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=REFS,
        metrics={"auc": 0.81, "f1": 0.55},
        params={"C": 1.0, "max_iter": 500},
    )


def test_log_model_registers_with_lineage(ws: Workspace, frame: pd.DataFrame, v1: ModelVersionInfo) -> None:
    assert (v1.name, v1.version, v1.aliases) == ("churn", "1", ["champion"])
    assert v1.model_uri == "models:/churn/1"
    assert v1.feature_columns == FEATURES and v1.feature_refs == REFS
    assert v1.entity_keys == ["customer_id"] and v1.target == "churned"
    assert v1.metrics == {"auc": 0.81, "f1": 0.55}
    assert v1.lineage == {
        lineage.TAG_NOTEBOOK: "ab" * 32,
        lineage.TAG_NOTEBOOK_PATH: lineage.UNKNOWN,
        lineage.TAG_FRAME: lineage.sha256_frame(frame),
        lineage.TAG_CONFIG: lineage.sha256_file(ws.root / "shipyard.toml"),
        lineage.TAG_PIPELINE_RUN: "run-42",
        lineage.TAG_PIPELINE: "train",
        lineage.TAG_STEP: "fit",
    }
    assert len(v1.artifact_sha256) == 64


def test_state_lives_in_the_workspace(ws: Workspace, v1: ModelVersionInfo) -> None:
    assert ws.registry.tracking_uri == f"sqlite:///{ws.state_dir / 'mlflow.db'}"
    assert (ws.state_dir / "mlflow.db").is_file()
    model_dir = Path(v1.source.removeprefix("file://"))
    assert model_dir.is_relative_to(ws.state_dir / "mlartifacts")
    assert lineage.sha256_tree(model_dir) == v1.artifact_sha256


def test_run_carries_lineage_params_and_metrics(ws: Workspace, v1: ModelVersionInfo) -> None:
    run = ws.registry.client.get_run(v1.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"C": "1.0", "max_iter": "500"}
    assert run.data.tags[lineage.TAG_PIPELINE_RUN] == "run-42"
    assert run.data.tags[lineage.TAG_FRAME] == v1.tags[lineage.TAG_FRAME]
    experiment = ws.registry.client.get_experiment(run.info.experiment_id)
    assert experiment.name == "churn"


def test_load_model_round_trips(ws: Workspace, frame: pd.DataFrame, v1: ModelVersionInfo) -> None:
    loaded = ws.registry.load_model(ws.registry.resolve("churn", "champion"))
    original = LogisticRegression(max_iter=500).fit(frame[FEATURES], frame["churned"])
    np.testing.assert_allclose(loaded.predict_proba(frame[FEATURES]), original.predict_proba(frame[FEATURES]))


def test_reference_sample_is_capped_and_complete(
    ws: Workspace, frame: pd.DataFrame, v1: ModelVersionInfo
) -> None:
    reference = ws.registry.load_reference(v1)
    assert list(reference.columns) == [*FEATURES, "churned"]
    assert len(reference) == 5000
    exported = ws.registry.export_reference(v1, ws.state_dir / "tmp" / "ref.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(exported), reference)


def test_new_version_moves_the_alias_and_listing_shows_both(
    ws: Workspace, v1: ModelVersionInfo, synthetic_churn_frame: Callable[..., pd.DataFrame]
) -> None:
    frame = synthetic_churn_frame(500, seed=1)
    forest = RandomForestClassifier(n_estimators=10, max_depth=4, random_state=0)
    forest.fit(frame[FEATURES], frame["churned"])
    v2 = ws.registry.log_model(
        forest,
        name="churn",
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=REFS,
        metrics={"auc": 0.7},
        params={},
        alias="challenger",
    )
    assert (v2.version, v2.aliases) == ("2", ["challenger"])
    assert ws.registry.resolve("churn", "latest").version == "2"
    assert ws.registry.resolve("churn", "1").aliases == ["champion"]
    listed = {(m.name, m.version): m.aliases for m in ws.registry.list_models()}
    assert listed == {("churn", "2"): ["challenger"], ("churn", "1"): ["champion"]}
    assert len(ws.registry.load_reference(v2)) == 500


def test_without_alias(
    ws: Workspace, v1: ModelVersionInfo, synthetic_churn_frame: Callable[..., pd.DataFrame]
) -> None:
    frame = synthetic_churn_frame(200, seed=2)
    model = LogisticRegression().fit(frame[FEATURES], frame["churned"])
    info = ws.registry.log_model(
        model,
        name="scratch",
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=[],
        metrics={},
        params={},
        alias=None,
        entity_keys=["customer_id"],
    )
    assert info.aliases == [] and info.feature_refs == []
    assert info.entity_keys == ["customer_id"]


@pytest.mark.parametrize(
    ("name", "ref", "error", "message"),
    [
        ("nope", "champion", NotFound, "model 'nope' is not registered .*registered models: churn"),
        ("churn", "gold", NotFound, "no version or alias 'gold'; aliases: .*champion->v1"),
        ("churn", "99", NotFound, "no version or alias '99'.*versions: 1, 2"),
        ("churn", " ", InvalidInput, "reference for 'churn' is empty"),
        ("bad name", "1", InvalidInput, "model name"),
    ],
)
def test_resolve_errors(
    ws: Workspace, v1: ModelVersionInfo, name: str, ref: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        ws.registry.resolve(name, ref)


def _tamper(path: Path) -> bytes:
    original = path.read_bytes()
    path.write_bytes(original + b"\x00")
    return original


def test_tampered_model_is_refused(ws: Workspace, v1: ModelVersionInfo) -> None:
    pickle = Path(v1.source.removeprefix("file://")) / "model.pkl"
    original = _tamper(pickle)
    try:
        with pytest.raises(OperationFailed, match="model churn v1 failed its integrity check"):
            ws.registry.load_model(v1)
    finally:
        pickle.write_bytes(original)
    ws.registry.load_model(v1)


def test_tampered_reference_is_refused(ws: Workspace, v1: ModelVersionInfo) -> None:
    path = Path(v1.reference_uri.removeprefix("file://"))
    original = _tamper(path)
    try:
        with pytest.raises(OperationFailed, match="reference sample of model churn v1 failed its integrity"):
            ws.registry.load_reference(v1)
    finally:
        path.write_bytes(original)


def test_versions_without_shipyard_hashes_are_refused(ws: Workspace, v1: ModelVersionInfo) -> None:
    client = ws.registry.client
    client.create_registered_model("foreign")
    client.create_model_version("foreign", source=v1.source, run_id=v1.run_id)
    info = ws.registry.resolve("foreign", "1")
    with pytest.raises(OperationFailed, match="no recorded sha256"):
        ws.registry.load_model(info)


_OPEN_AT_ONCE = """
import sys, time
from shipyard.workspace import Workspace

root, start = sys.argv[1], float(sys.argv[2])
registry = Workspace.open(root).registry
while time.time() < start:
    time.sleep(0.001)
print(registry.experiment_id)
"""


def test_processes_opening_a_fresh_workspace_at_once_all_get_mlflow(tmp_path: Path) -> None:
    """MLflow migrates a new SQLite file on first use; without the lock all but one opener failed."""
    import subprocess
    import sys
    import time

    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipyard.toml").write_text(default_toml("race"))
    start = time.time() + 3  # every process is imported and waiting by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN_AT_ONCE, str(root), str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-600:] for _, err in outs]
    # One experiment for the project, whichever process created it.
    assert len({out.strip() for out, _ in outs}) == 1
