"""Webhook delivery of outbox events: Slack- or Jira-shaped JSON, HMAC-signed, retried with backoff.

Targets resolving to link-local, multicast, reserved or unspecified addresses are always refused (cloud
metadata endpoints live there); private and loopback addresses only when the target opts in with
``allow_private`` (a receiver on the same machine or network). The host is resolved once, checked, and the
connection is made to that checked address (pinned), so a DNS answer that changes between the check and the
connect (rebinding) cannot redirect a delivery; HTTP redirects are never followed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
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


def check_url(target: WebhookTarget) -> str:
    """Refuse non-HTTP URLs and hosts resolving to forbidden addresses; return the address to pin."""
    parts = urlsplit(target.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"webhook url {target.url!r} must be an http(s) URL with a host")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError) as exc:
        raise InvalidInput(
            f"webhook host {parts.hostname!r} does not resolve ({exc}); check the url"
        ) from exc
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        mapped = getattr(addr, "ipv4_mapped", None)
        addr = mapped if mapped is not None else addr  # ::ffff:169.254.169.254 is still 169.254.169.254
        if addr.is_link_local or addr.is_multicast or addr.is_reserved or addr.is_unspecified:
            raise InvalidInput(
                f"webhook url {target.url!r} resolves to {addr}, a link-local/reserved address; refused"
            )
        if (addr.is_private or addr.is_loopback) and not target.allow_private:
            raise InvalidInput(
                f"webhook url {target.url!r} resolves to private address {addr}; "
                "set allow_private=true on the target if that receiver is intended"
            )
    return str(infos[0][4][0])


def post_pinned(url: str, address: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST ``body`` to ``url`` over a connection to the already-checked ``address``; returns the status."""
    import http.client
    import ssl

    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sock = socket.create_connection((address, port), timeout=timeout)
    conn: http.client.HTTPConnection
    if https:
        # Certificate checked against the URL's host name, not the pinned address.
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPSConnection(host, port, timeout=timeout)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.sock = sock
    try:
        conn.request("POST", path, body=body, headers={**headers, "Host": parts.netloc.rpartition("@")[2]})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


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
        address = check_url(target)
    except InvalidInput as exc:
        return Delivery(event.id, target.url, False, 0, error=exc.message)
    body = json.dumps(payload_for(event, target.format), default=str).encode()
    headers = {"Content-Type": "application/json", "X-Shipyard-Event": event.kind}
    if target.secret:
        headers[SIGNATURE_HEADER] = sign(target.secret, body)
    status, error = None, ""
    for attempt in range(1, target.attempts + 1):
        try:
            status = post_pinned(target.url, address, body, headers, target.timeout_s)
        except OSError as exc:
            error = str(exc)
        else:
            if 200 <= status < 300:
                return Delivery(event.id, target.url, True, attempt, status)
            error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
            if status < 500 and status != 429:
                return Delivery(event.id, target.url, False, attempt, status, error)
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
