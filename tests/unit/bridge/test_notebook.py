from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from shipyard.bridge.notebook import load_notebook, select_cells
from shipyard.errors import InvalidInput, NotFound


def _write(path: Path, cells: list[tuple[str, list[str]]]) -> Path:
    nb = v4.new_notebook(cells=[v4.new_code_cell(src, metadata={"tags": tags}) for src, tags in cells])
    nbformat.write(nb, str(path))
    return path


def test_v4_notebook_loads_with_numbers_tags_and_hash(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.ipynb", [("x = 1", ["step:a"]), ("y = 2", [])])
    nb = load_notebook(path)
    assert [c.number for c in nb.cells] == [1, 2]
    assert nb.cells[0].tags == ("step:a",)
    assert len(nb.sha256) == 64


def test_v3_notebook_is_upgraded(tmp_path: Path) -> None:
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "old"},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "x = 1",
                        "language": "python",
                        "outputs": [],
                        "metadata": {"tags": ["step:a"]},
                    }
                ]
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb = load_notebook(path)
    assert nb.cells[0].source == "x = 1"
    assert nb.cells[0].tags == ("step:a",)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (
            '{"nbformat": 2, "nbformat_minor": 0, "worksheets": [], "metadata": {}}',
            "nbformat 2 is not supported",
        ),
        ('{"nbformat": 5, "cells": [], "metadata": {}}', "nbformat 5 is not supported"),
        ('{"hello": "world"}', "not a notebook"),
        ("[1, 2]", "not a notebook"),
    ],
)
def test_bad_notebooks_name_the_path(tmp_path: Path, content: str | bytes, needle: str) -> None:
    path = tmp_path / "bad.ipynb"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InvalidInput) as info:
        load_notebook(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_missing_notebook_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nope.ipynb"):
        load_notebook(tmp_path / "nope.ipynb")


def test_bad_tags_metadata_names_the_cell(tmp_path: Path) -> None:
    nb = v4.new_notebook(cells=[v4.new_code_cell("x = 1"), v4.new_code_cell("y = 1")])
    nb.cells[1].metadata["tags"] = "step:a"  # a string, not a list
    path = tmp_path / "t.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(InvalidInput, match="cell 2"):
        load_notebook(path)


def test_select_cells_by_number_range_and_id_keeps_shared_cells(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "s.ipynb",
        [("import os", ["imports"]), ("a = 1", ["step:a"]), ("b = 1", ["step:b"]), ("c = 1", ["step:c"])],
    )
    # Cell ids are random and can be all digits; one must still select by id.
    raw = json.loads(path.read_text())
    raw["cells"][3]["id"] = "12345678"
    path.write_text(json.dumps(raw))
    nb = load_notebook(path)
    picked = select_cells(nb, ["2", "12345678"])
    assert [c.number for c in picked.cells] == [1, 2, 4]
    assert [c.number for c in select_cells(nb, ["2-3"]).cells] == [1, 2, 3]


@pytest.mark.parametrize("selection", [["0"], ["9"], ["2-9"], ["nonsense id"]])
def test_bad_selection(tmp_path: Path, selection: list[str]) -> None:
    nb = load_notebook(_write(tmp_path / "s.ipynb", [("a = 1", ["step:a"]), ("b = 1", [])]))
    with pytest.raises(InvalidInput, match="cells"):
        select_cells(nb, selection)
