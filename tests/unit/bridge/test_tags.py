from __future__ import annotations

import pytest

from shipyard.bridge.notebook import Cell
from shipyard.bridge.tags import IMPORTS, PARAMETERS, SKIP, STEP, parse_cell_tags, tag_cells
from shipyard.errors import InvalidInput


def _cells(*specs: tuple[str, list[str]] | tuple[str, list[str], str]) -> list[Cell]:
    out = []
    for i, spec in enumerate(specs, start=1):
        source, tags = spec[0], spec[1]
        cell_type = spec[2] if len(spec) > 2 else "code"
        out.append(Cell(number=i, cell_type=cell_type, source=source, tags=tuple(tags)))
    return out


@pytest.mark.parametrize(
    ("tags", "role", "step"),
    [
        (["step:load"], STEP, "load"),
        (["block:load"], STEP, "load"),  # Kale
        (["step:load", "block:load"], STEP, "load"),
        (["imports"], IMPORTS, None),
        (["parameters"], PARAMETERS, None),
        (["pipeline-parameters"], PARAMETERS, None),  # Kale
        (["skip"], SKIP, None),
        ([], None, None),
        (["hide-input"], None, None),
    ],
)
def test_roles(tags: list[str], role: str | None, step: str | None) -> None:
    parsed = parse_cell_tags(tags, 1)
    assert parsed.role == role
    assert parsed.step == step


def test_after_prev_limit_annotation_label() -> None:
    parsed = parse_cell_tags(
        [
            "step:train",
            "after:load,clean",
            "prev:extra",
            "limit:nvidia.com/gpu:1",
            "annotation:team:ml",
            "label:tier:gold",
        ],
        4,
    )
    assert parsed.after == ["load", "clean", "extra"]
    assert parsed.resources == {"nvidia.com/gpu": "1"}
    assert parsed.annotations == {"team": "ml"}
    assert parsed.labels == {"tier": "gold"}


@pytest.mark.parametrize(
    "tags",
    [
        ["step:"],
        ["step:bad name"],
        ["step:1load"],
        ["block:a-b"],
        ["after:"],
        ["after:load,"],
        ["prev:x y"],
        ["limit:gpu"],
        ["limit:nvidia.com/gpu:"],
        ["annotation:"],
        ["step:a", "step:b"],
        ["step:a", "parameters"],
        ["imports", "functions"],
        ["skip", "step:a"],
    ],
)
def test_bad_tags_name_the_cell(tags: list[str]) -> None:
    with pytest.raises(InvalidInput, match="cell 7"):
        parse_cell_tags(tags, 7)


def test_untagged_cells_join_the_step_above_and_sections_are_split() -> None:
    tagged = tag_cells(
        _cells(
            ("import pandas as pd", ["imports"]),
            ("n = 3", ["parameters"]),
            ("df = 1", ["step:load"]),
            ("df2 = df", []),
            ("notes", [], "markdown"),
            ("debug = 1", ["skip"]),
            ("ignored_too = 1", []),  # inherits skip, as in Kale
            ("m = df2", ["step:train", "after:load"]),
            ("auc = 1", ["metrics"]),
        )
    )
    assert [s.name for s in tagged.steps] == ["load", "train"]
    assert [c.number for c in tagged.step("load").cells] == [3, 4, 5]
    assert [c.number for c in tagged.step("train").cells] == [8]
    assert tagged.step("train").after == ["load"]
    assert [c.number for c in tagged.imports] == [1]
    assert [c.number for c in tagged.parameters] == [2]
    assert [c.number for c in tagged.metrics] == [9]


def test_a_step_tag_seen_again_continues_that_step() -> None:
    tagged = tag_cells(_cells(("a = 1", ["step:a"]), ("b = 1", ["step:b"]), ("a2 = a", ["step:a"])))
    assert [c.number for c in tagged.step("a").cells] == [1, 3]


def test_leading_untagged_cells_join_the_first_step_with_a_warning() -> None:
    tagged = tag_cells(_cells(("import os", []), ("x = 1", ["step:first"])))
    assert [c.number for c in tagged.step("first").cells] == [1, 2]
    assert any("cells 1" in w and "first" in w for w in tagged.warnings)


def test_unknown_plain_tags_are_warned_about() -> None:
    tagged = tag_cells(_cells(("x = 1", ["step:a", "todo", "https://example.com/x"])))
    assert any("'todo'" in w and "cell 1" in w for w in tagged.warnings)


@pytest.mark.parametrize("tag", ["stpe:b", "blok:b", "limits:cpu:1", "afer:a"])
def test_unknown_pipeline_tag_prefixes_are_errors(tag: str) -> None:
    with pytest.raises(InvalidInput, match=f"cell 1: unknown tag '{tag}'"):
        tag_cells(_cells(("x = 1", ["step:a", tag])))


@pytest.mark.parametrize(
    ("specs", "match"),
    [
        ((("x = 1", []), ("y = 2", ["imports"])), "no cell has a step tag"),
        ((("x = 1", ["step:a", "after:nope"]),), "cell 1: 'after:nope' names no step"),
        ((("x = 1", ["step:a"]), ("y = 1", ["after:a"])), "cell 2: step 'a' cannot run after itself"),
        ((("import os", ["imports", "after:a"]), ("x = 1", ["step:a"])), "cell 1: after:"),
        ((("import os", ["limit:cpu:2"]), ("x = 1", ["step:a"])), "cell 1: after:"),
    ],
)
def test_bad_layouts(specs: tuple[tuple[str, list[str]], ...], match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        tag_cells(_cells(*specs))
