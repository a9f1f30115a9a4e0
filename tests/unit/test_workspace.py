from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.errors import Conflict, InvalidInput, NotFound
from shipyard.workspace import Workspace, find_root
from shipyard.workspace_init import init_workspace


def test_init_creates_config_state_and_a_working_token(tmp_path: Path) -> None:
    result = init_workspace(tmp_path / "w", project="acme")
    assert (result.root / "shipyard.toml").is_file()
    assert (result.root / ".shipyard" / "shipyard.db").is_file()
    ws = Workspace.open(result.root)
    assert ws.project == "acme"
    assert ws.tokens.verify(result.token).name == "init"
    ws.close()


def test_init_refuses_a_file_and_an_existing_workspace(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        init_workspace(f)
    init_workspace(tmp_path / "w")
    with pytest.raises(Conflict, match="already a workspace"):
        init_workspace(tmp_path / "w")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"example": "nope"}, "unknown example"), ({"project": "bad name!"}, "project name")],
)
def test_init_bad_options_write_nothing(tmp_path: Path, kwargs: dict, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        init_workspace(tmp_path / "w", **kwargs)
    assert not (tmp_path / "w" / "shipyard.toml").exists()


def test_find_root_walks_upward_and_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_workspace(tmp_path / "w").root
    deep = root / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_root() == root
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound, match="shipyard init"):
        find_root()
    monkeypatch.setenv("SHIPYARD_WORKSPACE", str(root))
    assert find_root() == root
    assert find_root(root / "shipyard.toml") == root


def test_workspace_path_that_is_a_file_is_bad_input(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        find_root(f)


def test_run_context_comes_from_the_pipeline_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_workspace(tmp_path / "w").root
    monkeypatch.setenv("SHIPYARD_RUN_CONTEXT", json.dumps({"pipeline": "p", "run_id": "r1"}))
    assert Workspace.open(root).run_context == {"pipeline": "p", "run_id": "r1"}
    monkeypatch.setenv("SHIPYARD_RUN_CONTEXT", "[1]")
    with pytest.raises(InvalidInput, match="JSON object"):
        Workspace.open(root)


def test_relative_paths_resolve_from_the_root(workspace: Workspace) -> None:
    assert workspace.path("features") == workspace.root / "features"
    assert workspace.path("/abs/x") == Path("/abs/x")
