"""Event sinks: the outbox default, Kafka (through a fake broker client: no Kafka runs here), the dispatcher."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shipyard.errors import EngineUnavailable
from shipyard.events import sinks
from shipyard.events.outbox import pending, publish
from shipyard.events.sinks import (
    EventSink,
    EventSinkSettings,
    KafkaSink,
    OutboxSink,
    dispatch_pending,
    make_sink,
)

KAFKA = {"kind": "kafka", "bootstrap_servers": ["broker1:9092"], "topic": "shipyard.monitor"}


class FakeFuture:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class FakeKafkaProducer:
    """Stands in for kafka.KafkaProducer: records what was produced; can refuse chosen event ids once."""

    def __init__(self, fail_once: set[str] | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_once = set(fail_once or ())
        self.closed = False

    def send(self, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]) -> FakeFuture:
        if key.decode() in self.fail_once:
            self.fail_once.discard(key.decode())
            return FakeFuture(TimeoutError("no acknowledgement within 10s"))
        self.sent.append(
            {"topic": topic, "key": key.decode(), "value": json.loads(value), "headers": headers}
        )
        return FakeFuture(None)

    def close(self, timeout: float) -> None:
        self.closed = True


def fake_kafka_producer(fail_once: set[str] | None = None) -> FakeKafkaProducer:
    """A fake broker client (Kafka cannot run on this machine)."""
    return FakeKafkaProducer(fail_once)


def _publish(ws: Any, n: int, deployment: str = "churn") -> list[int]:
    return [
        publish(ws.store, ws.project, "monitor.alert", {"deployment": deployment, "title": f"a{i}"}).id
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"kind": "kafka"}, "needs bootstrap_servers"),
        ({**KAFKA, "bootstrap_servers": ["broker1"]}, "must be host:port"),
        ({**KAFKA, "bootstrap_servers": ["broker1:0"]}, "must be host:port"),
        ({**KAFKA, "bootstrap_servers": [":9092"]}, "must be host:port"),
        ({**KAFKA, "topic": "has space"}, "is not valid"),
        ({**KAFKA, "topic": "x" * 250}, "is not valid"),
        ({**KAFKA, "topic": ".."}, "is not valid"),
        ({**KAFKA, "kind": "rabbitmq"}, "outbox"),
        ({**KAFKA, "timeout_s": 0}, "greater than 0"),
    ],
)
def test_bad_sink_settings_are_refused_with_the_fix(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        EventSinkSettings(**bad)


def test_factory_defaults_to_the_outbox() -> None:
    sink = make_sink()
    assert isinstance(sink, OutboxSink) and isinstance(sink, EventSink) and not sink.external


def test_outbox_only_dispatch_leaves_events_pending(workspace: Any) -> None:
    ids = _publish(workspace, 2)
    report = dispatch_pending(workspace.store, make_sink(), project=workspace.project)
    assert report.deliveries == []
    assert [e.id for e in pending(workspace.store, workspace.project)] == ids


def test_dispatch_to_fake_kafka_marks_events_delivered_in_the_real_outbox(workspace: Any) -> None:
    ids = _publish(workspace, 3)
    producer = fake_kafka_producer()
    sink = make_sink(EventSinkSettings(**KAFKA), producer=producer)
    assert isinstance(sink, KafkaSink) and isinstance(sink, EventSink)
    report = dispatch_pending(workspace.store, sink, project=workspace.project)
    assert report.delivered == 3
    assert [m["key"] for m in producer.sent] == [str(i) for i in ids]
    first = producer.sent[0]
    assert first["topic"] == "shipyard.monitor" and ("kind", b"monitor.alert") in first["headers"]
    assert first["value"]["payload"] == {"deployment": "churn", "title": "a0"}
    assert pending(workspace.store, workspace.project) == []
    # Delivered events are not sent again.
    assert dispatch_pending(workspace.store, sink, project=workspace.project).deliveries == []
    sink.close()
    assert producer.closed


def test_fake_kafka_failure_keeps_the_event_pending_and_resends_it(workspace: Any) -> None:
    ids = _publish(workspace, 3)
    producer = fake_kafka_producer(fail_once={str(ids[1])})
    sink = KafkaSink(EventSinkSettings(**KAFKA), producer=producer)
    report = dispatch_pending(workspace.store, sink, project=workspace.project)
    failed = [d for d in report.deliveries if not d.ok]
    assert len(failed) == 1 and failed[0].event_id == ids[1] and "TimeoutError" in failed[0].error
    assert [e.id for e in pending(workspace.store, workspace.project)] == [ids[1]]
    again = dispatch_pending(workspace.store, sink, project=workspace.project)
    assert [d.event_id for d in again.deliveries] == [ids[1]] and again.delivered == 1
    assert sorted(int(m["key"]) for m in producer.sent) == ids


def test_dispatch_filter_leaves_other_events_alone_with_fake_kafka(workspace: Any) -> None:
    _publish(workspace, 2, deployment="churn")
    other = _publish(workspace, 1, deployment="fraud")
    sink = KafkaSink(EventSinkSettings(**KAFKA), producer=fake_kafka_producer())
    dispatch_pending(
        workspace.store, sink, project=workspace.project, accept=lambda e: e.payload["deployment"] == "churn"
    )
    assert [e.id for e in pending(workspace.store, workspace.project)] == other


def test_unreachable_real_kafka_is_a_clear_engine_error() -> None:
    settings = EventSinkSettings(kind="kafka", bootstrap_servers=["127.0.0.1:1"], timeout_s=0.5)
    with pytest.raises(EngineUnavailable, match=r"cannot reach Kafka at 127\.0\.0\.1:1"):
        make_sink(settings)


def test_monitor_pass_sends_alerts_to_fake_kafka(workspace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.monitor.alerts import MonitorRules
    from tests.unit.monitor.test_alerts import deploy, send_traffic

    producer = fake_kafka_producer()
    monkeypatch.setattr(sinks, "_kafka_producer", lambda settings: producer)
    deploy(workspace)
    rules = MonitorRules(window_rows=500, breach_k=1, breach_n=1, event_sink=KAFKA)
    workspace.monitor.configure("churn", rules)
    send_traffic(workspace, 500, datetime(2024, 6, 1, tzinfo=UTC), 4.0, seed=2)
    result = workspace.monitor.run_checks("churn")
    assert [(a.kind, a.subject) for a in result.alerts] == [("drift", "tenure")]
    assert [m["value"]["payload"]["subject"] for m in producer.sent] == ["tenure"]
    assert result.deliveries[0]["ok"] and producer.closed
    assert workspace.monitor.status("churn")["events"][0]["delivered"] is True


def test_monitor_pass_with_fake_kafka_down_saves_state_and_keeps_alerts_pending(
    workspace: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shipyard.monitor.alerts import MonitorRules
    from tests.unit.monitor.test_alerts import deploy, send_traffic

    def down(settings: EventSinkSettings) -> Any:
        raise EngineUnavailable("cannot reach Kafka at broker1:9092")

    monkeypatch.setattr(sinks, "_kafka_producer", down)
    deploy(workspace)
    workspace.monitor.configure(
        "churn", MonitorRules(window_rows=500, breach_k=1, breach_n=1, event_sink=KAFKA)
    )
    send_traffic(workspace, 500, datetime(2024, 6, 1, tzinfo=UTC), 4.0, seed=2)
    result = workspace.monitor.run_checks("churn")
    assert result.alerts and "cannot reach Kafka" in result.deliveries[0]["error"]
    assert len(pending(workspace.store, workspace.project)) == 1
    assert workspace.monitor.run_checks("churn").alerts == []  # the pass's state was saved
