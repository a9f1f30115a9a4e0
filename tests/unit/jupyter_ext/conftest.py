"""An IPython shell with ``%load_ext shipyard`` pointed at a workspace, for the magics tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture()
def magic_workspace(workspace_dir: Path) -> Path:
    """The workspace the magics use; a module with its own example workspace overrides this."""
    return workspace_dir


@pytest.fixture()
def shell(magic_workspace: Path) -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "shipyard")
    ip.run_line_magic("shipyard_workspace", str(magic_workspace))
    yield ip
    InteractiveShell.clear_instance()
