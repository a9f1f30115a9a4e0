"""`catalog sync` against real Feast (local provider) and real MLflow (SQLite) in the churn example workspace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.examples.churn import create_example_workspace
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn" / "catalog.jsonl"
FEATURES = ["monthly_charge", "txn_count_30d"]
REFS = ["customer_profile:monthly_charge", "customer_activity:txn_count_30d"]


@pytest.fixture(scope="module")
def ws(
    tmp_path_factory: pytest.TempPathFactory, synthetic_churn_frame: Callable[..., pd.DataFrame]
) -> Iterator[Workspace]:
    root = create_example_workspace(tmp_path_factory.mktemp("catalog") / "ws", customers=300)
    workspace = Workspace(
        root,
        Workspace.open(root).config,
        run_context={
            "pipeline": "train",
            "run_id": "run-1",
            "step": "fit",
            "notebook_path": "notebooks/train.ipynb",
        },
    )
    workspace.catalog.register_file(EXAMPLE)
    workspace.features.apply()
    workspace.pipelines.promote(Path("notebooks/train.ipynb"), name="train")
    frame = synthetic_churn_frame(400)
    workspace.registry.log_model(
        LogisticRegression(max_iter=200).fit(frame[FEATURES], frame["churned"]),
        name="churn",
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=REFS,
        metrics={"auc": 0.81},
        params={"C": 1.0},
    )
    report = workspace.catalog.sync()
    assert report.ok, report
    yield workspace
    workspace.close()


def test_every_source_synced(ws: Workspace) -> None:
    report = ws.catalog.sync()
    assert {r.source: r.status for r in report.sources} == dict.fromkeys(
        ["feast", "mlflow", "pipelines", "deployments", "monitor"], "ok"
    )
    kinds = {a.kind for a in ws.catalog.list()}
    assert kinds >= {
        "table",
        "column",
        "dataset",
        "feature_view",
        "feature",
        "experiment",
        "run",
        "model",
        "model_version",
        "pipeline",
    }


def test_mlflow_runs_models_versions_and_aliases(ws: Workspace) -> None:
    version = ws.catalog.get("model_version", "churn@1")
    assert version.attributes["aliases"] == ["champion"] and "alias:champion" in version.tags
    assert version.attributes["metrics"]["auc"] == pytest.approx(0.81)
    assert version.attributes["lineage_tags"]["shipyard.pipeline"] == "train"
    run = ws.catalog.get("run", version.attributes["run_id"])
    assert run.attributes["params"]["C"] == "1.0" and run.attributes["experiment"] == "churn"
    assert ws.catalog.get("model", "churn").attributes["aliases"] == {"champion": "1"}
    up = {
        (e.dst_kind, e.dst_name, e.relation)
        for e in ws.catalog.lineage("model_version", "churn@1", direction="up", depth=1)
    }
    assert up >= {
        ("model", "churn", "version_of"),
        ("feature", REFS[0], "uses"),
        ("pipeline", "train", "trained_by"),
    }


def test_features_derive_from_their_source_tables(ws: Workspace) -> None:
    edges = ws.catalog.lineage("model", "churn", direction="up", depth=3)
    found = {(e.src_kind, e.src_name, e.dst_kind, e.dst_name, e.relation) for e in edges}
    # The example catalog documents the snapshot file the view reads, so the edge lands on that table.
    assert ("feature", REFS[0], "table", "churn.customer_profile_snapshots", "derived_from") in found
    assert not [a for a in ws.catalog.list(kinds=["table"]) if a.name.endswith("_source")]
    activity = ws.catalog.lineage("feature", REFS[1], direction="up", depth=3)
    assert ("churn.customer_activity_snapshots", "sales.transactions_clean") in {
        (e.src_name, e.dst_name) for e in activity
    }


def test_an_undocumented_feast_source_becomes_a_table(ws: Workspace) -> None:
    ws.catalog.remove("table", "churn.customer_profile_snapshots")
    try:
        assert ws.catalog.sync(["feast"]).ok
        table = ws.catalog.get("table", "customer_profile_source")
        assert {c["name"] for c in table.columns} >= {"customer_id", "monthly_charge"}
        assert table.freshness is not None and "feast-source" in table.tags
        up = ws.catalog.lineage("feature", REFS[0], direction="up", depth=1)
        assert ("table", "customer_profile_source") in {(e.dst_kind, e.dst_name) for e in up}
    finally:
        ws.catalog.register_file(EXAMPLE)
        assert ws.catalog.sync(["feast"]).ok
    assert ws.catalog.removed_since(None) and not [
        a for a in ws.catalog.list(kinds=["table"]) if a.name == "customer_profile_source"
    ]
    assert ws.catalog.lineage("pipeline", "train", direction="up")[0].dst_name == "notebooks/train.ipynb"


def test_resync_is_idempotent_and_keeps_people_written_assets(ws: Workspace) -> None:
    before = {(a.kind, a.name): a.updated_at for a in ws.catalog.list()}
    report = ws.catalog.sync()
    assert all(r.removed == 0 for r in report.sources)
    after = {(a.kind, a.name): a.updated_at for a in ws.catalog.list()}
    assert after == before  # nothing changed, so nothing is re-indexed
    assert ws.catalog.get("table", "sales.transactions_clean").owner == "payments"
