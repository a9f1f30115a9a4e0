"""Structured questions answered by a query, not by retrieval: MLflow runs and monitor results.

Three intents, matched by patterns on the question; anything else falls through to retrieval:
- best run in an experiment by a metric ("which run had the highest AUC in experiment churn-baseline"),
- best approach across the last N experiments on a topic ("best feature engineering approach on the last
  three churn projects"): runs compared across experiments by a metric, grouped by their approach param,
- drift of deployments in a project over the last N days (catalog ``monitor_result`` assets).
Rows are cited (runs by run id, monitor results by deployment), as the catalog names them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from shipyard.copilot.answer import Answer, Citation

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

_NUMBERS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_LOW = ("lowest", "min", "minimum", "smallest", "worst")
BEST_RUN = re.compile(
    r"\b(?:which|what)\s+run\b.*?\b(highest|best|top|max(?:imum)?|largest|lowest|min(?:imum)?|smallest)\s+"
    r"([\w.@/-]+)\s+in\s+(?:the\s+)?experiment\s+[\"'`]?([\w./@ -]+?)[\"'`]?\s*\??$",
    re.IGNORECASE,
)
BEST_APPROACH = re.compile(
    r"\bbest\b.*?\bapproach\b.*?\blast\s+(\d+|\w+)\s+([\w-]+)\s+(?:projects|experiments)"
    r"(?:.*?\bby\s+([\w.@/-]+))?",
    re.IGNORECASE,
)
DRIFT = re.compile(
    r"\bdrift\b.*?\bproject\s+[\"'`]?([\w.-]+)[\"'`]?(?:.*?\blast\s+(\d+)\s+days)?", re.IGNORECASE
)
APPROACH_PARAMS = ("feature_engineering", "fe_approach", "approach", "features", "feature_set")


def answer_structured(ws: Workspace, question: str, projects: list[str]) -> Answer | None:
    """An answer from a query when the question is one of the known intents, else None."""
    if m := BEST_RUN.search(question):
        return best_run(ws, m.group(3).strip(), m.group(2), m.group(1).lower() not in _LOW, projects)
    if m := BEST_APPROACH.search(question):
        raw = m.group(1).lower()
        count = int(raw) if raw.isdigit() else _NUMBERS.get(raw, 3)
        return best_approach(ws, m.group(2), count, m.group(3) or "auc", projects)
    if m := DRIFT.search(question):
        return drift(ws, m.group(1), int(m.group(2) or 90), projects)
    return None


def _run_citation(run: Any, metric: str, experiment: str) -> Citation:
    value = run.data.metrics.get(metric)
    return Citation(
        "run",
        run.info.run_id,
        None,
        round(float(value), 6) if value is not None else 0.0,
        f"{run.info.run_name or run.info.run_id} in {experiment}: {metric}={value}",
    )


def _metric_key(runs: list[Any], metric: str) -> str:
    """The metric's name as logged ("AUC" in a question finds "auc")."""
    for run in runs:
        for key in run.data.metrics:
            if key.lower() == metric.lower():
                return str(key)
    return metric


def _by_metric(runs: list[Any], metric: str) -> list[Any]:
    """Runs that logged ``metric`` (any case), highest first."""
    key = _metric_key(runs, metric)
    logged = [r for r in runs if key in r.data.metrics]
    return sorted(logged, key=lambda r: -float(r.data.metrics[key]))


def _visible(ws: Workspace, projects: list[str]) -> bool:
    # MLflow experiments belong to the workspace's project; other projects' callers don't see them.
    return ws.project in projects


