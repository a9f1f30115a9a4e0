"""The policy dependency decides allowed reads on the event loop; denials still reach the audit chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shipyard.governance.tokens import TOKEN_PREFIX
from shipyard.server.app import create_app
from tests.security.conftest import GovEnv, make_env


@pytest.fixture()
def env(tmp_path: Path) -> Iterator[GovEnv]:
    made = make_env(tmp_path / "ws")
    yield made
    made.ws.close()


@pytest.fixture()
def client(env: GovEnv) -> Iterator[TestClient]:
    with TestClient(create_app(env.ws, close_on_shutdown=False)) as c:
        yield c


def _denied(env: GovEnv) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in env.gov.audit.entries() if e.outcome == "denied"]


@pytest.mark.parametrize(
    ("who", "method", "path", "status", "denial"),
    [
        # unaudited reads: the event-loop path refuses, the worker-thread path decides again and audits
        ("viewer", "post", "/api/v1/monitor/drift", 403, ("viewer", "monitor.write")),
        ("outsider", "get", "/api/v1/pipelines", 403, ("outsider", "pipelines.read")),
        ("outsider", "get", "/api/v1/deployments/churn", 404, ("outsider", "deployments.read")),
        ("outsider", "post", "/api/v1/deployments/churn/predict", 404, ("outsider", "deployments.predict")),
    ],
)
def test_denied_reads_are_refused_and_audited(
    client: TestClient, env: GovEnv, who: str, method: str, path: str, status: int, denial: tuple[str, str]
) -> None:
    client.get("/api/v1/pipelines", headers=env.headers("viewer"))  # governance opened: fast path active
    r = client.request(method.upper(), path, headers=env.headers(who), json={"entities": [{"id": 1}]})
    assert r.status_code == status, r.text
    assert [d[:2] for d in _denied(env)] == [denial]


def test_revoked_token_is_refused_on_the_next_read(client: TestClient, env: GovEnv) -> None:
    headers = env.headers("viewer")
    assert client.get("/api/v1/pipelines", headers=headers).status_code == 200
    secret = env.tokens["viewer"]
    env.ws.tokens.revoke(secret[: len(TOKEN_PREFIX) + 6])
    r = client.get("/api/v1/pipelines", headers=headers)
    assert r.status_code == 401
    assert [d[:2] for d in _denied(env)] == [("anonymous", "pipelines.read")]


def test_allowed_reads_write_no_audit_entry(client: TestClient, env: GovEnv) -> None:
    before = len(list(env.gov.audit.entries()))
    for _ in range(3):
        assert client.get("/api/v1/pipelines", headers=env.headers("viewer")).status_code == 200
    assert len(list(env.gov.audit.entries())) == before
