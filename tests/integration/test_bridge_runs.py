"""Running promoted pipelines for real (Jupyter kernels, Dagster in-process, MLflow): the Kale example, live
progress, the step cache and --force, per-step timeouts that leave no kernel behind, resource requests."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from shipyard.errors import OperationFailed

pytestmark = pytest.mark.integration

KALE = Path(__file__).resolve().parents[2] / "examples" / "kale" / "cancer.ipynb"


def _write(path: Path, cells: list[tuple[str, list[str]]], metadata: dict[str, Any] | None = None) -> Path:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nb.metadata.update(metadata or {})
    nbformat.write(nb, str(path))
    return path


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    state = next((line for line in status.read_text().splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split()[1:2]  # a zombie is dead but unreaped: that counts as left behind too


def test_kale_example_promotes_and_runs_unchanged_with_progress_cache_and_mlflow(
    workspace: Any, tmp_path: Path
) -> None:
    notebook = tmp_path / "cancer.ipynb"
    shutil.copy(KALE, notebook)
    before = notebook.read_bytes()
    promoted = workspace.pipelines.promote(notebook)  # the name comes from Kale's metadata
    assert notebook.read_bytes() == before
    assert promoted.name == "kale-cancer"
    assert [(s.name, s.after) for s in promoted.steps] == [
        ("loaddata", []),
        ("datapreprocessing", ["loaddata"]),
        ("train_lr", ["datapreprocessing"]),
        ("train_rf", ["datapreprocessing"]),
        ("evaluate", ["datapreprocessing", "train_lr", "train_rf"]),
    ]
    events: list[tuple[str, str]] = []
    first = workspace.pipelines.run(
        "kale-cancer", {"N_TREES": 10}, progress=lambda s: events.append((s.name, s.status))
    )
    assert first.status == "succeeded", [s.error for s in first.steps]
    assert events[:2] == [("loaddata", "started"), ("loaddata", "succeeded")]
    assert len(events) == 10 and events[-1] == ("evaluate", "succeeded")
    assert first.metrics["lr_auc"] > 0.9 and first.metrics["rf_auc"] > 0.9
    assert not any(s.cached for s in first.steps)

    again = workspace.pipelines.run("kale-cancer", {"N_TREES": 10})
    assert again.status == "succeeded" and all(s.cached for s in again.steps)
    assert again.metrics == first.metrics
    assert all(Path(s.output_notebook).is_file() for s in again.steps)

    client = workspace.registry.client
    parent = client.get_run(first.mlflow_run_id)
    assert parent.data.params["N_TREES"] == "10"
    assert parent.data.metrics["lr_auc"] == pytest.approx(first.metrics["lr_auc"])
    spec = workspace.pipelines.spec("kale-cancer")
    assert parent.data.tags["shipyard.pipeline_sha256"] == spec["sha256"]
    assert parent.data.tags["shipyard.notebook_sha256"] == spec["source"]["sha256"]
    children = client.search_runs(
        [workspace.registry.experiment_id], f"tags.mlflow.parentRunId = '{first.mlflow_run_id}'"
    )
    assert sorted(c.data.tags["shipyard.step"] for c in children) == sorted(s.name for s in first.steps)
    evaluate = next(c for c in children if c.data.tags["shipyard.step"] == "evaluate")
    assert evaluate.data.metrics["best_accuracy"] == pytest.approx(first.metrics["best_accuracy"])


def test_a_step_past_its_timeout_is_stopped_and_its_kernel_killed(workspace: Any, tmp_path: Path) -> None:
    pid_file = tmp_path / "kernel.pid"
    cells = [
        ("import os, time", ["imports"]),
        (
            f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\nwhile True:\n    time.sleep(0.05)",
            ["step:spin"],
        ),
        ("after = 1", ["step:later", "after:spin"]),
    ]
    path = _write(tmp_path / "spin.ipynb", cells, {"shipyard": {"step_timeout_s": 3}})
    workspace.pipelines.promote(path, "spin")
    started = time.perf_counter()
    result = workspace.pipelines.run("spin")
    assert result.status == "failed"
    spin, later = result.steps
    assert spin.status == "failed" and spin.error is not None and "timed out" in spin.error
    assert "step_timeout_s" in spin.error
    assert later.status == "skipped"
    assert time.perf_counter() - started < 90
    pid = int(pid_file.read_text())
    deadline = time.time() + 10
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(pid), f"kernel {pid} outlived its step"


def test_missing_resources_warn_and_run_or_fail_fast_and_force_reruns(workspace: Any, tmp_path: Path) -> None:
    cells = [("value = 6 * 7", ["step:big", "limit:cpu:4096", "limit:nvidia.com/gpu:64"])]
    workspace.pipelines.promote(_write(tmp_path / "big.ipynb", cells), "big")
    with pytest.raises(OperationFailed, match="step 'big' asks for cpu: 4096"):
        workspace.pipelines.run("big", strict_resources=True)
    assert workspace.pipelines.list_runs("big") == []  # failed fast: nothing started
    warned = workspace.pipelines.run("big")
    assert warned.status == "succeeded"
    assert any("cpu: 4096" in w for w in warned.warnings)
    assert any("nvidia.com/gpu: 64" in w for w in warned.warnings)
    assert workspace.pipelines.run("big").steps[0].cached is True
    forced = workspace.pipelines.run("big", force=True)
    assert forced.status == "succeeded" and forced.steps[0].cached is False
    assert [r.run_id for r in workspace.pipelines.list_runs("big")][0] == forced.run_id
    assert os.path.isfile(forced.steps[0].output_notebook or "")
