"""API tokens: random secrets shown once, stored as sha256 hashes, with optional expiry and binding.

A token created with only a name (``ws.tokens.create("init")``) is a *workspace token*: it acts as admin of
the project the server serves, which is what every token meant before projects and roles existed. A token
bound to a user acts with that user's role bindings; one bound to a project and role acts with exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from shipyard.errors import InvalidInput, NotFound, Unauthorized
from shipyard.governance.models import TokenBinding
from shipyard.store.db import MetadataStore
from shipyard.store.models import ApiToken, utcnow

TOKEN_PREFIX = "shp_"


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token; ``secret`` exists only in this object and is never stored."""

    name: str
    secret: str
    prefix: str
    user: str | None = None
    project: str | None = None
    role: str | None = None
    kind: str = "workspace"
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    name: str
    prefix: str
    created_at: datetime
    revoked: bool
    user: str | None = None
    project: str | None = None
    role: str | None = None
    kind: str = "workspace"  # workspace | user | service
    expires_at: datetime | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands DateTime(timezone=True) back naive; every stored time is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class TokenService:
    """Create, verify, list and revoke bearer tokens in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def create(
        self,
        name: str,
        *,
        user: str | None = None,
        project: str | None = None,
        role: str | None = None,
        expires_in: timedelta | None = None,
        service: bool = False,
    ) -> IssuedToken:
        """Issue a new token named ``name``; the secret is returned once. No binding: a workspace token."""
        from shipyard.governance.roles import Role

        if role is not None:
            role = Role.parse(role).name
            if project is None:
                raise InvalidInput("role: a token role needs a project (--project NAME)")
        if expires_in is not None and expires_in.total_seconds() <= 0:
            raise InvalidInput("expires_in: must be positive (e.g. 30d, 12h)")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        prefix = secret[: len(TOKEN_PREFIX) + 6]
        expires_at = utcnow() + expires_in if expires_in is not None else None
        bound = user is not None or project is not None or service or expires_at is not None
        kind = "service" if service else ("user" if user is not None or project is not None else "workspace")
        with self._store.session() as s:
            row = ApiToken(name=name, token_hash=_hash(secret), prefix=prefix)
            s.add(row)
            if bound:
                s.flush()
                s.add(
                    TokenBinding(
                        token_id=row.id,
                        user=user,
                        project=project,
                        role=role,
                        kind=kind,
                        expires_at=expires_at,
                    )
                )
        return IssuedToken(name, secret, prefix, user, project, role, kind, expires_at)

    def verify(self, secret: str | None) -> TokenInfo:
        """Return the token's info, or raise ``Unauthorized`` (missing, unknown, expired or revoked)."""
        if not secret:
            raise Unauthorized(
                "missing bearer token: send 'Authorization: Bearer <token>' (see `shipyard token create`)"
            )
        digest = _hash(secret)
        # A plain read on a pooled connection: this runs on every request, so no ORM unit of work.
        query = (
            select(
                ApiToken.name,
                ApiToken.prefix,
                ApiToken.created_at,
                ApiToken.revoked_at,
                ApiToken.token_hash,
                TokenBinding.user,
                TokenBinding.project,
                TokenBinding.role,
                TokenBinding.kind,
                TokenBinding.expires_at,
            )
            .outerjoin(TokenBinding, TokenBinding.token_id == ApiToken.id)
            .where(ApiToken.token_hash == digest)
        )
        with self._store.engine.connect() as conn:
            row = conn.execute(query).first()
        # compare_digest keeps the check constant-time even though the lookup is by hash.
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            raise Unauthorized("invalid bearer token")
        if row.revoked_at is not None:
            raise Unauthorized(f"token {row.prefix}… was revoked")
        expires_at = _aware(row.expires_at)
        if expires_at is not None and expires_at <= utcnow():
            raise Unauthorized(f"token {row.prefix}… expired at {expires_at.isoformat()}; create a new one")
        return TokenInfo(
            row.name,
            row.prefix,
            row.created_at,
            False,
            row.user,
            row.project,
            row.role,
            row.kind or "workspace",
            expires_at,
        )

    def list(self) -> list[TokenInfo]:
        """Every token (without secrets)."""
        query = (
            select(ApiToken, TokenBinding)
            .outerjoin(TokenBinding, TokenBinding.token_id == ApiToken.id)
            .order_by(ApiToken.id)
        )
        with self._store.session() as s:
            out = []
            for tok, b in s.execute(query).all():
                out.append(
                    TokenInfo(
                        tok.name,
                        tok.prefix,
                        tok.created_at,
                        tok.revoked_at is not None,
                        b.user if b else None,
                        b.project if b else None,
                        b.role if b else None,
                        b.kind if b else "workspace",
                        _aware(b.expires_at) if b else None,
                    )
                )
            return out

    def revoke(self, prefix: str) -> None:
        """Revoke the token whose prefix is ``prefix``; takes effect on the next request."""
        with self._store.session() as s:
            rows = s.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).all()
            if not rows:
                raise NotFound(f"no token with prefix {prefix!r}; `shipyard token list` shows them")
            for row in rows:
                row.revoked_at = utcnow()
