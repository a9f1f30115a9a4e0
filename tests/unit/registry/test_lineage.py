"""Content hashes behind the lineage tags."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.registry import lineage


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = bytes(range(256)) * 5000
    path.write_bytes(data)
    assert lineage.sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert lineage.sha256_bytes(data) == hashlib.sha256(data).hexdigest()


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_sha256_tree_depends_on_content_and_names_not_creation_order(tmp_path: Path) -> None:
    a = _tree(tmp_path / "a", {"model.pkl": b"1", "sub/MLmodel": b"2"})
    b = _tree(tmp_path / "b", {"sub/MLmodel": b"2", "model.pkl": b"1"})
    assert lineage.sha256_tree(a) == lineage.sha256_tree(b)
    (b / "model.pkl").write_bytes(b"tampered")
    assert lineage.sha256_tree(a) != lineage.sha256_tree(b)
    c = _tree(tmp_path / "c", {"renamed.pkl": b"1", "sub/MLmodel": b"2"})
    assert lineage.sha256_tree(a) != lineage.sha256_tree(c)


def test_sha256_tree_of_a_file_is_stable(tmp_path: Path) -> None:
    path = tmp_path / "reference.parquet"
    path.write_bytes(b"abc")
    assert lineage.sha256_tree(path) == lineage.sha256_tree(path)
    assert len(lineage.sha256_tree(path)) == 64


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.normal(size=20), "b": np.arange(20), "c": ["x"] * 20})


def test_sha256_frame_is_deterministic_and_ignores_index() -> None:
    df = _frame()
    reindexed = df.set_axis(range(100, 120))
    assert lineage.sha256_frame(df) == lineage.sha256_frame(df.copy())
    assert lineage.sha256_frame(df) == lineage.sha256_frame(reindexed)


@pytest.mark.parametrize(
    "change",
    [
        lambda df: df.assign(a=df["a"] + 1e-9),
        lambda df: df.rename(columns={"b": "bb"}),
        lambda df: df.astype({"b": "float64"}),
        lambda df: df.iloc[::-1],
        lambda df: df.iloc[:-1],
    ],
    ids=["value", "column name", "dtype", "row order", "row count"],
)
def test_sha256_frame_changes_with_the_data(change) -> None:  # type: ignore[no-untyped-def]
    df = _frame()
    assert lineage.sha256_frame(df) != lineage.sha256_frame(change(df))


def test_notebook_lineage_prefers_the_pipeline_run_context(tmp_path: Path) -> None:
    tags = lineage.notebook_lineage({"notebook_sha256": "abc", "notebook_path": "steps/train.ipynb"})
    assert tags == {lineage.TAG_NOTEBOOK: "abc", lineage.TAG_NOTEBOOK_PATH: "steps/train.ipynb"}


def test_notebook_lineage_hashes_the_kernels_notebook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = tmp_path / "train.ipynb"
    nb.write_text('{"cells": []}')
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    tags = lineage.notebook_lineage({})
    assert tags[lineage.TAG_NOTEBOOK] == lineage.sha256_file(nb)
    assert tags[lineage.TAG_NOTEBOOK_PATH] == str(nb)


def test_notebook_lineage_says_unknown_outside_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert lineage.notebook_lineage({}) == {
        lineage.TAG_NOTEBOOK: lineage.UNKNOWN,
        lineage.TAG_NOTEBOOK_PATH: lineage.UNKNOWN,
    }


def test_lineage_tags_cover_config_frame_and_pipeline_run(tmp_path: Path) -> None:
    config = tmp_path / "shipyard.toml"
    config.write_text('[project]\nname = "x"\n')
    ctx = {"pipeline": "train", "run_id": "r1", "step": "fit", "notebook_sha256": "n" * 64}
    tags = lineage.lineage_tags(run_context=ctx, config_path=config, training_frame=_frame())
    assert tags[lineage.TAG_CONFIG] == lineage.sha256_file(config)
    assert tags[lineage.TAG_FRAME] == lineage.sha256_frame(_frame())
    assert tags[lineage.TAG_PIPELINE_RUN] == "r1"
    assert tags[lineage.TAG_PIPELINE] == "train"
    assert tags[lineage.TAG_STEP] == "fit"
    assert tags[lineage.TAG_NOTEBOOK] == "n" * 64
    missing = lineage.lineage_tags(
        run_context={}, config_path=tmp_path / "nope.toml", training_frame=_frame()
    )
    assert missing[lineage.TAG_CONFIG] == lineage.UNKNOWN
    assert missing[lineage.TAG_PIPELINE_RUN] == ""
