"""The route policy table: (method, path template) -> action, how the project is found, whether audited.

One dependency applies it to every route (``shipyard.server.auth.enforce_policy``); a route missing here is
refused, and ``tests/security/test_route_matrix.py`` fails, until it gets an entry. Add the entries of a new
router next to the others (one line per route).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import select

from shipyard.store.db import MetadataStore
from shipyard.store.models import Deployment, PipelineRun

V1 = "/api/v1"


@dataclass(frozen=True)
class RoutePolicy:
    """What a route does (``action``), where its project comes from, and whether it is audited."""

    action: str
    project_from: str = "workspace"  # workspace | deployment:<param> | run:<param>
    audit: bool = False

    @property
    def hide(self) -> bool:
        """Routes naming a resource answer 404 to non-members, so ids cannot be probed."""
        return self.project_from != "workspace"


def _read(action: str, project_from: str = "workspace") -> RoutePolicy:
    return RoutePolicy(action, project_from)


def _change(action: str, project_from: str = "workspace") -> RoutePolicy:
    return RoutePolicy(action, project_from, audit=True)


_DEP = "deployment:name"
ROUTE_POLICIES: dict[tuple[str, str], RoutePolicy] = {
    ("GET", f"{V1}/health"): RoutePolicy("public"),
    ("GET", f"{V1}/whoami"): _read("project.read"),
    # features
    ("GET", f"{V1}/features/views"): _read("features.read"),
    ("GET", f"{V1}/features/search"): _read("features.read"),
    ("GET", f"{V1}/features/views/{{name}}"): _read("features.read"),
    ("POST", f"{V1}/features/define"): _change("features.define"),
    ("POST", f"{V1}/features/apply"): _change("features.apply"),
    ("POST", f"{V1}/features/materialize"): _change("features.materialize"),
    ("POST", f"{V1}/features/online"): _read("features.read_online"),
    # pipelines
    ("GET", f"{V1}/pipelines"): _read("pipelines.read"),
    ("POST", f"{V1}/pipelines:promote"): _change("pipelines.promote"),
    ("POST", f"{V1}/pipelines/promote"): _change("pipelines.promote"),
    ("GET", f"{V1}/pipelines/runs/{{run_id}}"): _read("pipelines.read", "run:run_id"),
    ("GET", f"{V1}/pipelines/{{name}}"): _read("pipelines.read"),
    ("GET", f"{V1}/pipelines/{{name}}/runs"): _read("pipelines.read"),
    ("POST", f"{V1}/pipelines/{{name}}/runs"): _change("pipelines.run"),
    # models
    ("GET", f"{V1}/models"): _read("models.read"),
    ("GET", f"{V1}/models/{{name}}/{{ref}}"): _read("models.read"),
    ("POST", f"{V1}/models/{{name}}/promote"): _change("models.promote"),
    # deployments
    ("GET", f"{V1}/deployments"): _read("deployments.read"),
    ("POST", f"{V1}/deployments"): _change("deployments.deploy"),
    ("GET", f"{V1}/deployments/{{name}}"): _read("deployments.read", _DEP),
    ("POST", f"{V1}/deployments/{{name}}/predict"): _read("deployments.predict", _DEP),
    ("POST", f"{V1}/deployments/{{name}}/rollback"): _change("deployments.rollback", _DEP),
    ("DELETE", f"{V1}/deployments/{{name}}"): _change("deployments.delete", _DEP),
    # monitor (drift and profiles read workspace data files: scientist)
    ("POST", f"{V1}/monitor/drift"): _read("monitor.write"),
    ("GET", f"{V1}/monitor/deployments/{{name}}/drift"): _read("monitor.read", _DEP),
    ("POST", f"{V1}/monitor/deployments/{{name}}/profile"): _change("monitor.write", _DEP),
    ("POST", f"{V1}/monitor/deployments/{{name}}/labels"): _change("monitor.write", _DEP),
    ("GET", f"{V1}/monitor/deployments/{{name}}/performance"): _read("monitor.read", _DEP),
    ("GET", f"{V1}/monitor/deployments/{{name}}/latency"): _read("monitor.read", _DEP),
    ("POST", f"{V1}/monitor/deployments/{{name}}/run"): _change("monitor.write", _DEP),
    ("GET", f"{V1}/monitor/deployments/{{name}}/status"): _read("monitor.read", _DEP),
    # catalog (asset text is readable by viewers; masked values are never stored in it)
    ("GET", f"{V1}/catalog/assets"): _read("catalog.read"),
    ("GET", f"{V1}/catalog/assets/{{kind}}/{{name}}"): _read("catalog.read"),
    ("GET", f"{V1}/catalog/lineage/{{kind}}/{{name}}"): _read("catalog.read"),
    ("POST", f"{V1}/catalog/assets"): _change("catalog.write"),
    ("POST", f"{V1}/catalog/sync"): _change("catalog.write"),
    ("POST", f"{V1}/catalog/enrich"): _change("catalog.write"),
    ("POST", f"{V1}/catalog/assets/{{kind}}/{{name}}/accept"): _change("catalog.write"),
    # copilot (the router checks each asked project with the principal this dependency set)
    ("POST", f"{V1}/copilot/ask"): _read("copilot.ask"),
    # Prometheus scrapes /metrics at the root; its labels name deployments.
    ("GET", "/metrics"): _read("metrics.read"),
}


def policy_for(method: str, path_template: str) -> RoutePolicy | None:
    """The policy of a route, or None (the caller refuses the request)."""
    return ROUTE_POLICIES.get((method.upper(), path_template))


def resolve_project(
    store: MetadataStore, policy: RoutePolicy, path_params: dict[str, str], default: str
) -> str:
    """The project a request acts on: the owning project of the named resource, else ``default``."""
    kind, _, param = policy.project_from.partition(":")
    if kind == "workspace" or param not in path_params:
        return default
    value = path_params[param]
    recent = _recent_projects.setdefault(store, {})
    now = time.monotonic()
    hit = recent.get((kind, value))
    if hit is not None and now - hit[0] < _PROJECT_TTL_S:
        return hit[1]
    if kind == "deployment":
        query = select(Deployment.project).where(Deployment.name == value)
    else:
        query = select(PipelineRun.project).where(PipelineRun.id == value)
    with store.engine.connect() as conn:
        found = conn.execute(query).scalar_one_or_none()
    if found is None:
        return default
    if len(recent) >= _PROJECT_CACHE_MAX:
        recent.clear()
    recent[(kind, value)] = (now, found)
    return str(found)


# The owning project of a resource, kept for a second per store: every predict would otherwise pay a
# pooled read (~0.2 ms); the predict path keeps its deployment row just as long (gpu_runtime.deployments).
_PROJECT_TTL_S = 1.0
_PROJECT_CACHE_MAX = 10_000
_recent_projects: weakref.WeakKeyDictionary[MetadataStore, dict[tuple[str, str], tuple[float, str]]] = (
    weakref.WeakKeyDictionary()
)
