from __future__ import annotations

import re

import pytest

from shipyard.bridge.dependencies import PipelineGraph, extract_parameters, infer_graph
from shipyard.bridge.names import scan_cells
from shipyard.bridge.notebook import Cell
from shipyard.bridge.tags import tag_cells
from shipyard.errors import InvalidInput


def _graph(*specs: tuple[str, list[str]]) -> PipelineGraph:
    cells = [
        Cell(number=i, cell_type="code", source=s, tags=tuple(t)) for i, (s, t) in enumerate(specs, start=1)
    ]
    return infer_graph(tag_cells(cells))


def _cell(source: str) -> Cell:
    return Cell(number=1, cell_type="code", source=source)


def test_data_edges_inputs_and_outputs() -> None:
    graph = _graph(
        ("import pandas as pd", ["imports"]),
        ("n = 5", ["parameters"]),
        ("df = pd.DataFrame({'x': range(n)})\nrows = len(df)", ["step:load"]),
        ("model = fit(df)\n", ["step:train"]),
        ("score = model.score(df)\nprint(rows)", ["step:evaluate"]),
    )
    assert graph.edges == [("load", "train"), ("load", "evaluate"), ("train", "evaluate")]
    assert graph.step("train").inputs == {"df": "load"}
    assert graph.step("evaluate").inputs == {"model": "train", "df": "load", "rows": "load"}
    assert graph.step("load").outputs == ["df", "rows"]
    assert graph.step("load").parameters == ["n"]
    assert graph.parameters == {"n": 5}


def test_rebinding_in_a_later_step_makes_it_the_provider() -> None:
    graph = _graph(("df = load()", ["step:a"]), ("df = df.dropna()", ["step:b"]), ("print(df)", ["step:c"]))
    assert graph.step("c").inputs == {"df": "b"}
    assert graph.step("b").inputs == {"df": "a"}


def test_in_place_mutation_counts_as_a_new_binding() -> None:
    graph = _graph(
        ("df = load()\nmodel = Model()", ["step:a"]),
        ("df['y'] = 1\nmodel.fit(df)", ["step:b"]),
        ("print(df, model)", ["step:c"]),
    )
    assert graph.step("c").inputs == {"df": "b", "model": "b"}


def test_explicit_after_without_data() -> None:
    graph = _graph(("x = 1", ["step:a"]), ("y = 2", ["step:b", "after:a"]))
    assert graph.edges == [("a", "b")]
    assert graph.step("b").inputs == {}


def test_imports_made_inside_a_step_are_repeated_not_passed() -> None:
    graph = _graph(("import numpy as np\nx = np.ones(3)", ["step:a"]), ("y = np.sum(x)", ["step:b"]))
    assert graph.step("b").inputs == {"x": "a"}
    assert graph.step("b").imports == ["import numpy as np"]


def test_locals_of_functions_loops_and_comprehensions_are_not_inputs() -> None:
    graph = _graph(
        ("i = 0\nrows = [1]\ndef helper(v):\n    return v", ["step:a"]),
        ("for i in range(3):\n    pass\nsq = [r * r for r in range(2)]\nf = lambda rows: rows", ["step:b"]),
    )
    assert graph.step("b").inputs == {}


def test_functions_read_globals_when_called() -> None:
    graph = _graph(("scale = 3", ["step:a"]), ("def f(v):\n    return v * scale\nout = f(2)", ["step:b"]))
    assert graph.step("b").inputs == {"scale": "a"}


def test_metrics_cells_name_their_providers() -> None:
    graph = _graph(("auc = 0.9", ["step:a"]), ("auc", ["metrics"]))
    assert graph.metrics == {"auc": "a"}
    assert graph.step("a").metrics == ["auc"]


def test_magics_are_understood() -> None:
    names = scan_cells([_cell("%matplotlib inline\n!echo hi\nx = 1")])
    assert "x" in names.defines


@pytest.mark.parametrize(
    ("specs", "needles"),
    [
        # a variable bound by two independent steps and read by a third
        (
            (("x = 1", ["step:a"]), ("x = 2", ["step:b"]), ("print(x)", ["step:c"])),
            ["variable 'x'", "cell 1", "cell 2", "cell 3", "after:a"],
        ),
        # a cycle through after: and a data edge
        (
            (("x = 1", ["step:a", "after:b"]), ("y = x", ["step:b"])),
            ["cycle", "'a' (cell 1)", "'b' (cell 2)"],
        ),
        (
            (("x = (", ["step:a"]),),
            ["cell 1", "syntax error"],
        ),
    ],
)
def test_bad_graphs_name_cells(specs: tuple[tuple[str, list[str]], ...], needles: list[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        _graph(*specs)
    for needle in needles:
        assert needle in str(info.value)


def test_two_binders_are_fine_when_ordered() -> None:
    graph = _graph(("x = 1", ["step:a"]), ("x = 2", ["step:b", "after:a"]), ("print(x)", ["step:c"]))
    assert graph.step("c").inputs == {"x": "b"}


def test_parameters_keep_literals_imports_and_docstrings() -> None:
    params, warnings = extract_parameters(
        [_cell('"""knobs"""\nn = 5\nrate: float = 0.1\nname = \'x\'\nneg = -1\nitems = [1, 2]\nimport os')]
    )
    assert params == {"n": 5, "rate": 0.1, "name": "x", "neg": -1, "items": [1, 2]}
    assert warnings == []


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("n = 1\nnow = os.getpid()", "cell 1, line 2: parameter 'now' is not a JSON-compatible literal"),
        ("n = {1, 2}", "parameter 'n' is not a JSON-compatible"),
        ("print(1)", "cell 1, line 1: a parameters cell holds only"),
        ("for i in range(3):\n    pass", "a parameters cell holds only"),
        ("a, b = 1, 2", "a parameters cell holds only"),
    ],
)
def test_parameters_cell_with_non_literal_code_is_an_error(code: str, needle: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(needle)):
        extract_parameters([_cell(code)])


def test_changing_an_imported_object_hands_nothing_on() -> None:
    graph = _graph(
        ("import pandas as pd", ["imports"]),
        ("pd.options.display.max_rows = 5\nimport os\nos.environ['X'] = '1'", ["step:a"]),
        ("print(pd, os)", ["step:b"]),
    )
    assert graph.step("b").inputs == {}
    assert graph.step("b").imports == ["import os"]


def test_cell_magics_that_run_python_are_read_others_are_not() -> None:
    assert "x" in scan_cells([_cell("%%time\nx = 1")]).defines
    assert scan_cells([_cell("%%bash\nx=1 y = 2")]).defines == {}
