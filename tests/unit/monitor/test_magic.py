"""``%monitor``: line parsing (bad lines are clear errors) and the tables it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.jupyter_ext.magics.monitor import monitor_magic, parse_monitor_line, register
from shipyard.monitor import PredictionRecord


class fake_session:  # noqa: N801 (stands in for MagicSession without an IPython shell)
    def __init__(self, ws: Any) -> None:
        self.workspace = ws


@pytest.mark.parametrize(
    "line", ["", "status", "explode churn", "status a b", "status 'unclosed", "schedule a b"]
)
def test_bad_lines(line: str) -> None:
    with pytest.raises(InvalidInput, match="%monitor"):
        parse_monitor_line(line)


def test_status_and_latency_tables(workspace: Any) -> None:
    t0 = datetime(2024, 6, 1, tzinfo=UTC)
    workspace.monitor.log_predictions(
        "churn",
        "1",
        [
            PredictionRecord(request_id=f"q{i}", ts=t0 + timedelta(minutes=i), latency_ms=float(i))
            for i in range(5)
        ],
    )
    latency = monitor_magic(fake_session(workspace), "latency churn")
    assert "p95_ms" in latency.columns and len(latency.rows) == 1
    status = monitor_magic(fake_session(workspace), "status churn")
    assert "open alerts none" in status.title and "<table>" in status._repr_html_()


def test_register_adds_the_line_magic() -> None:
    seen: dict[str, Any] = {}

    class Shell:
        def register_magic_function(self, fn: Any, magic_kind: str, magic_name: str) -> None:
            seen[magic_name] = (magic_kind, fn)

    register(Shell(), fake_session(None))
    assert seen["monitor"][0] == "line"


def test_schedule_writes_the_code_location(workspace: Any) -> None:
    table = monitor_magic(fake_session(workspace), "schedule")
    [[path, command]] = table.rows
    assert command == f"dagster dev -f {path}" and path.endswith("definitions.py")
    assert "every deployment" in table.title
    with pytest.raises(NotFound, match="no deployment named 'ghost'"):
        monitor_magic(fake_session(workspace), "schedule ghost")
