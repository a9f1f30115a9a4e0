"""PipelineService.promote without running anything: files written, bad input writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from shipyard.bridge.runner import coerce_parameters
from shipyard.errors import InvalidInput, NotFound


def _notebook(path: Path, cells: list[tuple[str, list[str]]]) -> Path:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nbformat.write(nb, str(path))
    return path


GOOD = [
    ("import pandas as pd", ["imports"]),
    ("rows = 10", ["parameters"]),
    ("df = pd.DataFrame({'x': range(rows)})", ["step:load"]),
    ("total = df.x.sum()", ["step:train", "limit:nvidia.com/gpu:1"]),
]


def test_promote_writes_step_notebooks_definitions_and_spec(workspace: Any, tmp_path: Path) -> None:
    path = _notebook(tmp_path / "nb.ipynb", GOOD)
    result = workspace.pipelines.promote(path, "demo")
    target = workspace.root / "pipelines" / "demo"
    assert result.path == str(target)
    assert [(s.name, s.cells, s.after) for s in result.steps] == [("load", [3], []), ("train", [4], ["load"])]
    assert result.steps[0].parameters == {"rows": 10}
    assert result.steps[1].resources == {"nvidia.com/gpu": "1"}
    spec = json.loads((target / "pipeline.json").read_text())
    assert spec["source"]["sha256"] and spec["edges"] == [["load", "train"]]
    assert spec["steps"][1]["inputs"] == {"df": "load"}
    definitions = (target / "definitions.py").read_text()
    assert "dg.Definitions" in definitions and "dagster-k8s/config" in definitions
    load = nbformat.read(str(target / "steps" / "load.ipynb"), as_version=4)
    params = [c for c in load.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "rows = 10" in params[0].source
    assert workspace.pipelines.list_pipelines() == ["demo"]


def test_promote_again_replaces_the_pipeline_and_leaves_no_temp_folders(
    workspace: Any, tmp_path: Path
) -> None:
    path = _notebook(tmp_path / "nb.ipynb", GOOD)
    workspace.pipelines.promote(path, "demo")
    _notebook(path, [("a = 1", ["step:only"])])
    result = workspace.pipelines.promote(path, "demo")
    assert [s.name for s in result.steps] == ["only"]
    folder = workspace.root / "pipelines"
    assert sorted(p.name for p in folder.iterdir()) == ["demo"]
    assert sorted(p.name for p in (folder / "demo" / "steps").iterdir()) == ["only.ipynb"]


BAD: list[tuple[str, Any, str]] = [
    ("not-json", "{oops", "not valid JSON"),
    ("nbformat-v2", {"nbformat": 2, "nbformat_minor": 0, "metadata": {}, "worksheets": []}, "nbformat 2"),
    ("no-step-tags", [("x = 1", ["imports"]), ("y = 2", [])], "no cell has a step tag"),
    ("bad-tag-syntax", [("x = 1", ["step:a"]), ("y = 2", ["step:bad name"])], "cell 2"),
    ("cycle", [("x = 1", ["step:a", "after:b"]), ("y = x", ["step:b"])], "cell 1"),
    (
        "defined-by-two-steps",
        [("x = 1", ["step:a"]), ("x = 2", ["step:b"]), ("print(x)", ["step:c"])],
        "cell 3",
    ),
    ("syntax-error", [("x = (", ["step:a"])], "cell 1"),
]


@pytest.mark.parametrize(("case", "content", "needle"), BAD, ids=[b[0] for b in BAD])
def test_bad_notebooks_write_nothing(
    workspace: Any, tmp_path: Path, case: str, content: Any, needle: str
) -> None:
    path = tmp_path / f"{case}.ipynb"
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, dict):
        path.write_text(json.dumps(content))
    else:
        _notebook(path, content)
    with pytest.raises(InvalidInput) as info:
        workspace.pipelines.promote(path, "demo")
    assert needle in str(info.value)
    assert not (workspace.root / "pipelines").exists() or not any((workspace.root / "pipelines").iterdir())


def test_a_failed_promote_keeps_the_previous_pipeline(workspace: Any, tmp_path: Path) -> None:
    path = _notebook(tmp_path / "nb.ipynb", GOOD)
    workspace.pipelines.promote(path, "demo")
    _notebook(path, [("x = 1", [])])
    with pytest.raises(InvalidInput):
        workspace.pipelines.promote(path, "demo")
    assert (workspace.root / "pipelines" / "demo" / "steps" / "load.ipynb").is_file()


@pytest.mark.parametrize("name", ["", "../x", "a b", "-x", "x" * 101])
def test_bad_pipeline_names(workspace: Any, tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="pipeline name"):
        workspace.pipelines.promote(_notebook(tmp_path / "nb.ipynb", GOOD), name)


def test_unknown_pipeline_and_run(workspace: Any) -> None:
    with pytest.raises(NotFound, match="promote"):
        workspace.pipelines.run("nope")
    with pytest.raises(NotFound, match="run 'r1'"):
        workspace.pipelines.get_run("r1")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"rows": "5"}, {"rows": 5, "rate": 0.1, "name": "a", "flag": False}),
        ({"rate": "1"}, {"rows": 10, "rate": 1, "name": "a", "flag": False}),
        ({"flag": "true", "name": "5"}, {"rows": 10, "rate": 0.1, "name": "5", "flag": True}),
        ({"rows": 7.0}, {"rows": 7, "rate": 0.1, "name": "a", "flag": False}),
    ],
)
def test_parameter_coercion(given: dict[str, Any], expected: dict[str, Any]) -> None:
    declared = {"rows": 10, "rate": 0.1, "name": "a", "flag": False}
    assert coerce_parameters("p", declared, given) == expected


@pytest.mark.parametrize(
    ("given", "needle"),
    [
        ({"nope": 1}, "parameter 'nope'"),
        ({"rows": "ten"}, "parameter 'rows'"),
        ({"rows": 1.5}, "integer"),
        ({"flag": "maybe"}, "parameter 'flag'"),
    ],
)
def test_bad_parameters(given: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        coerce_parameters("p", {"rows": 10, "flag": False}, given)


def test_a_kale_annotated_notebook_promotes_unchanged(workspace: Any, tmp_path: Path) -> None:
    kale = [
        ("import numpy as np", ["imports"]),
        ("def double(v):\n    return v * 2", ["functions"]),
        ("N = 4", ["pipeline-parameters"]),
        ("data = np.arange(N)", ["block:loaddata"]),
        ("total = double(data).sum()", ["block:train", "prev:loaddata", "limit:nvidia.com/gpu:1"]),
        ("print(total)", ["skip"]),
        ("total", ["pipeline-metrics"]),
    ]
    result = workspace.pipelines.promote(_notebook(tmp_path / "kale.ipynb", kale), "kale")
    assert [(s.name, s.after, s.resources) for s in result.steps] == [
        ("loaddata", [], {}),
        ("train", ["loaddata"], {"nvidia.com/gpu": "1"}),
    ]
    spec = workspace.pipelines.spec("kale")
    assert spec["metrics"] == {"total": "train"}
    assert spec["parameters"] == {"N": 4}
