"""Structured questions on real MLflow (runs by metric) and catalog monitor results (drift rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture()
def runs(workspace: Any) -> dict[str, str]:
    client = workspace.registry.client
    ids: dict[str, str] = {}
    for exp_name, approaches in [
        ("churn-2024q1", {"baseline": 0.71, "rfm": 0.78}),
        ("churn-2024q2", {"rfm": 0.80, "embeddings": 0.83}),
        ("churn-2024q3", {"embeddings": 0.81, "baseline": 0.70}),
        ("fraud-v1", {"graph": 0.99}),
    ]:
        exp = client.create_experiment(exp_name)
        for approach, auc in approaches.items():
            run = client.create_run(exp, run_name=f"{exp_name}-{approach}")
            client.log_param(run.info.run_id, "feature_engineering", approach)
            client.log_metric(run.info.run_id, "auc", auc)
            client.set_terminated(run.info.run_id)
            ids[f"{exp_name}-{approach}"] = run.info.run_id
    return ids


def test_best_run_in_experiment_queries_mlflow(workspace: Any, runs: dict[str, str]) -> None:
    from shipyard.copilot.service import copilot_for

    answer = copilot_for(workspace).ask("Which run had the highest AUC in experiment churn-2024q2?")
    assert answer.citations[0].kind == "run" and answer.citations[0].name == runs["churn-2024q2-embeddings"]
    assert "0.83" in answer.answer and "intent:best_run" in answer.flags
    lowest = copilot_for(workspace).ask("which run had the lowest auc in experiment churn-2024q1")
    assert lowest.citations[0].name == runs["churn-2024q1-baseline"]
    missing = copilot_for(workspace).ask("which run had the highest auc in experiment nope")
    assert missing.citations == [] and "no experiment named 'nope'" in missing.answer


def test_best_approach_across_last_three_churn_experiments(workspace: Any, runs: dict[str, str]) -> None:
    from shipyard.copilot.service import copilot_for

    answer = copilot_for(workspace).ask(
        "What was the best feature engineering approach on the last three churn projects?"
    )
    assert "feature_engineering=embeddings" in answer.answer.splitlines()[0]
    assert answer.citations[0].name == runs["churn-2024q2-embeddings"]
    assert runs["fraud-v1-graph"] not in {c.name for c in answer.citations}
    assert {c.name for c in answer.citations} == {
        runs["churn-2024q2-embeddings"],
        runs["churn-2024q2-rfm"],
        runs["churn-2024q1-baseline"],
    }


@pytest.mark.parametrize(("project", "visible"), [("test", True), ("other", False)])
def test_drift_in_project_cites_monitor_rows(workspace: Any, project: str, visible: bool) -> None:
    from shipyard.copilot.service import copilot_for

    cat = workspace.catalog
    now = datetime.now(UTC)
    cat.upsert(
        "monitor_result",
        "churn-prod",
        project=project,
        description="drift in tenure",
        attributes={"drifted": ["tenure_months"], "model_version": "churn@3"},
        freshness=now,
    )
    cat.upsert(
        "monitor_result",
        "ltv-prod",
        project=project,
        description="no drift",
        attributes={"drifted": [], "model_version": "ltv@1"},
        freshness=now - timedelta(days=2),
    )
    cat.upsert(
        "monitor_result",
        "old-prod",
        project=project,
        description="old",
        attributes={"drifted": ["x"]},
        freshness=now - timedelta(days=200),
    )
    answer = copilot_for(workspace).ask(
        f"show drift for models deployed in project {project} in the last 90 days"
    )
    if not visible:
        assert answer.citations == [] and "not one you can read" in answer.answer
        return
    assert [c.name for c in answer.citations] == ["churn-prod", "ltv-prod"]
    assert "drift in tenure_months" in answer.answer and "old-prod" not in answer.answer
