"""Promote a tagged notebook and run it for real: papermill step notebooks in a Jupyter kernel, Dagster in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
import pytest
from nbformat import v4

pytestmark = pytest.mark.integration

CELLS: list[tuple[str, list[str]]] = [
    ("import json\nimport os\n\nimport pandas as pd", ["imports"]),
    ("rows = 20\nscale = 2.0\nfail_in = ''", ["parameters"]),
    ("df = pd.DataFrame({'x': range(rows)})\ntotal = int(df['x'].sum())", ["step:load"]),
    ("df.head()", []),  # untagged: joins load
    (
        "if fail_in == 'train':\n    raise RuntimeError('boom in train')\n"
        "scaled = total * scale\ndf['y'] = df['x'] * scale",
        ["step:train"],
    ),
    (
        "import shipyard\n"
        "context = json.loads(os.environ['SHIPYARD_RUN_CONTEXT'])\n"
        "same_workspace = float(str(shipyard.open_workspace().root) == os.environ['SHIPYARD_WORKSPACE'])\n"
        "context_ok = float(context['step'] == 'evaluate' and len(context['notebook_sha256']) == 64)\n"
        "y_sum = float(df['y'].sum())\nrows_seen = len(df)",
        ["step:evaluate"],
    ),
    ("scaled\ny_sum\nrows_seen\nsame_workspace\ncontext_ok", ["metrics"]),
]


@pytest.fixture()
def promoted(workspace: Any) -> Any:
    path = workspace.root / "notebooks" / "train.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in CELLS])
    nbformat.write(nb, str(path))
    result = workspace.pipelines.promote(path, "churn")
    assert [(s.name, s.after) for s in result.steps] == [
        ("load", []),
        ("train", ["load"]),
        ("evaluate", ["train"]),
    ]
    assert result.steps[0].cells == [3, 4]
    return workspace


def test_run_passes_a_frame_and_a_number_and_takes_parameter_overrides(promoted: Any) -> None:
    ws = promoted
    result = ws.pipelines.run("churn", params={"rows": "7"})
    assert result.status == "succeeded", [s.error for s in result.steps]
    assert [s.status for s in result.steps] == ["succeeded"] * 3
    for step in result.steps:
        assert step.duration_s > 0
        assert step.output_notebook is not None and Path(step.output_notebook).is_file()
    # rows=7: total = 21, scaled = 42.0; train's in-place df['y'] reaches evaluate
    assert result.metrics == {
        "scaled": 42.0,
        "y_sum": 42.0,
        "rows_seen": 7.0,
        "same_workspace": 1.0,
        "context_ok": 1.0,
    }
    run_dir = Path(result.run_dir)
    assert run_dir.parent == ws.root / ".shipyard" / "runs"
    assert len(pd.read_parquet(run_dir / "load" / "data" / "df.parquet")) == 7
    executed = nbformat.read(result.steps[0].output_notebook, as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "rows = 7" in injected[0].source
    recorded = ws.pipelines.get_run(result.run_id)
    assert recorded.status == "succeeded"
    assert [s.name for s in recorded.steps] == ["load", "train", "evaluate"]
    assert recorded.parameters["rows"] == 7


def test_failing_step_fails_the_run_and_later_steps_do_not_run(promoted: Any) -> None:
    ws = promoted
    result = ws.pipelines.run("churn", params={"fail_in": "train"})
    assert result.status == "failed"
    load, train, evaluate = result.steps
    assert load.status == "succeeded"
    assert train.status == "failed"
    assert train.error is not None and "boom in train" in train.error and "cell 5" in train.error
    assert train.output_notebook is not None and Path(train.output_notebook).is_file()
    assert evaluate.status == "skipped" and evaluate.output_notebook is None
    assert not (Path(result.run_dir) / "evaluate").exists()
    recorded = ws.pipelines.get_run(result.run_id)
    assert recorded.status == "failed"
    assert json.loads(json.dumps(recorded.steps[1].error)) == train.error


def test_definitions_file_is_a_dagster_code_location(promoted: Any) -> None:
    import dagster as dg

    from shipyard.bridge.runner import _load_definitions

    module = _load_definitions(promoted.root / "pipelines" / "churn", "check")
    assert isinstance(module.defs, dg.Definitions)
    graph = module.defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == {"churn/load", "churn/train", "churn/evaluate"}
    parents = graph.get(dg.AssetKey(["churn", "evaluate"])).parent_keys
    assert parents == {dg.AssetKey(["churn", "train"])}
