from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.bridge.datapassing import load_inputs, save_outputs
from shipyard.errors import OperationFailed


def test_round_trip_by_type(tmp_path: Path) -> None:
    values = {
        "frame": pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        "array": np.arange(4.0),
        "model": {"weights": [1, 2], "fn": lambda v: v + 1},
        "count": 3,
    }
    files = save_outputs(str(tmp_path), "s", values, outputs=list(values), metrics=["count"])
    assert files == {
        "frame": "frame.parquet",
        "array": "array.npy",
        "model": "model.pkl",
        "count": "count.pkl",
    }
    back = load_inputs(str(tmp_path), {name: "s" for name in values})
    pd.testing.assert_frame_equal(back["frame"], values["frame"])
    np.testing.assert_array_equal(back["array"], values["array"])
    assert back["model"]["fn"](1) == 2 and back["count"] == 3
    assert (tmp_path / "s" / "metrics.json").read_text().strip().startswith("{")


def test_frame_parquet_cannot_hold_falls_back_to_pickle(tmp_path: Path) -> None:
    odd = pd.DataFrame({1: [object()]})
    files = save_outputs(str(tmp_path), "s", {"odd": odd}, outputs=["odd"])
    assert files == {"odd": "odd.pkl"}


def test_unserializable_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match="variable 'lock'"):
        save_outputs(str(tmp_path), "s", {"lock": threading.Lock()}, outputs=["lock"])


def test_missing_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(OperationFailed, match="did not define variable 'gone'"):
        save_outputs(str(tmp_path), "s", {}, outputs=["gone"])


def test_outside_a_run(tmp_path: Path) -> None:
    assert save_outputs(None, "s", {"x": 1}, outputs=["x"]) == {}
    with pytest.raises(OperationFailed, match="pipeline run"):
        load_inputs(None, {"x": "s"})
    with pytest.raises(OperationFailed, match="left no outputs"):
        load_inputs(str(tmp_path), {"x": "s"})
