"""Preview without writing, the diff of a re-promote, notebook-level defaults, notebook content, bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat import v4

from shipyard.bridge.defaults import notebook_defaults
from shipyard.bridge.notebook import load_notebook
from shipyard.errors import InvalidInput


def _nb(cells: list[tuple[str, list[str]]], metadata: dict[str, Any] | None = None) -> Any:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nb.metadata.update(metadata or {})
    return nb


def _write(path: Path, cells: list[tuple[str, list[str]]], metadata: dict[str, Any] | None = None) -> Path:
    nbformat.write(_nb(cells, metadata), str(path))
    return path


BASE = [
    ("import math", ["imports"]),
    ("rows = 10\nrate = 0.5", ["parameters"]),
    ("a = rows * 2", ["step:load"]),
    ("b = a + 1", ["step:train"]),
    ("c = b * rate", ["step:score"]),
]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_preview_writes_nothing_and_reports_steps_edges_parameters(workspace: Any, tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", BASE)
    result = workspace.pipelines.preview(path, "p")
    assert result.applied is False
    assert [s.name for s in result.steps] == ["load", "train", "score"]
    assert result.edges == [["load", "train"], ["train", "score"]]
    assert result.parameters == {"rows": 10, "rate": 0.5}
    assert result.diff.new and result.diff.added == ["load", "train", "score"]
    assert _files(workspace.root / "pipelines") == []


def test_re_promote_of_an_edited_notebook_shows_the_diff_and_updates(workspace: Any, tmp_path: Path) -> None:
    path = _write(tmp_path / "nb.ipynb", BASE)
    workspace.pipelines.promote(path, "p")
    same = workspace.pipelines.preview(path, "p")
    assert not same.diff.new and same.diff.empty
    edited = [
        BASE[0],
        ("rows = 20\nrate = 0.5\nextra = 'x'", ["parameters"]),
        ("a = rows * 3", ["step:load"]),
        ("b = a + 1", ["step:train"]),
        ("d = b - 1", ["step:report"]),
    ]
    _write(path, edited)
    preview = workspace.pipelines.preview(path, "p")
    assert preview.diff.added == ["report"] and preview.diff.removed == ["score"]
    # The parameters cell is part of every step notebook, so editing it changes each step's code.
    assert preview.diff.changed == {"load": ["code", "parameters"], "train": ["code"]}
    assert "~ rows: 10 -> 20" in preview.diff.parameters and "+ extra = 'x'" in preview.diff.parameters
    assert workspace.pipelines.spec("p")["parameters"]["rows"] == 10  # preview did not write
    applied = workspace.pipelines.promote(path, "p")
    assert applied.applied and applied.diff.added == ["report"]
    assert workspace.pipelines.spec("p")["parameters"]["rows"] == 20
    assert sorted(p.name for p in (workspace.root / "pipelines" / "p" / "steps").iterdir()) == [
        "load.ipynb",
        "report.ipynb",
        "train.ipynb",
    ]


def test_notebook_metadata_defaults_are_honoured(workspace: Any, tmp_path: Path) -> None:
    meta = {
        "shipyard": {
            "name": "from-meta",
            "kernel": "python3",
            "step_timeout_s": 42,
            "resources": {"cpu": "2", "memory": "1Gi"},
        }
    }
    cells = [("a = 1", ["step:one"]), ("b = a", ["step:two", "limit:cpu:4"])]
    result = workspace.pipelines.promote(_write(tmp_path / "nb.ipynb", cells, meta))
    assert result.name == "from-meta"
    assert [s.resources for s in result.steps] == [
        {"cpu": "2", "memory": "1Gi"},
        {"cpu": "4", "memory": "1Gi"},  # the step's own limit: tag wins
    ]
    spec = workspace.pipelines.spec("from-meta")
    assert spec["step_timeout_s"] == 42 and spec["kernel"] == "python3"


def test_kale_pipeline_name_metadata_names_the_pipeline(tmp_path: Path) -> None:
    assert notebook_defaults({"kubeflow_notebook": {"pipeline_name": "kale-x"}}).name == "kale-x"


@pytest.mark.parametrize(
    ("shipyard", "needle"),
    [
        ("python3", "must be an object"),
        ({"kernal": "python3"}, "unknown key(s) kernal"),
        ({"step_timeout_s": 0}, "step_timeout_s' must be a positive integer"),
        ({"step_timeout_s": "10"}, "step_timeout_s' must be a positive integer"),
        ({"kernel": ""}, "kernel' must be a non-empty string"),
        ({"resources": {"cpu": "lots"}}, "is not RESOURCE: QUANTITY"),
        ({"resources": ["cpu"]}, "must map resource -> quantity"),
        ({"ray": "yes"}, "ray' must be true or false"),
    ],
)
def test_bad_notebook_defaults_write_nothing(
    workspace: Any, tmp_path: Path, shipyard: Any, needle: str
) -> None:
    path = _write(tmp_path / "nb.ipynb", [("a = 1", ["step:one"])], {"shipyard": shipyard})
    with pytest.raises(InvalidInput) as info:
        workspace.pipelines.promote(path, "p")
    assert needle in str(info.value)
    assert _files(workspace.root / "pipelines") == []


def test_promote_from_content_keeps_a_copy_of_the_source(workspace: Any) -> None:
    content = json.loads(nbformat.writes(_nb(BASE)))
    preview = workspace.pipelines.preview(None, "c", content=content)
    assert [s.name for s in preview.steps] == ["load", "train", "score"]
    assert _files(workspace.root / "pipelines") == []
    workspace.pipelines.promote(None, "c", content=json.dumps(content))
    folder = workspace.root / "pipelines" / "c"
    assert (folder / "source.ipynb").is_file()
    assert workspace.pipelines.spec("c")["source"]["path"] == "pipelines/c/source.ipynb"


def test_missing_name_and_missing_notebook_are_clear(workspace: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="pass --name"):
        workspace.pipelines.preview(_write(tmp_path / "nb.ipynb", BASE))
    with pytest.raises(InvalidInput, match="notebook path or the notebook content"):
        workspace.pipelines.preview(None, "p")


def _with_ids(ids: list[str]) -> dict[str, Any]:
    nb = json.loads(
        nbformat.writes(_nb([(f"x{i} = {i}", ["step:s"] if i == 0 else []) for i in range(len(ids))]))
    )
    for cell, cell_id in zip(nb["cells"], ids, strict=True):
        cell["id"] = cell_id
    return nb


BAD_INPUT: list[tuple[str, Any, str]] = [
    ("invalid-json", "{not json", "not valid JSON"),
    ("duplicate-cell-ids", _with_ids(["a", "b", "a"]), "cells 1 and 3 share the cell id 'a'"),
    (
        "nbformat-validation",
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]},
        "not a valid nbformat v4 notebook",
    ),
    ("unknown-tag", _nb([("a = 1", ["step:a", "stpe:b"])]), "unknown tag 'stpe:b'"),
    ("two-step-names", _nb([("a = 1", ["step:a", "block:b"])]), "put one cell in two steps"),
    ("prev-undefined", _nb([("a = 1", ["block:a", "prev:ghost"])]), "'after:ghost' names no step"),
    (
        "non-literal-parameters",
        _nb([("n = len('abc')", ["parameters"]), ("a = n", ["step:a"])]),
        "JSON-compatible",
    ),
    ("parameters-with-code", _nb([("print('hi')", ["parameters"]), ("a = 1", ["step:a"])]), "holds only"),
    ("cycle", _nb([("a = 1", ["step:a", "after:b"]), ("b = a", ["step:b"])]), "cycle"),
]


@pytest.mark.parametrize(("case", "content", "needle"), BAD_INPUT, ids=[b[0] for b in BAD_INPUT])
def test_bad_content_previews_and_promotes_nothing(
    workspace: Any, case: str, content: Any, needle: str
) -> None:
    raw = content if isinstance(content, str) else json.dumps(content)
    for action in (workspace.pipelines.preview, workspace.pipelines.promote):
        with pytest.raises(InvalidInput) as info:
            action(None, "p", content=raw)
        assert needle in str(info.value)
    assert _files(workspace.root / "pipelines") == []


def test_duplicate_cell_ids_in_a_file_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dup.ipynb"
    path.write_text(json.dumps(_with_ids(["x", "x"])))
    with pytest.raises(InvalidInput, match=r"dup.ipynb: cells 1 and 2 share the cell id 'x'"):
        load_notebook(path)


def test_a_ten_thousand_cell_notebook_previews_in_bounded_time(workspace: Any, tmp_path: Path) -> None:
    def cell(i: int, source: str, tags: list[str]) -> dict[str, Any]:
        meta = {"tags": tags}
        return {
            "id": f"c{i}",
            "cell_type": "code",
            "metadata": meta,
            "source": source,
            "outputs": [],
            "execution_count": None,
        }

    cells = [cell(-1, "import math", ["imports"]), cell(-2, "n = 3", ["parameters"])]
    for i in range(10_000):
        tags = [f"step:s{i // 100}"] if i % 100 == 0 else []
        source = "v0 = n" if i == 0 else f"v{i} = v{i - 1} + 1" if i % 100 else f"v{i} = v{i - 1} * 2"
        cells.append(cell(i, source, tags))
    path = tmp_path / "big.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    started = time.perf_counter()
    result = workspace.pipelines.preview(path, "big")
    elapsed = time.perf_counter() - started
    assert len(result.steps) == 100 and len(result.edges) == 99
    # A few seconds on a laptop; the bound leaves room for a loaded 2-core CI machine.
    assert elapsed < 15, f"10k cells took {elapsed:.1f}s"


def test_generated_step_notebooks_are_valid_nbformat(workspace: Any, tmp_path: Path) -> None:
    workspace.pipelines.promote(_write(tmp_path / "nb.ipynb", BASE), "v")
    for path in (workspace.root / "pipelines" / "v" / "steps").iterdir():
        nbformat.validate(nbformat.read(str(path), as_version=4))
