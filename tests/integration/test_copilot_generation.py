"""The copilot's change check (one generation read; other processes' writes still seen) and chunked passes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

QUESTION = "where are the satellite telemetry readings from the orbiting weather probes?"


def keys(answer: Any) -> list[str]:
    return [f"{c.kind}:{c.name}" for c in answer.citations]


@pytest.fixture()
def copilot(workspace: Any) -> Iterator[Any]:
    from shipyard.copilot.service import copilot_for

    cat = workspace.catalog
    cat.upsert("table", "web.raw_clickstream", title="Raw clickstream", description="Page views and clicks.")
    cat.upsert("model", "churn", title="Churn classifier", description="Predicts subscriber cancellations.")
    service = copilot_for(workspace)
    service.index()
    yield service
    service.close()


def _count_change_queries(monkeypatch: pytest.MonkeyPatch, catalog: Any) -> list[str]:
    calls: list[str] = []
    for name in ("list_changed", "removed_since"):
        real = getattr(catalog, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(catalog, name, counted)
    return calls


def _in_other_process(workspace_dir: Path, body: str) -> None:
    script = "from shipyard.workspace import Workspace\n"
    script += f"ws = Workspace.open({str(workspace_dir)!r})\n" + textwrap.dedent(body) + "ws.close()\n"
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_unchanged_catalog_skips_change_queries_and_other_process_writes_are_seen(
    copilot: Any, workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_change_queries(monkeypatch, copilot._ws.catalog)
    for _ in range(3):
        assert "table:space.probe_telemetry" not in keys(copilot.ask(QUESTION))
    assert calls == []  # nothing changed: only the generation row was read
    _in_other_process(
        workspace_dir,
        """
        ws.catalog.upsert(
            "table",
            "space.probe_telemetry",
            title="Weather probe telemetry",
            description="Satellite telemetry readings sent by orbiting weather probes, one row per reading.",
            owner="space",
        )
        """,
    )
    assert keys(copilot.ask(QUESTION))[0] == "table:space.probe_telemetry"
    assert sorted(calls) == ["list_changed", "removed_since"]
    _in_other_process(workspace_dir, 'ws.catalog.remove("table", "space.probe_telemetry")\n')
    assert "table:space.probe_telemetry" not in keys(copilot.ask(QUESTION))
    assert "space.probe_telemetry" not in str([r.payload for r in copilot.retrieve(QUESTION)[0]])


@pytest.mark.parametrize("pipelined", [True, False])
def test_chunked_pipelined_and_serial_passes_store_the_same_points(
    copilot: Any, monkeypatch: pytest.MonkeyPatch, pipelined: bool
) -> None:
    from shipyard.copilot import indexer as indexing

    monkeypatch.setattr(indexing, "_CHUNK", 1)  # every asset its own chunk: the worker path runs
    monkeypatch.setattr(indexing, "PIPELINE", pipelined)
    before = {p.point_id: p.payload["hash"] for p in copilot.indexer.store.scan()}
    report = copilot.index(rebuild=True)
    assert report.indexed == report.total == len(before) == 2
    assert set(report.phases) == {"read", "embed", "store"}
    assert {p.point_id: p.payload["hash"] for p in copilot.indexer.store.scan()} == before
    assert keys(copilot.ask("model that predicts subscriber cancellation"))[0] == "model:churn"
