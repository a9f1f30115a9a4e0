"""``shipyard lab``: the jupyter command line it builds, and bad workspaces refused before exec."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from shipyard.cli import lab_cmd


def _app() -> typer.Typer:
    app = typer.Typer()
    lab_cmd.register(app)
    app.command("noop", hidden=True)(lambda: None)  # two commands, so `lab` stays a subcommand
    return app


def test_argv_runs_jupyterlab_in_the_workspace() -> None:
    argv = lab_cmd.lab_argv("/ws", 8899, False, "127.0.0.1", ["--foo=1"])
    assert argv[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.root_dir=/ws" in argv and "--ServerApp.port=8899" in argv and "--no-browser" in argv
    assert argv[-1] == "--foo=1"
    assert ("--allow-root" in argv) == (os.geteuid() == 0)
    assert not any("jpserver_extensions" in a for a in argv)  # the installed config enables it


def test_lab_execs_jupyter_with_the_workspace_env(
    workspace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    monkeypatch.chdir(workspace_dir.parent)

    def fake_execv(path: str, argv: list[str]) -> None:
        seen.update(path=path, argv=argv, env=os.environ.get("SHIPYARD_WORKSPACE"), cwd=os.getcwd())

    monkeypatch.setattr(lab_cmd.os, "execv", fake_execv)
    result = CliRunner().invoke(
        _app(), ["lab", "--no-browser", "--port", "8901", "--workspace", str(workspace_dir)]
    )
    assert result.exit_code == 0, result.output
    assert seen["env"] == str(workspace_dir) and seen["cwd"] == str(workspace_dir)
    assert f"--ServerApp.root_dir={workspace_dir}" in seen["argv"]  # type: ignore[operator]


@pytest.mark.parametrize("kind", ["missing", "file", "no_toml"])
def test_bad_workspace_exits_2_without_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("")
    elif kind == "no_toml":
        target.mkdir()
    monkeypatch.setattr(lab_cmd.os, "execv", lambda *a: pytest.fail("must not start jupyter"))
    result = CliRunner().invoke(_app(), ["lab", "--workspace", str(target)])
    assert result.exit_code == 2, result.output
    assert "shipyard.toml" in result.output or "shipyard init" in result.output
