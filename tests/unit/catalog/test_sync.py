"""`catalog sync` of deployments, monitor results and pipelines on a real store; sources fail in isolation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shipyard.errors import InvalidInput
from shipyard.monitor.alerts import MonitorState, save_json
from shipyard.store.models import Deployment
from shipyard.workspace import Workspace


def _deploy(ws: Workspace, name: str, version: str = "3") -> None:
    with ws.store.session() as s:
        s.add(
            Deployment(
                project=ws.project,
                name=name,
                model_name="churn",
                model_version=version,
                model_uri=f"models:/churn/{version}",
                triton_model=f"{name}_v{version}",
                feature_refs=["customer_profile:monthly_charge"],
                entity_keys=["customer_id"],
            )
        )


def _monitor(ws: Workspace, name: str) -> None:
    state = MonitorState(
        last_ts=datetime(2024, 6, 1, tzinfo=UTC),
        windows=[{"drifted": ["monthly_charge"], "latency": {"p95_ms": 12.5}, "rows": 1000}],
        open_alerts=["drift:monthly_charge"],
    )
    save_json(ws.monitor.monitor_dir(name) / "state.json", state)


def test_deployments_and_monitor_results_sync_with_lineage_and_stale_removal(workspace: Workspace) -> None:
    _deploy(workspace, "churn-prod")
    _deploy(workspace, "churn-canary", "4")
    _monitor(workspace, "churn-prod")
    report = workspace.catalog.sync(["deployments", "monitor"])
    assert report.ok and [(r.source, r.status, r.assets) for r in report.sources] == [
        ("deployments", "ok", 2),
        ("monitor", "ok", 1),
    ]
    result = workspace.catalog.get("monitor_result", "churn-prod")
    assert "monthly_charge" in result.description and result.freshness == datetime(2024, 6, 1, tzinfo=UTC)
    up = workspace.catalog.lineage("monitor_result", "churn-prod", direction="up")
    assert [(e.dst_kind, e.dst_name, e.relation) for e in up] == [
        ("deployment", "churn-prod", "monitors"),
        ("model_version", "churn@3", "serves"),
    ]
    with workspace.store.session() as s:
        s.query(Deployment).filter_by(name="churn-canary").delete()
    again = workspace.catalog.sync(["deployments"])
    assert again.sources[0].removed == 1
    assert [a.name for a in workspace.catalog.list(kinds=["deployment"])] == ["churn-prod"]
    assert [t.name for t in workspace.catalog.removed_since(None)] == ["churn-canary"]


def test_one_failing_source_does_not_stop_the_others(workspace: Workspace) -> None:
    _deploy(workspace, "churn-prod")
    broken = workspace.root / "pipelines" / "train"
    broken.mkdir(parents=True)
    (broken / "pipeline.json").write_text("{not json")
    report = workspace.catalog.sync()
    status = {r.source: r.status for r in report.sources}
    assert status == {
        "feast": "skipped",
        "mlflow": "skipped",
        "pipelines": "failed",
        "deployments": "ok",
        "monitor": "ok",
    }
    assert not report.ok
    failed = next(r for r in report.sources if r.source == "pipelines")
    assert "pipeline.json" in failed.message
    assert workspace.catalog.get("deployment", "churn-prod").attributes["model_version"] == "3"


def test_unknown_source_is_refused(workspace: Workspace) -> None:
    with pytest.raises(InvalidInput, match="unknown sync source 'kafka'"):
        workspace.catalog.sync(["kafka"])
