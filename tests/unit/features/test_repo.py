"""Loading a Feast repo's definitions in-process: isolation between repos and errors that name the file."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.examples.churn import locate_examples_dir
from shipyard.features.repo import load_repo_contents, local_file_sources


def _example_repo(tmp_path: Path, name: str = "features") -> Path:
    repo = tmp_path / name
    shutil.copytree(locate_examples_dir() / "churn" / "features", repo)
    return repo


def test_example_repo_defines_one_entity_two_views_and_the_churn_service(tmp_path: Path) -> None:
    contents = load_repo_contents(_example_repo(tmp_path), "churn")
    assert sorted(e.name for e in contents.entities) == ["__dummy", "customer"]
    assert sorted(v.name for v in contents.feature_views) == ["customer_activity", "customer_profile"]
    assert [s.name for s in contents.feature_services] == ["churn_v1"]
    assert [p.name for p in contents.projects] == ["churn"]
    assert len(contents.data_sources) == 2
    features = [f.name for v in contents.feature_views for f in v.features]
    assert len(features) >= 10 and len(set(features)) == len(features)


def test_sources_resolve_next_to_the_repo_not_the_cwd(tmp_path: Path) -> None:
    repo = _example_repo(tmp_path)
    sources = dict(local_file_sources(load_repo_contents(repo, "churn")))
    assert sources["customer_profile"] == str(tmp_path / "data" / "customer_profile.parquet")


def test_two_repos_with_the_same_file_name_do_not_share_a_module(tmp_path: Path) -> None:
    first = load_repo_contents(_example_repo(tmp_path / "a"), "churn")
    second = load_repo_contents(_example_repo(tmp_path / "b"), "churn")
    paths = {dict(local_file_sources(c))["customer_activity"] for c in (first, second)}
    assert paths == {
        str(tmp_path / "a" / "data" / "customer_activity.parquet"),
        str(tmp_path / "b" / "data" / "customer_activity.parquet"),
    }


def test_loading_leaves_cwd_sys_path_and_sys_modules_as_they_were(tmp_path: Path) -> None:
    cwd, path, modules = os.getcwd(), list(sys.path), set(sys.modules)
    load_repo_contents(_example_repo(tmp_path), "churn")
    assert os.getcwd() == cwd
    assert sys.path == path
    assert not [m for m in set(sys.modules) - modules if m.startswith("_shipyard_feature_repo_")]


def test_sibling_modules_can_be_imported_and_are_not_shared(tmp_path: Path) -> None:
    owners, found = ("team-x", "team-y"), []
    for owner in owners:
        repo = tmp_path / owner
        repo.mkdir()
        (repo / "shared_names.py").write_text(f"OWNER = {owner!r}\n")
        (repo / "definitions.py").write_text(
            "from feast import Entity, ValueType\nfrom shared_names import OWNER\n"
            "user = Entity(name='user', join_keys=['user_id'], value_type=ValueType.INT64, owner=OWNER)\n"
        )
        contents = load_repo_contents(repo, "demo")
        found += [e.owner for e in contents.entities if e.name == "user"]
    assert found == list(owners)
    assert "shared_names" not in sys.modules


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def broken(:\n", r"definitions\.py, line 1: syntax error"),
        (
            "raise RuntimeError('no data here')\n",
            r"definitions\.py: failed while loading \(RuntimeError: no data",
        ),
        ("import not_a_module_anywhere\n", r"definitions\.py: failed while loading \(ModuleNotFoundError"),
        (
            "from feast.project import Project\np = Project(name='other')\n",
            r"Project 'other' differs from project 'demo'",
        ),
    ],
)
def test_broken_definitions_are_bad_input_naming_the_file(tmp_path: Path, source: str, message: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "definitions.py").write_text(source)
    with pytest.raises(InvalidInput, match=message):
        load_repo_contents(repo, "demo")


def test_a_repo_without_python_files_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "feature_store.yaml").write_text("project: demo\n")
    with pytest.raises(InvalidInput, match="no Python definitions"):
        load_repo_contents(tmp_path, "demo")
