"""Fixtures for the hostile suite: a workspace with users of every role in its project and an outsider."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shipyard.governance.service import Governance, governance_for
from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

ROLES = ("viewer", "scientist", "maintainer", "admin")


@dataclass
class GovEnv:
    """A served workspace (project ``own``), tokens per role, and one of an admin of project ``other``."""

    ws: Workspace
    gov: Governance
    init_token: str
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        """Authorization header for ``who`` (a role, ``outsider`` or ``init``)."""
        secret = self.init_token if who == "init" else self.tokens[who]
        return {"Authorization": f"Bearer {secret}"}


def make_env(root: Path) -> GovEnv:
    """Initialise a workspace and its users; used by the fixtures and the benchmarks' tests."""
    result = init_workspace(root, project="own")
    ws = Workspace.open(result.root)
    gov = governance_for(ws)
    env = GovEnv(ws, gov, result.token)
    for role in ROLES:
        gov.access.add_user(role)
        gov.access.bind(role, "own", role)
        env.tokens[role] = ws.tokens.create(f"{role}-token", user=role).secret
    gov.access.add_user("outsider")
    gov.access.bind("outsider", "other", "admin")
    env.tokens["outsider"] = ws.tokens.create("outsider-token", user="outsider").secret
    return env


@pytest.fixture()
def gov_env(tmp_path: Path) -> Iterator[GovEnv]:
    env = make_env(tmp_path / "ws")
    yield env
    env.ws.close()


@pytest.fixture()
def client(gov_env: GovEnv) -> Iterator[TestClient]:
    with TestClient(create_app(gov_env.ws, close_on_shutdown=False)) as c:
        yield c
