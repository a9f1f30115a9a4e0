"""`shipyard monitor schedule`: writes the Dagster code location, refuses bad options writing nothing."""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shipyard.cli.monitor_cmd import app
from shipyard.monitor.scheduling import SCHEDULE, SENSOR

runner = CliRunner()


@pytest.fixture
def ws_dir(workspace: Any, add_deployment: Callable[..., None]) -> Path:
    add_deployment(workspace, ["c:tenure"], [])
    workspace.monitor.capture_reference_profile("churn", _reference(workspace.state_dir))
    return Path(workspace.root)


def _reference(folder: Path) -> Path:
    import pandas as pd

    path = folder / "ref.parquet"
    pd.DataFrame({"tenure": [float(i % 40) for i in range(500)]}).to_parquet(path)
    return path


def test_schedule_writes_a_code_location_dagster_loads(ws_dir: Path) -> None:
    out = ws_dir / "monitoring.py"
    args = ["schedule", "--cron", "@hourly", "-d", "churn", "--sensor-interval", "120", "--out", str(out)]
    result = runner.invoke(app, [*args, "--workspace", str(ws_dir), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc == {
        "path": str(out),
        "cron": "@hourly",
        "deployments": ["churn"],
        "sensor_interval_s": 120,
        "command": f"dagster dev -f {out}",
    }
    assert f"dagster dev -f {out.resolve()}" in out.read_text()
    defs = runpy.run_path(str(out))["defs"]
    assert defs.resolve_schedule_def(SCHEDULE).cron_schedule == "@hourly"
    assert defs.resolve_sensor_def(SENSOR).minimum_interval_seconds == 120


def test_schedule_default_path_is_under_the_workspace_state(ws_dir: Path) -> None:
    result = runner.invoke(app, ["schedule", "--workspace", str(ws_dir)])
    assert result.exit_code == 0, result.output
    assert (ws_dir / ".shipyard" / "monitor" / "definitions.py").exists()
    assert "serve it with: dagster dev -f" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--cron", "every hour"], 2, "not a valid cron expression"),
        (["--deployment", "nope"], 2, "no deployment named 'nope'"),
        (["--deployment", "../x"], 2, "deployment name '../x' is not valid"),
        (["--sensor-interval", "0"], 2, "sensor interval must be"),
        (["--out", "defs.txt"], 2, "must end in .py"),
        (["--out", "missing/defs.py"], 2, "does not exist"),
    ],
)
def test_bad_schedule_options_are_refused_and_nothing_is_written(
    ws_dir: Path, args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(app, ["schedule", *args, "--workspace", str(ws_dir), "--json"])
    assert result.exit_code == code, result.output
    assert message in json.loads(result.stdout)["error"]["message"]
    assert not (ws_dir / ".shipyard" / "monitor" / "definitions.py").exists()
    assert not (ws_dir / "defs.txt").exists()
