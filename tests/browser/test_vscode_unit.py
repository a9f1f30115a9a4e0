"""Runs the VS Code extension's own checks (vitest, tsc, ESLint) so `make test` covers them; no browser needed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.browser.node_workspace import VSCODE_EXT, ensure_installed

pytestmark = pytest.mark.browser

EXT = VSCODE_EXT


def _npx() -> str:
    """npx, once vscode_ext's dev dependencies (vitest, ESLint) are installed through the root workspace."""
    npx = shutil.which("npx")
    assert npx, "node/npm are missing (Node 20 is part of the toolchain)"
    ensure_installed("vitest", "eslint", "typescript-eslint")
    return npx


def _check(argv: list[str]) -> None:
    done = subprocess.run(argv, cwd=EXT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def test_extension_unit_tests_and_types() -> None:
    """vitest (API client against a local HTTP server, notebook/tag logic, inert webviews) and tsc pass."""
    npx = _npx()
    for argv in ([npx, "vitest", "run"], [npx, "tsc", "--noEmit", "-p", "."]):
        _check(argv)


def test_extension_lint() -> None:
    """ESLint (flat config, typescript-eslint type-checked rules) reports nothing, warnings included."""
    _check([_npx(), "eslint", "--max-warnings", "0", "."])


def test_lint_catches_a_floating_promise(tmp_path: Path) -> None:
    """The lint gate is live: an un-awaited promise in extension code is an error."""
    probe = EXT / "test" / f"_lint_probe_{tmp_path.name}.ts"
    probe.write_text("export async function f(): Promise<void> {}\nexport function g(): void {\n  f();\n}\n")
    try:
        done = subprocess.run(
            [_npx(), "eslint", str(probe)], cwd=EXT, capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        probe.unlink()
    assert done.returncode == 1 and "no-floating-promises" in done.stdout, done.stdout + done.stderr


def test_extension_is_a_workspace_of_the_root_package() -> None:
    """vscode_ext installs with the root workspace (one lockfile, the root's yarn.lock), not on its own."""
    import json

    root = json.loads((EXT.parent / "package.json").read_text())
    assert "vscode_ext" in root["workspaces"] and "labextension" in root["workspaces"]
    assert not (EXT / "package-lock.json").exists()
    lock = (EXT.parent / "yarn.lock").read_text()
    assert '"shipyard-vscode@workspace:vscode_ext"' in lock
