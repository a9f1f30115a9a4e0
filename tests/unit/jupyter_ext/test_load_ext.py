"""`%load_ext shipyard` on a real IPython shell registers the magics and finds the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from shipyard.errors import NotFound


@pytest.fixture()
def shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    yield ip
    InteractiveShell.clear_instance()


def test_load_ext_registers_workspace_magic(shell: InteractiveShell, workspace_dir: Path) -> None:
    shell.run_line_magic("load_ext", "shipyard")
    assert "shipyard_workspace" in shell.magics_manager.magics["line"]
    root = shell.run_line_magic("shipyard_workspace", str(workspace_dir))
    assert root == str(workspace_dir)


def test_workspace_magic_reports_a_missing_workspace(shell: InteractiveShell, tmp_path: Path) -> None:
    shell.run_line_magic("load_ext", "shipyard")
    with pytest.raises(NotFound, match="shipyard init"):
        shell.run_line_magic("shipyard_workspace", str(tmp_path))
