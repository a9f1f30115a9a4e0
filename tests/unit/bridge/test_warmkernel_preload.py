"""Which modules a warm kernel preloads: top-level absolute imports of the shared cells, in order, once."""

from __future__ import annotations

import pytest

from shipyard.bridge.warmkernel import preload_modules


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["import numpy as np\nimport pandas as pd"], ["numpy", "pandas"]),
        (
            ["from sklearn.linear_model import LogisticRegression", "import os, json"],
            ["sklearn.linear_model", "os", "json"],
        ),
        (["import numpy\nimport numpy as np"], ["numpy"]),
        (["from . import sibling\nfrom .pkg import x"], []),  # relative: depends on the step's package
        (["def f():\n    import secret_inside_function\n"], []),  # only what runs at the top level
        (["%matplotlib inline\nimport numpy"], []),  # a magic: not Python, skipped (the step reports errors)
        ([], []),
    ],
)
def test_preload_modules(sources: list[str], expected: list[str]) -> None:
    assert preload_modules(sources) == expected
