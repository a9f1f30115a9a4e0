"""Early-launched kernels: every step still gets its own fresh kernel with its own run context, and no kernel
outlives the run (last step's spare, a failed run's spares)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

pytestmark = pytest.mark.integration

CONTEXT = (
    "import json, os\n"
    "{v}_pid = os.getpid()\n"
    "{v}_ok = float(json.loads(os.environ['SHIPYARD_RUN_CONTEXT'])['step'] == '{v}')\n"
    "{v}_fresh = float('leak' not in globals())\n"
    "leak = 1"
)


_BEFORE: set[int] = set()


@pytest.fixture(autouse=True)
def _kernels_before() -> None:
    # Kernels another module's long-lived fixture owns (e.g. a JupyterLab under test) are not this test's.
    _BEFORE.clear()
    _BEFORE.update(_all_kernels())


def _all_kernels() -> list[int]:
    import psutil

    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if "kernel" in " ".join(p.cmdline()):
                found.append(p.pid)
        except psutil.Error:  # exited while we looked
            continue
    return found


def _kernels() -> list[int]:
    """Kernel processes started by this test that are still running."""
    return [pid for pid in _all_kernels() if pid not in _BEFORE]


def _promote(workspace: Any, tmp_path: Path, name: str, extra: list[tuple[str, list[str]]]) -> None:
    cells = [(CONTEXT.format(v=s), [f"step:{s}"]) for s in ("a", "b", "c")] + extra
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nbformat.write(nb, str(tmp_path / f"{name}.ipynb"))
    workspace.pipelines.promote(tmp_path / f"{name}.ipynb", name)


def test_each_step_runs_in_its_own_kernel_with_its_own_context(workspace: Any, tmp_path: Path) -> None:
    metrics = "\n".join(f"{s}_pid\n{s}_ok\n{s}_fresh" for s in "abc")
    _promote(workspace, tmp_path, "warm", [(metrics, ["metrics"])])
    run = workspace.pipelines.run("warm")
    assert run.status == "succeeded", [s.error for s in run.steps]
    m = run.metrics
    assert len({m["a_pid"], m["b_pid"], m["c_pid"]}) == 3
    assert all(m[f"{s}_ok"] == 1.0 and m[f"{s}_fresh"] == 1.0 for s in "abc")
    assert _kernels() == []


def test_a_failed_run_leaves_no_spare_kernel(workspace: Any, tmp_path: Path) -> None:
    _promote(workspace, tmp_path, "fails", [("raise ValueError('stop')", ["step:d"]), ("e = 1", ["step:e"])])
    spec = workspace.pipelines.spec("fails")
    assert [s["name"] for s in spec["steps"]] == ["a", "b", "c", "d", "e"]
    run = workspace.pipelines.run("fails")
    assert run.status == "failed" and "ValueError: stop" in (run.steps[3].error or "")
    assert _kernels() == []


def test_a_warm_kernel_preloads_modules_without_binding_names(tmp_path: Path) -> None:
    import os
    import sys

    from jupyter_client.blocking import BlockingKernelClient

    from shipyard.bridge import warmkernel

    (tmp_path / "marker.py").write_text("VALUE = 42\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    warmkernel.launch("r1", "python3", tmp_path, env, [], preload=["marker", "no_such_module_xyz"])
    km = warmkernel.take("r1", "python3", tmp_path, {"STEP": "a"})
    assert km is not None
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        expressions = {
            "loaded": "'marker' in __import__('sys').modules",
            "bound": "'marker' in globals()",
            "step": "__import__('os').environ['STEP']",
        }
        reply = client.execute_interactive("", user_expressions=expressions, timeout=60)
        values = {k: v["data"]["text/plain"] for k, v in reply["content"]["user_expressions"].items()}
    finally:
        client.stop_channels()
        warmkernel.shutdown(km)
    assert values == {"loaded": "True", "bound": "False", "step": "'a'"}
    assert "marker" not in sys.modules  # loaded in the kernel, not in this process
    assert _kernels() == []
