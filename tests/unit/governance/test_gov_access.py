"""Roles, bindings, token bindings and the one authorization function."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from shipyard.governance.access import AccessService
from shipyard.governance.roles import ACTIONS, Principal, Role, authorize, required_role
from shipyard.governance.tokens import TokenService
from shipyard.store.db import MetadataStore


@pytest.fixture()
def store(tmp_path: Path) -> MetadataStore:
    return MetadataStore.connect(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", [a for a, r in ACTIONS.items() if r is not None])
def test_authorize_follows_the_role_order(role: Role, action: str) -> None:
    who = Principal("u", roles={"p": role})
    needed = required_role(action)
    assert needed is not None
    if role >= needed:
        assert authorize(who, action, "p") == role
    else:
        with pytest.raises(Forbidden, match=needed.name):
            authorize(who, action, "p")


def test_non_members_get_403_or_hidden_404() -> None:
    who = Principal("u", roles={"a": Role.admin})
    with pytest.raises(Forbidden, match="no role in project 'b'"):
        authorize(who, "models.read", "b")
    with pytest.raises(NotFound):
        authorize(who, "models.read", "b", hide=True)


def test_unknown_action_is_refused() -> None:
    with pytest.raises(Forbidden, match="no policy"):
        authorize(Principal("u", roles={"p": Role.admin}), "models.nuke", "p")


def test_workspace_token_is_admin_of_the_served_project(store: MetadataStore) -> None:
    tokens, access = TokenService(store), AccessService(store)
    info = tokens.verify(tokens.create("init").secret)
    assert access.principal_for(info, "proj").roles == {"proj": Role.admin}


def test_user_token_carries_the_users_bindings(store: MetadataStore) -> None:
    tokens, access = TokenService(store), AccessService(store)
    access.add_user("ann")
    access.bind("ann", "a", "scientist")
    access.bind("ann", "b", "viewer")
    info = tokens.verify(tokens.create("jupyter-ann", user="ann").secret)
    assert access.principal_for(info, "a").roles == {"a": Role.scientist, "b": Role.viewer}
    scoped = tokens.verify(tokens.create("ann-b", user="ann", project="b").secret)
    assert access.principal_for(scoped, "a").roles == {"b": Role.viewer}
    access.bind("ann", "a", "admin")  # a role change applies on the next request
    assert access.principal_for(info, "a").roles["a"] == Role.admin
    access.disable_user("ann")
    with pytest.raises(Unauthorized, match="disabled"):
        access.principal_for(info, "a")


def test_service_token_with_a_fixed_role(store: MetadataStore) -> None:
    tokens, access = TokenService(store), AccessService(store)
    issued = tokens.create("pipeline-bot", project="a", role="scientist", service=True)
    info = tokens.verify(issued.secret)
    assert info.kind == "service"
    assert access.principal_for(info, "zzz").roles == {"a": Role.scientist}


def test_expired_tokens_are_refused(store: MetadataStore) -> None:
    tokens = TokenService(store)
    issued = tokens.create("short", project="a", role="viewer", expires_in=timedelta(hours=1))
    assert tokens.verify(issued.secret).expires_at is not None
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE gov_token_bindings SET expires_at = '2001-01-01 00:00:00'"))
    with pytest.raises(Unauthorized, match="expired"):
        tokens.verify(issued.secret)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"role": "viewer"}, InvalidInput),
        ({"project": "a", "role": "god"}, InvalidInput),
        ({"expires_in": timedelta(seconds=-1)}, InvalidInput),
    ],
)
def test_bad_token_bindings(store: MetadataStore, kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        TokenService(store).create("x", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda a: a.bind("ghost", "p", "viewer"), NotFound),
        (lambda a: a.bind("ann", "p", "owner"), InvalidInput),
        (lambda a: a.add_user("ann"), Conflict),
        (lambda a: a.add_user("../x"), InvalidInput),
        (lambda a: a.unbind("ann", "nowhere"), NotFound),
        (lambda a: a.set_mask_policy("p", "pii", "scramble"), InvalidInput),
    ],
)
def test_bad_access_changes(store: MetadataStore, call: object, error: type[Exception]) -> None:
    access = AccessService(store)
    access.add_user("ann")
    with pytest.raises(error):
        call(access)  # type: ignore[operator]
