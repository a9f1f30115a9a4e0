"""Pipeline steps as Ray tasks on a real local Ray (2 CPUs, one per module): resources enforced, fail fast."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import nbformat
import pytest
from nbformat import v4
from typer.testing import CliRunner

from shipyard.errors import OperationFailed
from shipyard.gpu_runtime.training import ray_temp_dir
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, assert_ray_gone: Callable[..., None]) -> Iterator[Workspace]:
    from shipyard.workspace_init import init_workspace

    root = init_workspace(tmp_path_factory.mktemp("bray") / "ws", project="bridgeray").root
    w = Workspace.open(root)
    assert w.training.ensure_ray()["CPU"] == 2.0  # the one local Ray of this module
    ray_dir = ray_temp_dir(w.state_dir).resolve()
    yield w
    w.close()
    assert_ray_gone(ray_dir)


def _promote(ws: Workspace, name: str, cells: list[tuple[str, list[str]]], meta: dict[str, Any]) -> None:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nb.metadata.update({"shipyard": meta} if meta else {})
    path = ws.root / f"{name}.ipynb"
    nbformat.write(nb, str(path))
    ws.pipelines.promote(path, name)


TWO_STEPS = [
    ("n = 3", ["step:make"]),
    (
        "import os\nthreads = int(os.environ.get('OMP_NUM_THREADS', '0'))\ntotal = n * 2",
        ["step:double", "limit:cpu:2"],
    ),
    ("print(total, threads)", ["metrics"]),
]
THREADS = "import os\nthreads = int(os.environ.get('OMP_NUM_THREADS', '0'))"


def test_two_step_pipeline_runs_as_ray_tasks_with_step_resources(ws: Workspace) -> None:
    import ray

    from shipyard.cli.pipeline_cmd import app

    _promote(ws, "rayed", TWO_STEPS, {})
    result = CliRunner().invoke(app, ["run", "rayed", "--ray", "--json", "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    assert [s["status"] for s in run["steps"]] == ["succeeded", "succeeded"]
    assert run["metrics"]["total"] == 6
    # Ray sets OMP_NUM_THREADS to the task's CPUs; the kernel started in the Ray worker inherits it.
    assert run["metrics"]["threads"] == 2
    assert ray.is_initialized()  # the CLI's workspace did not shut down the module's Ray
    assert ws.pipelines.get_run(run["run_id"]).status == "succeeded"


def test_metadata_default_runs_on_ray_and_no_ray_runs_locally(ws: Workspace) -> None:
    import os

    cells = [(THREADS, ["step:a"]), ("print(threads)", ["metrics"])]
    _promote(ws, "meta", cells, {"ray": True, "resources": {"cpu": "1"}})
    assert ws.pipelines.spec("meta")["ray"] is True
    on_ray = ws.pipelines.run("meta")
    assert on_ray.status == "succeeded" and on_ray.metrics["threads"] == 1
    local = ws.pipelines.run("meta", ray=False, force=True)
    assert local.status == "succeeded"
    assert local.metrics["threads"] == int(os.environ.get("OMP_NUM_THREADS", "0"))


@pytest.mark.parametrize(
    ("tag", "what"),
    [("limit:cpu:8", "CPU 8 but the Ray cluster (local) has 2"), ("limit:nvidia.com/gpu:4", "GPU 4")],
)
def test_step_asking_more_than_the_cluster_fails_fast_before_any_step(
    ws: Workspace, tag: str, what: str
) -> None:
    name = "big" + tag.split(":")[1].replace(".", "").replace("/", "")
    _promote(ws, name, [("x = 1", ["step:first"]), ("y = x", ["step:huge", tag])], {})
    before = len(ws.pipelines.list_runs(name, 100))
    started = time.monotonic()
    with pytest.raises(OperationFailed, match=re.escape(what)) as info:
        ws.pipelines.run(name, ray=True)
    assert time.monotonic() - started < 10
    assert "step 'huge'" in info.value.message and "limit: tag" in info.value.message
    assert len(ws.pipelines.list_runs(name, 100)) == before  # nothing ran, no run recorded
