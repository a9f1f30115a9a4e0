from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from shipyard.errors import NotFound, Unauthorized
from shipyard.governance.tokens import TokenService
from shipyard.store.db import MetadataStore
from shipyard.store.models import ApiToken


@pytest.fixture()
def tokens(tmp_path: Path) -> TokenService:
    return TokenService(MetadataStore.connect(f"sqlite:///{tmp_path / 'm.db'}"))


def test_secret_is_stored_only_as_a_hash(tokens: TokenService) -> None:
    issued = tokens.create("ci")
    with tokens._store.session() as s:
        row = s.scalars(sa.select(ApiToken)).one()
    assert issued.secret not in (row.token_hash, row.prefix)
    assert tokens.verify(issued.secret).name == "ci"


@pytest.mark.parametrize("secret", [None, "", "shp_wrong", "Bearer x"])
def test_bad_secrets_are_unauthorized(tokens: TokenService, secret: str | None) -> None:
    tokens.create("ci")
    with pytest.raises(Unauthorized):
        tokens.verify(secret)


def test_revocation_takes_effect_immediately(tokens: TokenService) -> None:
    issued = tokens.create("ci")
    tokens.revoke(issued.prefix)
    with pytest.raises(Unauthorized, match="revoked"):
        tokens.verify(issued.secret)
    assert tokens.list()[0].revoked
    with pytest.raises(NotFound):
        tokens.revoke("shp_nope")
