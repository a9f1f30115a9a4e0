"""``shipyard copilot`` CLI, ``POST /api/v1/copilot/ask`` (JSON and event stream) and ``%copilot``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shipyard.cli.copilot_cmd import app as cli

pytestmark = pytest.mark.integration


@pytest.fixture()
def seeded(workspace: Any) -> Iterator[Any]:
    from shipyard.copilot.service import copilot_for

    workspace.catalog.upsert(
        "table",
        "sales.transactions_clean",
        title="Cleaned transaction history",
        description="Card transactions with refund flags.",
        owner="payments",
        source="data/tx.parquet",
    )
    workspace.catalog.upsert(
        "feature",
        "customer_stats:ltv_90d",
        title="Customer lifetime value 90 days",
        description="Revenue per customer over the last 90 days.",
        owner="growth",
    )
    yield workspace
    copilot_for(workspace).close()


def run(ws: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, [*args, "--workspace", str(ws.root)])


def test_cli_index_ask_json_and_batch(seeded: Any, tmp_path: Path) -> None:
    indexed = run(seeded, "index", "--json")
    assert indexed.exit_code == 0, indexed.output
    assert json.loads(indexed.stdout)["indexed"] == 2
    asked = run(seeded, "ask", "where is the transaction history with refunds?", "--json")
    assert asked.exit_code == 0, asked.output
    doc = json.loads(asked.stdout)
    assert doc["citations"][0]["name"] == "sales.transactions_clean" and "timings_ms" in doc
    batch = tmp_path / "q.txt"
    batch.write_text("customer revenue over 90 days\n\nwhere are refunds?\n", encoding="utf-8")
    out = run(seeded, "ask", "--batch", str(batch))
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    assert out.exit_code == 0 and len(lines) == 2
    assert lines[0]["citations"][0]["name"] == "customer_stats:ltv_90d"
    assert lines[1]["citations"][0]["name"] == "sales.transactions_clean"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ask", ""], "question is empty"),
        (["ask"], "QUESTION or --batch"),
        (["ask", "--batch", "/no/such/file.txt"], "no such file"),
        (["eval", "/no/such/q.tsv"], "no such file"),
    ],
)
def test_cli_bad_input_exits_2(seeded: Any, args: list[str], needle: str) -> None:
    result = run(seeded, *args)
    assert result.exit_code == 2 and needle in result.output


def test_cli_eval_prints_metrics(seeded: Any, tmp_path: Path) -> None:
    tsv = tmp_path / "q.tsv"
    tsv.write_text(
        "refunded card payments\ttable:sales.transactions_clean\n"
        "client value over a quarter\tfeature:customer_stats:ltv_90d|table:x\n",
        encoding="utf-8",
    )
    result = run(seeded, "eval", str(tsv), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["questions"] == 2 and report["hit_at_5"] == 1.0 and report["p95_ms"] > 0
    bad = tmp_path / "bad.tsv"
    bad.write_text("a question without gold\n", encoding="utf-8")
    failed = run(seeded, "eval", str(bad))
    assert failed.exit_code == 2 and "bad.tsv:1" in failed.output


@pytest.fixture()
def client(seeded: Any) -> Iterator[TestClient]:
    from shipyard.server.app import create_app

    # The real app: its policy dependency authenticates the token and authorizes copilot.ask per project.
    token = seeded.tokens.create("copilot-rest").secret
    with TestClient(create_app(seeded, close_on_shutdown=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def test_rest_refuses_a_project_the_caller_has_no_role_in(client: TestClient) -> None:
    resp = client.post("/api/v1/copilot/ask", json={"question": "refund flags", "projects": ["someone-else"]})
    assert resp.status_code == 403 and "someone-else" in resp.json()["error"]["message"]


def test_rest_ask_json_and_stream(client: TestClient) -> None:
    doc = client.post("/api/v1/copilot/ask", json={"question": "transactions with refund flags"}).json()
    assert doc["citations"][0]["name"] == "sales.transactions_clean"
    with client.stream(
        "POST", "/api/v1/copilot/ask", json={"question": "transactions with refund flags", "stream": True}
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        body = "".join(resp.iter_text())
    events = [block.split("\n", 1) for block in body.strip().split("\n\n")]
    names = [e[0].removeprefix("event: ") for e in events]
    assert names[-1] == "answer" and set(names[:-1]) == {"token"}
    final = json.loads(events[-1][1].removeprefix("data: "))
    text = "".join(json.loads(e[1].removeprefix("data: "))["text"] for e in events[:-1])
    assert text == final["answer"] and final["citations"][0]["name"] == "sales.transactions_clean"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": ""}, 422),
        ({"question": "   ", "stream": True}, 422),
        ({}, 422),
        ({"question": "x" * 200_000}, 422),
    ],
)
def test_rest_bad_input(client: TestClient, body: dict[str, Any], status: int) -> None:
    resp = client.post("/api/v1/copilot/ask", json=body)
    assert resp.status_code == status


def test_magic_answers_with_sources(seeded: Any) -> None:
    from shipyard.jupyter_ext.magics import copilot

    registered: dict[str, Any] = {}

    class Shell:
        def register_magic_function(self, fn: Any, kind: str, name: str) -> None:
            registered[name] = fn

    class Session:
        workspace = seeded

    copilot.register(Shell(), Session())
    shown = registered["copilot"]("customer revenue over 90 days")
    assert "customer_stats:ltv_90d" in shown._repr_markdown_() and "Sources" in shown._repr_markdown_()
    assert "customer_stats:ltv_90d" in repr(shown)


@pytest.mark.parametrize(("user", "granted"), [("dana", True), ("erin", False)])
def test_rest_masked_values_follow_the_callers_grants(seeded: Any, user: str, granted: bool) -> None:
    from shipyard.governance.access import AccessService
    from shipyard.server.app import create_app

    seeded.catalog.upsert(
        "table",
        "crm.customers",
        title="Customer master",
        description="One row per customer with their e-mail address.",
        owner="crm",
        columns=[
            {"name": "email", "type": "str", "description": "customer e-mail address", "sensitive": True}
        ],
        attributes={"stats": {"email": {"samples": ["alice@example.com"]}}},
    )
    access = AccessService(seeded.store)
    for name in ("dana", "erin"):
        access.add_user(name)
        access.bind(name, seeded.project, "viewer")
    access.grant("dana", seeded.project, "crm.customers", "email", by="admin")
    token = seeded.tokens.create(f"{user}-token", user=user).secret
    with TestClient(create_app(seeded, close_on_shutdown=False)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        doc = c.post("/api/v1/copilot/ask", json={"question": "customer e-mail addresses"}).json()
    assert doc["citations"][0]["name"].startswith("crm.customers")  # the table or its column
    assert "email" in doc["answer"]
    assert ("alice@example.com" in doc["answer"]) is granted
    assert ("[masked]" in doc["answer"]) is not granted
