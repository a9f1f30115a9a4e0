"""``shipyard pipeline`` commands through their own Typer app: preview, promote with a diff, show, runs, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4
from typer.testing import CliRunner

from shipyard.cli.pipeline_cmd import app

runner = CliRunner()


def _write(path: Path, cells: list[tuple[str, list[str]]]) -> Path:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nbformat.write(nb, str(path))
    return path


def _cli(workspace_dir: Path, *args: str) -> Any:
    return runner.invoke(app, [*args, "--workspace", str(workspace_dir)])


def test_preview_promote_diff_show_and_runs(workspace_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", [("a = 1", ["step:load"]), ("b = a", ["step:train"])])
    r = _cli(workspace_dir, "promote", str(path), "--name", "p", "--preview")
    assert r.exit_code == 0, r.output
    assert "nothing written" in r.stdout and "step train: cells [2] after load" in r.stdout
    assert not (workspace_dir / "pipelines" / "p").exists()
    r = _cli(workspace_dir, "promote", str(path), "--name", "p", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["applied"] is True
    _write(path, [("a = 2", ["step:load"]), ("c = a", ["step:report"])])
    r = _cli(workspace_dir, "promote", str(path), "--name", "p")
    assert (
        "+ step report" in r.stdout and "- step train" in r.stdout and "~ step load: code changed" in r.stdout
    )
    r = _cli(workspace_dir, "show", "p", "--json")
    assert [s["name"] for s in json.loads(r.stdout)["steps"]] == ["load", "report"]
    assert json.loads(_cli(workspace_dir, "list", "--json").stdout) == {"pipelines": ["p"]}
    assert json.loads(_cli(workspace_dir, "runs", "p", "--json").stdout) == {"runs": []}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["show", "nope"], "not found"),
        (["runs", "nope"], "not found"),
        (["run", "nope"], "not found"),
        (["serve", "nope"], "not found"),
    ],
)
def test_unknown_names_exit_2_with_a_message(workspace_dir: Path, args: list[str], needle: str) -> None:
    r = _cli(workspace_dir, *args)
    assert r.exit_code == 2 and needle in r.output


def test_bad_notebook_exits_2_and_writes_nothing(workspace_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", [("a = 1", ["step:a", "stpe:b"])])
    r = _cli(workspace_dir, "promote", str(path), "--name", "p", "--json")
    assert r.exit_code == 2 and "unknown tag 'stpe:b'" in json.loads(r.stdout)["error"]["message"]
    assert not (workspace_dir / "pipelines" / "p").exists()


def test_serve_builds_the_webserver_command_or_says_what_to_install(workspace: Any, tmp_path: Path) -> None:
    from shipyard.errors import EngineUnavailable

    workspace.pipelines.promote(_write(tmp_path / "nb.ipynb", [("a = 1", ["step:a"])]), "p")
    try:
        command = workspace.pipelines.webserver("p", 3999)
    except EngineUnavailable as exc:
        assert "pip install 'dagster-webserver==" in exc.message
        return
    assert command.argv[1:] == [
        "-f",
        str(workspace.root / "pipelines" / "p" / "definitions.py"),
        "-h",
        "127.0.0.1",
        "-p",
        "3999",
    ]
    assert command.url == "http://127.0.0.1:3999"
