"""Webhook SSRF: metadata endpoints, loopback and private ranges refused; the checked address is pinned."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from shipyard.errors import InvalidInput
from shipyard.events.outbox import publish
from shipyard.events.webhooks import WebhookTarget, check_url, send


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://2852039166/latest/meta-data/",  # 169.254.169.254 as one decimal number
        "http://0xa9fea9fe/",  # ... and in hex
        "http://[fe80::1]/",
        "http://0.0.0.0:8765/api/v1/deployments",
        "http://224.0.0.1/",
        "http://[::1]/",  # IPv6 loopback sits in the reserved ::/8 block
    ],
)
@pytest.mark.parametrize("allow_private", [False, True])
def test_link_local_and_reserved_targets_are_always_refused(url: str, allow_private: bool) -> None:
    with pytest.raises(InvalidInput, match="link-local/reserved"):
        check_url(WebhookTarget(url=url, allow_private=allow_private))


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8765/api/v1/deployments",
        "http://127.0.0.1/",
        "http://127.1/",
        "http://10.0.0.5/",
        "http://172.16.3.4/",
        "http://192.168.1.1/admin",
    ],
)
def test_loopback_and_private_targets_need_an_explicit_opt_in(url: str) -> None:
    with pytest.raises(InvalidInput, match="allow_private"):
        check_url(WebhookTarget(url=url))


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "ftp://x/y", "http://"]
)
def test_non_http_schemes_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="http"):
        check_url(WebhookTarget(url=url, allow_private=True))


@pytest.fixture()
def receiver() -> Iterator[tuple[ThreadingHTTPServer, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, hosts
    server.shutdown()
    server.server_close()


def test_dns_answer_is_resolved_once_and_pinned(
    workspace: Any, receiver: tuple[ThreadingHTTPServer, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, hosts = receiver
    port = server.server_address[1]
    answers = iter(["127.0.0.1", "169.254.169.254"])  # a rebinding resolver: safe first, metadata next
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kw: Any) -> Any:
        if host == "hooks.rebind.test":
            return real(next(answers), *args, **kw)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    event = publish(workspace.store, "test", "monitor.alert", {"title": "t"})
    result = send(event, WebhookTarget(url=f"http://hooks.rebind.test:{port}/hook", allow_private=True))
    assert result.ok, result.error
    assert hosts == [f"hooks.rebind.test:{port}"]  # delivered to the checked address, with the real Host


def test_redirects_are_not_followed(workspace: Any) -> None:
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        event = publish(workspace.store, "test", "monitor.alert", {"title": "t"})
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        result = send(event, WebhookTarget(url=url, allow_private=True))
    finally:
        server.shutdown()
        server.server_close()
    assert not result.ok and result.status == 302 and "not followed" in result.error
