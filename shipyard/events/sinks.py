"""Where outbox events go: the ``EventSink`` protocol, its outbox and Kafka implementations, the dispatcher.

``make_sink(settings)`` picks the sink from configuration (``EventSinkSettings``, the ``event_sink`` of a
deployment's monitor rules):

* ``outbox`` (default): events stay in the outbox table, where ``shipyard monitor status``, webhooks and
  pollers (``shipyard.events.outbox.pending``) read them. Nothing leaves the process.
* ``kafka``: each event is produced to ``topic`` as JSON (key: the event id; headers: kind, project) and the
  send waits for the broker's acknowledgement (``acks``) before the event counts as delivered.

``dispatch_pending`` walks the undelivered events, hands each to every external target (the sink when it is
external, plus webhooks) and marks it delivered only when all of them accepted it. Delivery is
at-least-once: an event is marked only after the acknowledgement, so a crash or a failed target between
send and mark re-sends it on the next pass; consumers deduplicate on the event id (the Kafka key).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field, field_validator, model_validator

from shipyard.errors import EngineUnavailable
from shipyard.events.outbox import OutboxEvent, mark_delivered, pending
from shipyard.events.webhooks import Delivery, DeliveryReport, WebhookTarget, send
from shipyard.store.db import MetadataStore

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


class EventSinkSettings(BaseModel):
    """Which sink events are delivered to, and how to reach it."""

    kind: Literal["outbox", "kafka"] = "outbox"
    bootstrap_servers: list[str] = Field(default_factory=list, description="kafka: host:port of brokers")
    topic: str = "shipyard.events"
    client_id: str = "shipyard"
    acks: Literal["all", "1", "0"] = Field(default="all", description="broker acknowledgement awaited")
    timeout_s: float = Field(default=10.0, gt=0, description="kafka: wait for each acknowledgement")

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        if not _TOPIC.match(value) or value in (".", ".."):
            raise ValueError(
                f"kafka topic {value!r} is not valid: use 1-249 letters, digits, '.', '_' or '-'"
            )
        return value

    @field_validator("bootstrap_servers")
    @classmethod
    def _servers(cls, value: list[str]) -> list[str]:
        for server in value:
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"bootstrap server {server!r} must be host:port (e.g. broker1:9092)")
        return value

    @model_validator(mode="after")
    def _kafka_needs_brokers(self) -> EventSinkSettings:
        if self.kind == "kafka" and not self.bootstrap_servers:
            raise ValueError("event sink 'kafka' needs bootstrap_servers, e.g. [\"broker1:9092\"]")
        return self


@runtime_checkable
class EventSink(Protocol):
    """Something outbox events are delivered to."""

    name: str
    external: bool  # False: the event stays in the outbox; the dispatcher does not count it as delivered

    def send(self, event: OutboxEvent) -> list[Delivery]:
        """Deliver ``event``; one ``Delivery`` per destination, ``ok`` once that destination accepted it."""
        ...

    def close(self) -> None:
        """Release connections (flushing what is buffered)."""
        ...


class OutboxSink:
    """The default: events stay in the outbox table for status, webhooks and pollers."""

    name = "outbox"
    external = False

    def send(self, event: OutboxEvent) -> list[Delivery]:
        """Nothing to do: the outbox row is the delivery."""
        return []

    def close(self) -> None:
        """Nothing to release."""


class KafkaSink:
    """Produces each event as JSON to one topic and waits for the broker's acknowledgement."""

    external = True

    def __init__(self, settings: EventSinkSettings, producer: Any | None = None) -> None:
        self._settings = settings
        self.name = f"kafka://{','.join(settings.bootstrap_servers)}/{settings.topic}"
        self._producer = producer if producer is not None else _kafka_producer(settings)

    def send(self, event: OutboxEvent) -> list[Delivery]:
        """Produce ``event`` and block until it is acknowledged (or fails)."""
        from kafka.errors import KafkaError

        document = {
            "event_id": event.id,
            "kind": event.kind,
            "project": event.project,
            "payload": event.payload,
            "created_at": event.created_at.isoformat(),
        }
        headers = [("kind", event.kind.encode()), ("project", event.project.encode())]
        try:
            future = self._producer.send(
                self._settings.topic,
                value=json.dumps(document, default=str).encode(),
                key=str(event.id).encode(),
                headers=headers,
            )
            future.get(timeout=self._settings.timeout_s)
        except (KafkaError, TimeoutError, OSError) as exc:
            return [Delivery(event.id, self.name, False, 1, error=f"{type(exc).__name__}: {exc}")]
        return [Delivery(event.id, self.name, True, 1)]

    def close(self) -> None:
        """Flush and close the producer."""
        self._producer.close(timeout=self._settings.timeout_s)


class WebhookSink:
    """Every webhook target as one sink (each target with its own retries and backoff)."""

    name = "webhooks"
    external = True

    def __init__(self, targets: list[WebhookTarget], sender: Callable[..., Delivery] = send) -> None:
        self.targets = targets
        self._send = sender

    def send(self, event: OutboxEvent) -> list[Delivery]:
        """POST ``event`` to every target."""
        return [self._send(event, target) for target in self.targets]

    def close(self) -> None:
        """Nothing to release."""


def make_sink(settings: EventSinkSettings | None = None, producer: Any | None = None) -> EventSink:
    """The sink ``settings`` configure (the outbox when None); ``producer`` replaces Kafka's client."""
    settings = settings or EventSinkSettings()
    if settings.kind == "kafka":
        return KafkaSink(settings, producer)
    return OutboxSink()


def dispatch_pending(
    store: MetadataStore,
    sink: EventSink,
    webhooks: list[WebhookTarget] | None = None,
    project: str | None = None,
    accept: Callable[[OutboxEvent], bool] = lambda _event: True,
    limit: int = 1000,
) -> DeliveryReport:
    """Deliver pending events (those ``accept`` takes) to the sink and webhooks; mark the fully delivered."""
    targets: list[EventSink] = [t for t in (sink, WebhookSink(webhooks or [])) if t.external]
    report = DeliveryReport()
    if not sink.external and not webhooks:
        return report  # the outbox is the only sink: events stay pending for pollers and later targets
    for event in pending(store, project, limit=limit):
        if not accept(event):
            continue
        results = [delivery for target in targets for delivery in target.send(event)]
        report.deliveries.extend(results)
        if results and all(r.ok for r in results):
            mark_delivered(store, event.id)
    return report


def _kafka_producer(settings: EventSinkSettings) -> Any:
    try:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError
    except ImportError as exc:  # pragma: no cover - kafka-python is a dependency
        raise EngineUnavailable("event sink 'kafka' needs kafka-python: pip install kafka-python") from exc
    acks: Any = settings.acks if settings.acks == "all" else int(settings.acks)
    try:
        return KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            client_id=settings.client_id,
            acks=acks,
            retries=3,
            request_timeout_ms=int(settings.timeout_s * 1000),
            max_block_ms=int(settings.timeout_s * 1000),
            bootstrap_timeout_ms=int(settings.timeout_s * 1000),
        )
    except KafkaError as exc:
        raise EngineUnavailable(
            f"cannot reach Kafka at {', '.join(settings.bootstrap_servers)} ({exc}); "
            "check event_sink.bootstrap_servers and that the brokers are up"
        ) from exc
