"""Tables of the metadata store. Changing one means adding an Alembic revision in ``migrations/versions``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Asset(Base):
    """A catalog row: a table, feature view, model, deployment... (kinds in DESIGN.md)."""

    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("project", "kind", "name"),
        Index("ix_assets_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(400))
    title: Mapped[str] = mapped_column(String(400), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    columns: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    freshness: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    description_status: Mapped[str] = mapped_column(String(20), default="")


class AssetEdge(Base):
    """A lineage edge between two catalog names; ``origin`` says which writer owns it ("" = the asset)."""

    __tablename__ = "asset_edges"
    __table_args__ = (
        UniqueConstraint("project", "src_kind", "src_name", "dst_kind", "dst_name", "relation", "origin"),
        Index("ix_asset_edges_src", "project", "src_kind", "src_name"),
        Index("ix_asset_edges_dst", "project", "dst_kind", "dst_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    src_kind: Mapped[str] = mapped_column(String(40))
    src_name: Mapped[str] = mapped_column(String(400))
    dst_kind: Mapped[str] = mapped_column(String(40))
    dst_name: Mapped[str] = mapped_column(String(400))
    relation: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str] = mapped_column(String(40), default="")


class AssetTombstone(Base):
    """A removed asset, kept so an incremental index (the copilot's) can drop it too."""

    __tablename__ = "asset_tombstones"
    __table_args__ = (UniqueConstraint("project", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(400))
    removed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class PipelineRun(Base):
    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    pipeline: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20))
    run_dir: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(40))
    model_uri: Mapped[str] = mapped_column(Text)
    triton_model: Mapped[str] = mapped_column(String(200))
    feature_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    entity_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    reference_path: Mapped[str] = mapped_column(Text, default="")
    artifact_sha256: Mapped[str] = mapped_column(String(64), default="")
    parity_max_abs_diff: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20), default="ready")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PredictionLogPartition(Base):
    """Index of prediction-log Parquet files: one row per flushed file."""

    __tablename__ = "prediction_log_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment: Mapped[str] = mapped_column(String(200), index=True)
    day: Mapped[str] = mapped_column(String(10), index=True)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Event(Base):
    """Outbox: events are written in the same transaction as the change, delivered later."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiToken(Base):
    """Bearer tokens, stored as sha256 hashes: the secret is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
