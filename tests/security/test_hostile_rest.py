"""Hostile requests against the real app: traversal, metacharacters, cross-project guessing, oversized bodies,
non-literal papermill parameters, a broken audit log (fail closed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from fastapi.testclient import TestClient
from nbformat import v4

from shipyard.governance.settings import GovernanceSettings
from shipyard.server.app import create_app
from shipyard.store.models import Deployment, PipelineRun

from .conftest import GovEnv

TRAVERSALS = [
    "../../etc/passwd",
    "..\\..\\etc\\passwd",
    "%2e%2e%2fetc%2fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "/etc/passwd",
    "file:///etc/passwd",
    "ok.csv#/../../etc/passwd",
    "ok.csv?x=../../etc/passwd",
    "\uff0e\uff0e\uff0fetc\uff0fpasswd",
    "ok.csv\x00",
]


@pytest.mark.parametrize("path", TRAVERSALS)
@pytest.mark.parametrize("field", ["reference", "current"])
def test_drift_paths_cannot_leave_the_workspace(
    client: TestClient, gov_env: GovEnv, path: str, field: str
) -> None:
    body = {"reference": "ok.csv", "current": "ok.csv"} | {field: path}
    r = client.post("/api/v1/monitor/drift", json=body, headers=gov_env.headers("scientist"))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith(f"{field}:")


@pytest.mark.parametrize("path", TRAVERSALS[:7])
def test_notebook_paths_cannot_leave_the_workspace(client: TestClient, gov_env: GovEnv, path: str) -> None:
    r = client.post(
        "/api/v1/pipelines/promote",
        json={"notebook": path, "name": "p"},
        headers=gov_env.headers("scientist"),
    )
    assert r.status_code == 422 and "notebook" in r.json()["error"]["message"]


def test_symlink_out_of_the_workspace_is_refused(client: TestClient, gov_env: GovEnv, tmp_path: Any) -> None:
    (tmp_path / "secret.csv").write_text("a\n1\n")
    (gov_env.ws.root / "leak.csv").symlink_to(tmp_path / "secret.csv")
    r = client.post(
        "/api/v1/monitor/drift",
        json={"reference": "leak.csv", "current": "leak.csv"},
        headers=gov_env.headers("scientist"),
    )
    assert r.status_code == 422 and "symlink" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "name",
    ["x'; DROP TABLE deployments; --", 'x" OR 1=1', "..", "a..b", "x%00", "x y", "x;ls"],
)
@pytest.mark.parametrize(
    "route", ["/api/v1/deployments/{}", "/api/v1/pipelines/{}", "/api/v1/features/views/{}"]
)
def test_metacharacters_in_names_are_refused_before_any_engine(
    client: TestClient, gov_env: GovEnv, name: str, route: str
) -> None:
    r = client.get(route.format(name), headers=gov_env.headers("admin"))
    assert r.status_code in (404, 422), r.text
    if r.status_code == 422:
        assert "name" in r.json()["error"]["message"]
    with gov_env.ws.store.engine.connect() as conn:  # the tables are all still there
        assert conn.exec_driver_sql("SELECT count(*) FROM deployments").scalar() == 0


@pytest.mark.parametrize(
    "features", [["v:f; DROP TABLE x"], ["v:f' OR '1'='1"], ["../v:f"], ["v:__import__('os')"], ["v"]]
)
def test_sql_metacharacters_in_feature_refs_are_refused(
    client: TestClient, gov_env: GovEnv, features: list[str]
) -> None:
    r = client.post(
        "/api/v1/features/online",
        json={"entities": [{"customer_id": 1}], "features": features},
        headers=gov_env.headers("viewer"),
    )
    assert r.status_code == 422 and r.json()["error"]["message"].startswith("features:")


def _insert_foreign_resources(env: GovEnv) -> None:
    with env.ws.store.session() as s:
        s.add(
            Deployment(
                project="other",
                name="their-dep",
                model_name="m",
                model_version="1",
                model_uri="u",
                triton_model="t",
            )
        )
        s.add(PipelineRun(id="run-of-other", project="other", pipeline="p", status="succeeded", run_dir="/x"))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/deployments/their-dep",
        "/api/v1/pipelines/runs/run-of-other",
        "/api/v1/monitor/deployments/their-dep/status",
    ],
)
def test_guessing_another_projects_ids_reveals_nothing(client: TestClient, gov_env: GovEnv, url: str) -> None:
    _insert_foreign_resources(gov_env)
    guessed = client.get(url, headers=gov_env.headers("admin"))
    unknown = client.get(
        url.replace("their-dep", "nope").replace("run-of-other", "nope"), headers=gov_env.headers("outsider")
    )
    assert guessed.status_code == 404 and unknown.status_code == 404
    assert guessed.json() == unknown.json()  # an existing foreign id looks exactly like a missing one
    denied = [e for e in gov_env.gov.audit.entries() if e.outcome == "denied"]
    assert denied and denied[0].project == "other"


def test_predict_on_another_projects_deployment_is_404(client: TestClient, gov_env: GovEnv) -> None:
    _insert_foreign_resources(gov_env)
    r = client.post(
        "/api/v1/deployments/their-dep/predict",
        json={"entities": [{"k": 1}]},
        headers=gov_env.headers("admin"),
    )
    assert r.status_code == 404


@pytest.fixture()
def small_client(gov_env: GovEnv) -> Iterator[TestClient]:
    gov_env.gov.settings = GovernanceSettings(max_body_bytes=2048)
    with TestClient(create_app(gov_env.ws, close_on_shutdown=False)) as c:
        yield c


@pytest.mark.parametrize("size", [2049, 10_000, 5_000_000])
def test_oversized_bodies_are_413_with_the_envelope(
    small_client: TestClient, gov_env: GovEnv, size: int
) -> None:
    body = json.dumps({"entities": [{"k": "x" * size}], "features": ["v:f"]})
    r = small_client.post(
        "/api/v1/features/online",
        content=body,
        headers=gov_env.headers("viewer") | {"content-type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_streamed_oversized_body_without_length_is_413(small_client: TestClient, gov_env: GovEnv) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"entities": [{"k": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}], "features": ["v:f"]}'

    r = small_client.post(
        "/api/v1/features/online",
        content=chunks(),
        headers=gov_env.headers("viewer") | {"content-type": "application/json"},
    )
    assert r.status_code == 413


def test_small_bodies_pass_the_cap(small_client: TestClient, gov_env: GovEnv) -> None:
    r = small_client.get("/api/v1/pipelines", headers=gov_env.headers("viewer"))
    assert r.status_code == 200


def _notebook(param_source: str) -> dict[str, Any]:
    cells = [(param_source, ["parameters"]), ("a = 1", ["step:load"])]
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    return json.loads(nbformat.writes(nb))


@pytest.mark.parametrize(
    "source",
    [
        "path = __import__('os').environ['HOME']",
        "n = len('abc')",
        "x = open('/etc/passwd').read()",
        "import os\nos.system('id')",
        "rows = 3 if True else 4",
    ],
)
def test_non_literal_papermill_parameters_are_refused(
    client: TestClient, gov_env: GovEnv, source: str
) -> None:
    r = client.post(
        "/api/v1/pipelines/promote",
        json={"content": _notebook(source), "name": "evil"},
        headers=gov_env.headers("scientist"),
    )
    assert r.status_code == 422, r.text
    assert not (gov_env.ws.root / "pipelines" / "evil").exists()


@pytest.mark.parametrize("key", ["x; rm -rf /", "__import__('os')", "a b", "a.b"])
def test_run_parameter_names_must_be_identifiers(client: TestClient, gov_env: GovEnv, key: str) -> None:
    r = client.post(
        "/api/v1/pipelines/p/runs", json={"params": {key: 1}}, headers=gov_env.headers("scientist")
    )
    assert r.status_code == 422 and "params." in r.json()["error"]["message"]


def test_changes_are_refused_when_the_audit_log_cannot_be_written(
    client: TestClient, gov_env: GovEnv
) -> None:
    with gov_env.ws.store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_log RENAME TO audit_log_gone")
    r = client.post(
        "/api/v1/pipelines/promote",
        json={"content": _notebook("rows = 3"), "name": "blocked"},
        headers=gov_env.headers("scientist"),
    )
    assert r.status_code == 503 and "refused" in r.json()["error"]["message"]
    assert not (gov_env.ws.root / "pipelines" / "blocked").exists()
    with gov_env.ws.store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE audit_log_gone RENAME TO audit_log")
    r = client.post(
        "/api/v1/pipelines/promote",
        json={"content": _notebook("rows = 3"), "name": "blocked"},
        headers=gov_env.headers("scientist"),
    )
    assert r.status_code == 201, r.text
    entry = list(gov_env.gov.audit.entries())[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("scientist", "pipelines.promote", "allowed")
