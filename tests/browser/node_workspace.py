"""The root package.json's workspaces (labextension, vscode_ext): one `jlpm install` fills both node_modules.

`make setup` runs it already; tests call ``ensure_installed`` so that running one file alone works too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VSCODE_EXT = REPO / "vscode_ext"


def jlpm() -> str:
    """The yarn the root workspace pins (jupyterlab's jlpm, from the venv)."""
    found = Path(sys.executable).with_name("jlpm")
    if found.exists():
        return str(found)
    on_path = shutil.which("jlpm")
    assert on_path, "jlpm is missing: run `make setup` (jupyterlab installs it into the venv)"
    return on_path


def ensure_installed(*deps: str) -> None:
    """Install the workspaces' dependencies when any of ``deps`` is missing from vscode_ext/node_modules."""
    if all((VSCODE_EXT / "node_modules" / dep).exists() for dep in deps):
        return
    subprocess.run([jlpm(), "install"], cwd=REPO, check=True, timeout=900, capture_output=True)
