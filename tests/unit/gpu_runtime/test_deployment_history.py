"""Deployment version history: what rollback goes back to."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.gpu_runtime.deployment_history import (
    clear_pending,
    push_version,
    read_history,
    read_pending,
    rollback_target,
    write_history,
    write_pending,
)


def test_push_records_each_new_version_once(tmp_path: Path) -> None:
    path = tmp_path / "d" / "history.json"
    assert read_history(path) == []
    for v in ["1", "1", "2", "3"]:
        push_version(path, v)
    assert read_history(path) == ["1", "2", "3"]


@pytest.mark.parametrize(
    "versions, current, expected",
    [
        (["1", "2"], "2", ("1", ["1"])),
        (["1", "2", "3"], "3", ("2", ["1", "2"])),
        (["1", "2", "1"], "1", ("2", ["1", "2"])),
        (["4"], "4", None),
        ([], "1", None),
    ],
)
def test_rollback_target(versions: list[str], current: str, expected: object) -> None:
    assert rollback_target(versions, current) == expected


@pytest.mark.parametrize("content", ["{broken", '{"a": 1}', ""])
def test_unreadable_history_reads_as_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "history.json"
    path.write_text(content)
    assert read_history(path) == []
    write_history(path, ["7"])
    assert read_history(path) == ["7"] and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize(
    "content", ["", "not json", "[]", '{"triton_model": 3}', '{"triton_model": ""}'], ids=str
)
def test_unreadable_pending_marker_is_none(tmp_path: Path, content: str) -> None:
    path = tmp_path / "pending.json"
    path.write_text(content)
    assert read_pending(path) is None


def test_pending_marker_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "d" / "pending.json"
    assert read_pending(path) is None
    write_pending(path, "churn-v2")
    assert read_pending(path) == "churn-v2"
    assert [p.name for p in path.parent.iterdir()] == ["pending.json"]
    clear_pending(path)
    clear_pending(path)
    assert not path.exists()
