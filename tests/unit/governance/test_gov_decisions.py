"""The decision cache: one generation read per lookup on a hit, and every change (here or in another process
sharing the store) takes effect on the very next request."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from shipyard.errors import Unauthorized
from shipyard.governance.roles import Role
from shipyard.governance.service import Governance, governance_for
from shipyard.server.app import create_app
from shipyard.workspace import Workspace


@pytest.fixture()
def gov(workspace: Workspace) -> Governance:
    g = governance_for(workspace)
    g.access.add_user("ann")
    g.access.bind("ann", workspace.project, "viewer")
    return g


def _statements(gov: Governance) -> list[str]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_a: object) -> None:
        seen.append(statement)

    sa.event.listen(gov.ws.store.engine, "before_cursor_execute", record)
    return seen


def _in_other_process(root: Path, code: str) -> None:
    script = (
        "import sys\n"
        "from shipyard.governance.service import governance_for\n"
        "from shipyard.workspace import Workspace\n"
        "ws = Workspace.open(sys.argv[1]); gov = governance_for(ws)\n" + code + "\nws.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(root)], check=True, timeout=120)


def test_a_cached_principal_costs_one_generation_read(gov: Governance) -> None:
    secret = gov.ws.tokens.create("ann", user="ann").secret
    first = gov.principal_for_token(secret)
    seen = _statements(gov)
    reads: list[int] = []
    generation = gov.decisions.generation
    gov.decisions.generation = lambda: reads.append(1) or generation()  # type: ignore[method-assign]
    again = gov.principal_for_token(secret)
    assert again == first and again.role_in(gov.ws.project) is Role.viewer
    assert seen == [] and reads == [1]  # no token/role query, only the generation row
    gov.decisions.close()  # the engine fallback (PostgreSQL's path) reads the same row
    assert gov.principal_for_token(secret) == first
    assert seen == ["SELECT value FROM gov_generation WHERE id = 1"]


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ("revoke", "unauthorized"),
        ("disable", "unauthorized"),
        ("rebind", "maintainer"),
        ("unbind", "no_role"),
        ("raw_sql_revoke", "unauthorized"),
    ],
)
def test_a_change_in_this_process_applies_to_the_next_lookup(
    gov: Governance, change: str, check: str
) -> None:
    issued = gov.ws.tokens.create("ann", user="ann")
    assert gov.principal_for_token(issued.secret).role_in(gov.ws.project) is Role.viewer
    if change == "revoke":
        gov.ws.tokens.revoke(issued.prefix)
    elif change == "disable":
        gov.access.disable_user("ann")
    elif change == "rebind":
        gov.access.bind("ann", gov.ws.project, "maintainer")
    elif change == "unbind":
        gov.access.unbind("ann", gov.ws.project)
    else:  # a change that bypasses the services is still seen: the trigger bumps the generation
        with gov.ws.store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE api_tokens SET revoked_at = '2026-01-01 00:00:00'")
    if check == "unauthorized":
        with pytest.raises(Unauthorized):
            gov.principal_for_token(issued.secret)
    elif check == "maintainer":
        assert gov.principal_for_token(issued.secret).role_in(gov.ws.project) is Role.maintainer
    else:
        assert gov.principal_for_token(issued.secret).role_in(gov.ws.project) is None


def test_grants_are_cached_and_follow_changes(gov: Governance) -> None:
    project = gov.ws.project
    assert gov.grants("ann", project) == set()
    gov.access.grant("ann", project, "customers", "email")
    assert gov.grants("ann", project) == {("customers", "email")}
    gov.access.revoke_grant("ann", project, "customers", "email")
    assert gov.grants("ann", project) == set()


def test_an_expired_cached_token_is_refused(gov: Governance, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.governance import decisions, tokens
    from shipyard.store.models import utcnow

    secret = gov.ws.tokens.create("ann", user="ann", expires_in=timedelta(hours=1)).secret
    gov.principal_for_token(secret)
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(decisions, "utcnow", lambda: later)
    monkeypatch.setattr(tokens, "utcnow", lambda: later)
    with pytest.raises(Unauthorized, match="expired"):
        gov.principal_for_token(secret)


@pytest.fixture()
def served(gov: Governance) -> Iterator[TestClient]:
    with TestClient(create_app(gov.ws, close_on_shutdown=False)) as client:
        yield client


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ws.tokens.revoke(sys.argv[2])", 401),
        ("gov.access.disable_user('ann')", 401),
        ("gov.access.unbind('ann', ws.project)", 403),
    ],
    ids=["revoke", "disable", "unbind"],
)
def test_a_change_made_by_another_process_applies_to_the_next_request(
    gov: Governance, served: TestClient, code: str, status: int
) -> None:
    issued = gov.ws.tokens.create("ann", user="ann")
    headers = {"Authorization": f"Bearer {issued.secret}"}
    for _ in range(2):  # the second request is served from the cache
        assert served.get("/api/v1/deployments", headers=headers).status_code == 200
    script = code.replace("sys.argv[2]", repr(issued.prefix))
    _in_other_process(gov.ws.root, script)
    assert served.get("/api/v1/deployments", headers=headers).status_code == status
