"""Webhook delivery of outbox events: Slack- or Jira-shaped JSON, HMAC-signed, retried with backoff.

Targets resolving to link-local, multicast, reserved or unspecified addresses are always refused (cloud
metadata endpoints live there); private and loopback addresses only when the target opts in with
``allow_private`` (a receiver on the same machine or network).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from shipyard.errors import InvalidInput
from shipyard.events.outbox import OutboxEvent, mark_delivered, pending
from shipyard.store.db import MetadataStore

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Shipyard-Signature"


class WebhookTarget(BaseModel):
    """Where events go, in which shape, and how hard to try."""

    url: str = Field(min_length=1)
    format: Literal["slack", "jira", "raw"] = "slack"
    secret: str = Field(default="", description="HMAC-SHA256 key; empty: unsigned")
    allow_private: bool = False
    attempts: int = Field(default=4, ge=1, le=10)
    backoff_s: float = Field(default=0.5, ge=0)
    timeout_s: float = Field(default=5.0, gt=0)


@dataclass
class Delivery:
    """What happened to one event at one target."""

    event_id: int
    url: str
    ok: bool
    attempts: int
    status: int | None = None
    error: str = ""


@dataclass
class DeliveryReport:
    """Deliveries of one pass over the outbox."""

    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return sum(d.ok for d in self.deliveries)


def check_url(target: WebhookTarget) -> None:
    """Refuse non-HTTP URLs and hosts resolving to addresses the target may not reach."""
    parts = urlsplit(target.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook url {target.url!r} must be an http(s) URL with a host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise InvalidInput(
            f"webhook host {parts.hostname!r} does not resolve ({exc}); check the url"
        ) from exc
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if addr.is_link_local or addr.is_multicast or addr.is_reserved or addr.is_unspecified:
            raise InvalidInput(
                f"webhook url {target.url!r} resolves to {addr}, a link-local/reserved address; refused"
            )
        if (addr.is_private or addr.is_loopback) and not target.allow_private:
            raise InvalidInput(
                f"webhook url {target.url!r} resolves to private address {addr}; "
                "set allow_private=true on the target if that receiver is intended"
            )


def payload_for(event: OutboxEvent, fmt: str) -> dict[str, Any]:
    """The JSON body for ``event`` in the target's format."""
    body = event.payload
    title = str(body.get("title") or event.kind)
    text = str(body.get("message") or json.dumps(body, default=str)[:2000])
    if fmt == "slack":
        return {
            "text": f"[shipyard] {title}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            ],
            "shipyard": {"event_id": event.id, "kind": event.kind, "payload": body},
        }
    if fmt == "jira":
        return {
            "fields": {
                "summary": title[:255],
                "description": text,
                "issuetype": {"name": "Bug"},
                "labels": ["shipyard", event.kind.replace(".", "-")],
            },
            "shipyard": {"event_id": event.id, "kind": event.kind, "payload": body},
        }
    return {"event_id": event.id, "kind": event.kind, "project": event.project, "payload": body}


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC>`` of ``body`` with ``secret``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(event: OutboxEvent, target: WebhookTarget, sleep: Any = time.sleep) -> Delivery:
    """POST ``event`` to ``target`` with retries (exponential backoff on errors, 429 and 5xx)."""
    try:
        check_url(target)
    except InvalidInput as exc:
        return Delivery(event.id, target.url, False, 0, error=exc.message)
    body = json.dumps(payload_for(event, target.format), default=str).encode()
    headers = {"Content-Type": "application/json", "X-Shipyard-Event": event.kind}
    if target.secret:
        headers[SIGNATURE_HEADER] = sign(target.secret, body)
    status, error = None, ""
    for attempt in range(1, target.attempts + 1):
        request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=target.timeout_s) as response:  # noqa: S310 (checked)
                status = response.status
            return Delivery(event.id, target.url, True, attempt, status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if exc.code < 500 and exc.code != 429:
                return Delivery(event.id, target.url, False, attempt, status, error)
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))
        if attempt < target.attempts:
            sleep(target.backoff_s * 2 ** (attempt - 1))
    log.warning("webhook %s failed after %d attempts: %s", target.url, target.attempts, error)
    return Delivery(event.id, target.url, False, target.attempts, status, error)


def deliver_pending(
    store: MetadataStore, targets: list[WebhookTarget], project: str | None = None, kind_prefix: str = ""
) -> DeliveryReport:
    """Send every undelivered event (kinds starting with ``kind_prefix``) to every target."""
    report = DeliveryReport()
    for event in pending(store, project):
        if not event.kind.startswith(kind_prefix):
            continue
        results = [send(event, target) for target in targets]
        report.deliveries.extend(results)
        if results and all(r.ok for r in results):
            mark_delivered(store, event.id)
    return report