def best_run(ws: Workspace, experiment: str, metric: str, highest: bool, projects: list[str]) -> Answer:
    """The run of ``experiment`` with the highest (or lowest) ``metric``, and the runners-up."""
    exp = ws.registry.client.get_experiment_by_name(experiment) if _visible(ws, projects) else None
    if exp is None:
        return Answer(
            f"There is no experiment named '{experiment}' in the projects you can read.",
            [],
            {},
            ["intent:best_run"],
        )
    runs = _by_metric(ws.registry.client.search_runs([exp.experiment_id], max_results=1000), metric)
    metric = _metric_key(runs, metric)
    runs = (runs if highest else runs[::-1])[:5]
    if not runs:
        return Answer(
            f"No run of experiment '{experiment}' logged the metric '{metric}'.", [], {}, ["intent:best_run"]
        )
    top = runs[0]
    lines = [
        f"Run {top.info.run_name or top.info.run_id} (id {top.info.run_id}) has the "
        f"{'highest' if highest else 'lowest'} {metric} in experiment '{experiment}': "
        f"{top.data.metrics[metric]:.4g}.",
        *(f"- {r.info.run_name or r.info.run_id}: {metric}={r.data.metrics[metric]:.4g}" for r in runs[1:]),
        f"Load its model: mlflow.pyfunc.load_model('runs:/{top.info.run_id}/model')",
    ]
    return Answer(
        "\n".join(lines), [_run_citation(r, metric, experiment) for r in runs], {}, ["intent:best_run"]
    )


def best_approach(ws: Workspace, topic: str, count: int, metric: str, projects: list[str]) -> Answer:
    """Across the last ``count`` experiments about ``topic``, the approach whose best run scores highest."""
    client = ws.registry.client
    experiments = [e for e in client.search_experiments() if topic.lower() in e.name.lower()]
    experiments = sorted(experiments, key=lambda e: e.creation_time or 0, reverse=True)[:count]
    if not experiments or not _visible(ws, projects):
        return Answer(
            f"No experiments about '{topic}' in the projects you can read.", [], {}, ["intent:best_approach"]
        )
    names = {e.experiment_id: e.name for e in experiments}
    runs = _by_metric(client.search_runs(list(names), max_results=1000), metric)
    metric = _metric_key(runs, metric)
    best: dict[str, Any] = {}
    for run in runs:
        approach = next(
            (f"{k}={run.data.params[k]}" for k in APPROACH_PARAMS if k in run.data.params), "unlabelled"
        )
        best.setdefault(approach, run)
    if not best:
        return Answer(
            f"No run in {', '.join(names.values())} logged '{metric}'.", [], {}, ["intent:best_approach"]
        )
    ranked = sorted(best.items(), key=lambda kv: -kv[1].data.metrics[metric])
    lines = [
        f"Across the last {len(experiments)} {topic} experiments ({', '.join(names.values())}), the best "
        f"approach by {metric} is {ranked[0][0]} ({metric}={ranked[0][1].data.metrics[metric]:.4g}).",
        *(
            f"- {a}: best {metric}={r.data.metrics[metric]:.4g} (run {r.info.run_name or r.info.run_id}, "
            f"{names[r.info.experiment_id]})"
            for a, r in ranked
        ),
    ]
    cites = [_run_citation(r, metric, names[r.info.experiment_id]) for _, r in ranked]
    return Answer("\n".join(lines), cites, {}, ["intent:best_approach"])


def drift(ws: Workspace, project: str, days: int, projects: list[str]) -> Answer:
    """Monitor results of ``project``'s deployments updated in the last ``days`` days, drifted first."""
    if project not in projects:
        return Answer(
            f"Project '{project}' is not one you can read; nothing to report.", [], {}, ["intent:drift"]
        )
    since = datetime.now(UTC) - timedelta(days=days)
    rows = []
    for asset in ws.catalog.list(["monitor_result"], project=project):
        when = asset.freshness or asset.updated_at
        if when is not None and when >= since:
            rows.append((asset, list(asset.attributes.get("drifted") or [])))
    if not rows:
        return Answer(
            f"No monitoring results for deployments in project '{project}' in the last {days} days.",
            [],
            {},
            ["intent:drift"],
        )
    rows.sort(key=lambda r: (-len(r[1]), r[0].name))
    lines = [f"Drift for deployments in project '{project}' over the last {days} days:"]
    for asset, drifted in rows:
        state = f"drift in {', '.join(drifted)}" if drifted else "no drift"
        lines.append(f"- {asset.name} ({asset.attributes.get('model_version', '?')}): {state}")
    cites = [
        Citation("monitor_result", a.name, None, float(len(d)), a.description[:200], a.project)
        for a, d in rows
    ]
    return Answer("\n".join(lines), cites, {}, ["intent:drift"])
