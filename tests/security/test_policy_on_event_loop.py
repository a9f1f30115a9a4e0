"""The policy dependency decides allowed reads on the event loop; denials still reach the audit chain."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shipyard.governance.tokens import TOKEN_PREFIX

from .conftest import GovEnv


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
    client: TestClient,
    gov_env: GovEnv,
    who: str,
    method: str,
    path: str,
    status: int,
    denial: tuple[str, str],
) -> None:
    client.get("/api/v1/pipelines", headers=gov_env.headers("viewer"))  # governance opened: fast path active
    r = client.request(method.upper(), path, headers=gov_env.headers(who), json={"entities": [{"id": 1}]})
    assert r.status_code == status, r.text
    assert [d[:2] for d in _denied(gov_env)] == [denial]


def test_revoked_token_is_refused_on_the_next_read(client: TestClient, gov_env: GovEnv) -> None:
    headers = gov_env.headers("viewer")
    assert client.get("/api/v1/pipelines", headers=headers).status_code == 200
    secret = gov_env.tokens["viewer"]
    gov_env.ws.tokens.revoke(secret[: len(TOKEN_PREFIX) + 6])
    r = client.get("/api/v1/pipelines", headers=headers)
    assert r.status_code == 401
    assert [d[:2] for d in _denied(gov_env)] == [("anonymous", "pipelines.read")]


def test_allowed_reads_write_no_audit_entry(client: TestClient, gov_env: GovEnv) -> None:
    before = len(list(gov_env.gov.audit.entries()))
    for _ in range(3):
        assert client.get("/api/v1/pipelines", headers=gov_env.headers("viewer")).status_code == 200
    assert len(list(gov_env.gov.audit.entries())) == before
