"""Outbox + webhook delivery against a real HTTP server on 127.0.0.1: payloads, HMAC, retries, refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shipyard.errors import InvalidInput
from shipyard.events.outbox import pending, publish, recent
from shipyard.events.webhooks import SIGNATURE_HEADER, WebhookTarget, check_url, deliver_pending, send


class Receiver:
    """A webhook receiver: records bodies and headers; answers the queued statuses, then 200."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"body": body, "headers": dict(self.headers)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def target(url: str, **kw: Any) -> WebhookTarget:
    return WebhookTarget(**({"url": url, "allow_private": True, "backoff_s": 0.01} | kw))


def test_slack_payload_is_delivered_signed_and_marked(workspace: Any, receiver: Receiver) -> None:
    store = workspace.store
    event = publish(
        store, "test", "monitor.alert", {"title": "churn: drift on tenure", "message": "tenure moved"}
    )
    report = deliver_pending(store, [target(receiver.url, secret="s3cret")], "test")
    assert report.delivered == 1 and not pending(store, "test")
    [got] = receiver.received
    body = json.loads(got["body"])
    assert body["text"] == "[shipyard] churn: drift on tenure" and body["shipyard"]["event_id"] == event.id
    expected = "sha256=" + hmac.new(b"s3cret", got["body"], hashlib.sha256).hexdigest()
    assert got["headers"][SIGNATURE_HEADER] == expected
    assert recent(store, "test", "monitor.")[0].delivered_at is not None


def test_jira_shape(workspace: Any, receiver: Receiver) -> None:
    publish(workspace.store, "test", "monitor.alert", {"title": "latency", "message": "p95 high"})
    deliver_pending(workspace.store, [target(receiver.url, format="jira")], "test")
    fields = json.loads(receiver.received[0]["body"])["fields"]
    assert fields["summary"] == "latency" and "shipyard" in fields["labels"]


def test_server_errors_are_retried_with_backoff(workspace: Any, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    event = publish(workspace.store, "test", "monitor.alert", {"title": "t"})
    waits: list[float] = []
    result = send(event, target(receiver.url, backoff_s=0.1), sleep=waits.append)
    assert result.ok and result.attempts == 3 and waits == [0.1, 0.2]


def test_client_errors_are_not_retried_and_stay_pending(workspace: Any, receiver: Receiver) -> None:
    receiver.statuses = [400]
    publish(workspace.store, "test", "monitor.alert", {"title": "t"})
    report = deliver_pending(workspace.store, [target(receiver.url)], "test")
    assert report.deliveries[0].attempts == 1 and report.deliveries[0].status == 400
    assert len(pending(workspace.store, "test")) == 1


def test_unreachable_receiver_gives_up_after_attempts(workspace: Any) -> None:
    event = publish(workspace.store, "test", "monitor.alert", {"title": "t"})
    result = send(event, target("http://127.0.0.1:9/hook", attempts=2), sleep=lambda s: None)
    assert not result.ok and result.attempts == 2 and result.error


@pytest.mark.parametrize(
    ("url", "allow_private", "message"),
    [
        ("ftp://example.org/x", False, "http(s) URL"),
        ("http:///nohost", False, "http(s) URL"),
        ("http://169.254.169.254/latest/meta-data", True, "link-local"),
        ("http://127.0.0.1:8080/hook", False, "allow_private"),
        ("http://10.1.2.3/hook", False, "allow_private"),
        ("http://0.0.0.0/hook", True, "link-local/reserved"),
    ],
)
def test_forbidden_urls_are_refused(url: str, allow_private: bool, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_url(WebhookTarget(url=url, allow_private=allow_private))
    assert message in info.value.message


def test_refused_target_is_reported_not_raised(workspace: Any) -> None:
    event = publish(workspace.store, "test", "monitor.alert", {"title": "t"})
    result = send(event, WebhookTarget(url="http://169.254.169.254/x"))
    assert not result.ok and result.attempts == 0 and "link-local" in result.error


@pytest.mark.parametrize("kind", ["", "x" * 81])
def test_bad_event_kind(workspace: Any, kind: str) -> None:
    with pytest.raises(InvalidInput):
        publish(workspace.store, "test", kind, {})
    assert not pending(workspace.store, "test")
