"""Governance tables: users, role bindings, token bindings, column grants, mask policies, the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shipyard.store.models import Base, utcnow


class User(Base):
    """A person or a service account; API tokens and OIDC subjects map to one."""

    __tablename__ = "gov_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="user")  # user | service
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoleBinding(Base):
    """``user`` holds ``role`` in ``project`` (one role per user and project)."""

    __tablename__ = "gov_role_bindings"
    __table_args__ = (UniqueConstraint("user", "project"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TokenBinding(Base):
    """Who a token acts for; a token without a row is a workspace token (admin of the served project)."""

    __tablename__ = "gov_token_bindings"

    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), primary_key=True)
    user: Mapped[str | None] = mapped_column(String(200), nullable=True)
    project: Mapped[str | None] = mapped_column(String(200), nullable=True)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="user")  # user | service
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ColumnGrant(Base):
    """``user`` may read the unmasked values of ``column`` (``*`` = every column) of ``asset`` in ``project``."""

    __tablename__ = "gov_column_grants"
    __table_args__ = (UniqueConstraint("user", "project", "asset", "column"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user: Mapped[str] = mapped_column(String(200), index=True)
    project: Mapped[str] = mapped_column(String(200))
    asset: Mapped[str] = mapped_column(String(400))
    column: Mapped[str] = mapped_column(String(400))
    granted_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MaskPolicy(Base):
    """Columns of assets carrying ``tag`` are masked with ``method`` (null | hash | partial)."""

    __tablename__ = "gov_mask_policies"
    __table_args__ = (UniqueConstraint("project", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200))
    tag: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))


class AuditRecord(Base):
    """One link of the hash chain; rows are only ever inserted."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    project: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """An HMAC-signed statement that the chain's record ``seq`` has hash ``hash``."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(40))
    signature: Mapped[str] = mapped_column(String(64))


class GovGeneration(Base):
    """One row whose ``value`` triggers bump on every token/user/role/grant/policy change (cache validity)."""

    __tablename__ = "gov_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
