"""Runs the VS Code extension's own unit tests (vitest) so `make test` covers them; no browser needed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

EXT = Path(__file__).resolve().parents[2] / "vscode_ext"


def test_extension_unit_tests_and_types() -> None:
    """vitest (API client against a local HTTP server, notebook/tag logic, inert webviews) and tsc pass."""
    npm, npx = shutil.which("npm"), shutil.which("npx")
    assert npm and npx, "node/npm are missing (Node 20 is part of the toolchain)"
    if not (EXT / "node_modules" / "vitest").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXT, check=True, timeout=600)
    for argv in ([npx, "vitest", "run"], [npx, "tsc", "--noEmit", "-p", "."]):
        done = subprocess.run(argv, cwd=EXT, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
