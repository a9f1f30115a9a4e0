"""The outbox: ``Event`` rows are appended with the change that caused them and delivered later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shipyard.errors import InvalidInput
from shipyard.store.db import MetadataStore
from shipyard.store.models import Event


@dataclass(frozen=True)
class OutboxEvent:
    """One event as stored: id, kind, payload and when it was created and delivered."""

    id: int
    project: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    delivered_at: datetime | None


def publish(store: MetadataStore, project: str, kind: str, payload: dict[str, Any]) -> OutboxEvent:
    """Append one event to the outbox and return it."""
    if not kind or len(kind) > 80:
        raise InvalidInput(f"event kind {kind!r} must be 1 to 80 characters")
    with store.session() as session:
        row = Event(project=project, kind=kind, payload=payload, created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return _view(row)


def pending(store: MetadataStore, project: str | None = None, limit: int = 100) -> list[OutboxEvent]:
    """Undelivered events, oldest first."""
    query = select(Event).where(Event.delivered_at.is_(None)).order_by(Event.id).limit(limit)
    if project is not None:
        query = query.where(Event.project == project)
    with store.session() as session:
        return [_view(row) for row in session.scalars(query)]


def recent(store: MetadataStore, project: str, kind_prefix: str = "", limit: int = 50) -> list[OutboxEvent]:
    """The newest events of ``project`` (kinds starting with ``kind_prefix``), newest first."""
    query = select(Event).where(Event.project == project).order_by(Event.id.desc()).limit(limit)
    if kind_prefix:
        query = query.where(Event.kind.startswith(kind_prefix))
    with store.session() as session:
        return [_view(row) for row in session.scalars(query)]


def mark_delivered(store: MetadataStore, event_id: int) -> None:
    """Record that every target received ``event_id``."""
    with store.session() as session:
        row = session.get(Event, event_id)
        if row is not None:
            row.delivered_at = datetime.now(UTC)


def _view(row: Event) -> OutboxEvent:
    return OutboxEvent(
        id=row.id,
        project=row.project,
        kind=row.kind,
        payload=dict(row.payload or {}),
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )
