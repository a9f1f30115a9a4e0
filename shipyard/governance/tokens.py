"""API tokens: random secrets shown once, stored as sha256 hashes, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shipyard.errors import NotFound, Unauthorized
from shipyard.store.db import MetadataStore
from shipyard.store.models import ApiToken, utcnow

TOKEN_PREFIX = "shp_"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token; ``secret`` exists only in this object and is never stored."""

    name: str
    secret: str
    prefix: str


@dataclass(frozen=True)
class TokenInfo:
    name: str
    prefix: str
    created_at: datetime
    revoked: bool


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TokenService:
    """Create, verify, list and revoke bearer tokens in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create(self, name: str) -> IssuedToken:
        """Issue a new token named ``name``; the secret is returned once."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = secret[: len(TOKEN_PREFIX) + 6]
        with self._store.session() as s:
            s.add(ApiToken(name=name, token_hash=_hash(secret), prefix=prefix))
        return IssuedToken(name=name, secret=secret, prefix=prefix)

    def verify(self, secret: str | None) -> TokenInfo:
        """Return the token's info, or raise ``Unauthorized`` (missing, unknown or revoked)."""
        if not secret:
            raise Unauthorized(
                "missing bearer token: send 'Authorization: Bearer <token>' (see `shipyard token create`)"
            )
        digest = _hash(secret)
        # A plain read on a pooled connection: this runs on every request, so no ORM unit of work.
        query = select(
            ApiToken.name, ApiToken.prefix, ApiToken.created_at, ApiToken.revoked_at, ApiToken.token_hash
        )
        with self._store.engine.connect() as conn:
            row = conn.execute(query.where(ApiToken.token_hash == digest)).first()
        # compare_digest keeps the check constant-time even though the lookup is by hash.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise Unauthorized("invalid bearer token")
        if row.revoked_at is not None:
            raise Unauthorized(f"token {row.prefix}… was revoked")
        return TokenInfo(row.name, row.prefix, row.created_at, False)

    def list(self) -> list[TokenInfo]:
        """Every token (without secrets)."""
        with self._store.session() as s:
            rows = s.scalars(select(ApiToken).order_by(ApiToken.id)).all()
            return [TokenInfo(r.name, r.prefix, r.created_at, r.revoked_at is not None) for r in rows]

    def revoke(self, prefix: str) -> None:
        """Revoke the token whose prefix is ``prefix``; takes effect on the next request."""
        with self._store.session() as s:
            rows = s.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).all()
            if not rows:
                raise NotFound(f"no token with prefix {prefix!r}; `shipyard token list` shows them")
            for row in rows:
                row.revoked_at = utcnow()
