"""CLI contract: fast --help without heavy engines, --json output, exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app

runner = CliRunner()
HEAVY = ("feast", "mlflow", "ray", "torch", "dagster", "papermill", "tritonclient", "onnxruntime", "sklearn")


def test_help_is_fast_and_imports_no_engine() -> None:
    code = (
        "import sys, time; t=time.perf_counter()\n"
        "from shipyard.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"heavy=[m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('RESULT', time.perf_counter()-t, heavy, file=sys.stderr)\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    line = next(x for x in proc.stderr.splitlines() if x.startswith("RESULT"))
    assert line.endswith("[]"), f"--help imported engines: {line}"
    assert "pipeline" in proc.stdout
    # The bound for a whole `shipyard --help`, interpreter start included.
    assert wall < 1.5, f"shipyard --help took {wall:.2f}s"


def test_init_json_prints_one_document_and_a_usable_token(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "w"), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["token"].startswith("shp_")
    listed = runner.invoke(app, ["token", "list", "--workspace", str(tmp_path / "w"), "--json"])
    assert json.loads(listed.stdout)[0]["name"] == "init"


def test_workspace_path_that_is_a_file_exits_2_with_message(tmp_path: Path) -> None:
    f = tmp_path / "plain.txt"
    f.write_text("x")
    result = runner.invoke(app, ["init", str(f)])
    assert result.exit_code == 2
    assert "is a file" in result.stderr
    result = runner.invoke(app, ["pipeline", "list", "--workspace", str(f)])
    assert result.exit_code == 2
    assert "is a file" in result.stderr


def test_missing_workspace_exits_2_and_json_has_the_envelope(tmp_path: Path) -> None:
    result = runner.invoke(app, ["models", "list", "--workspace", str(tmp_path), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "not_found"
    assert "shipyard init" in result.stderr


@pytest.mark.parametrize("pair", ["novalue", "=3"])
def test_bad_key_value_pairs_exit_2(tmp_path: Path, pair: str) -> None:
    runner.invoke(app, ["init", str(tmp_path / "w")])
    result = runner.invoke(app, ["pipeline", "run", "p", "--param", pair, "--workspace", str(tmp_path / "w")])
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr


def test_unknown_command_is_a_usage_error() -> None:
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2
