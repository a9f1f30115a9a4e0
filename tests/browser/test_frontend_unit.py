"""The lab extension's own unit tests (vitest: SSE parsing, inert rendering, preview formatting, errors)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

LABEXT = Path(__file__).resolve().parents[2] / "labextension"


def test_vitest_suite_passes() -> None:
    if not (LABEXT / "node_modules" / "vitest").is_dir():
        pytest.fail("labextension/node_modules is missing: run `make setup` (it installs the node deps)")
    jlpm = shutil.which("jlpm", path=str(Path(sys.executable).parent))
    assert jlpm, "jlpm (from jupyterlab) is missing from the venv"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "CI": "1",
    }
    done = subprocess.run(
        [jlpm, "test"], cwd=LABEXT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout, done.stdout[-2000:]
