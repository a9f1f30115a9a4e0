"""Load the Feast objects a feature repository defines, without Feast's ``chdir`` + ``import_module``.

``feast apply`` imports each ``*.py`` file of the repo as a top-level module after changing the working
directory. In a long-lived process (server, notebook kernel, tests) that caches ``definitions`` in
``sys.modules`` across workspaces and moves the process's cwd, so each file is executed here under a unique
module name instead, with the repo on ``sys.path`` only while it runs (sibling imports keep working).
This module is imported only by the feature service, after Feast.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from feast import Entity, FeatureService, FeatureView, OnDemandFeatureView, StreamFeatureView
from feast.batch_feature_view import BatchFeatureView
from feast.data_source import DataSource
from feast.feature_view import DUMMY_ENTITY
from feast.infra.offline_stores.file_source import FileSource
from feast.permissions.permission import Permission
from feast.project import Project
from feast.repo_contents import RepoContents
from feast.repo_operations import get_repo_files

from shipyard.errors import InvalidInput


def load_repo_contents(repo_dir: Path, project: str, description: str = "") -> RepoContents:
    """Execute every Python file of the repo (``.feastignore`` honoured) and collect its Feast objects."""
    files = get_repo_files(repo_dir)
    if not files:
        raise InvalidInput(
            f"{repo_dir}: no Python definitions found; add a definitions.py with Feast objects"
        )
    contents = empty_contents()
    for path in files:
        for obj in _module_objects(path, repo_dir):
            _collect(contents, obj)
    if len(contents.projects) > 1:
        raise InvalidInput(f"{repo_dir}: defines {len(contents.projects)} Feast projects; keep exactly one")
    if contents.projects and contents.projects[0].name != project:
        raise InvalidInput(
            f"{repo_dir}: Project '{contents.projects[0].name}' differs from project '{project}' "
            "in feature_store.yaml; make them match"
        )
    if not contents.projects:
        contents.projects.append(Project(name=project, description=description))
    # Feast registers this placeholder for entity-less views; listing it keeps apply from deleting it.
    contents.entities.append(DUMMY_ENTITY)
    return contents


def objects_by_file(repo_dir: Path, skip: Path | None = None) -> dict[Path, RepoContents]:
    """The Feast objects of each Python file of the repo (``skip`` left out), for ownership checks."""
    found = {}
    for path in get_repo_files(repo_dir):
        if skip is not None and path.resolve() == skip.resolve():
            continue
        contents = empty_contents()
        for obj in _module_objects(path, repo_dir):
            _collect(contents, obj)
        found[path] = contents
    return found


def collect_objects(objects: list[Any]) -> RepoContents:
    """Sort loose Feast objects into a ``RepoContents``."""
    contents = empty_contents()
    for obj in objects:
        _collect(contents, obj)
    return contents


def empty_contents() -> RepoContents:
    """A ``RepoContents`` with every list empty."""
    return RepoContents(
        projects=[],
        data_sources=[],
        feature_views=[],
        on_demand_feature_views=[],
        stream_feature_views=[],
        label_views=[],
        entities=[],
        feature_services=[],
        permissions=[],
    )


def local_file_sources(contents: RepoContents) -> list[tuple[str, str]]:
    """(feature view, path) of every batch source that is a plain file path (not a URI)."""
    found = []
    for view in contents.feature_views:
        source = view.batch_source
        if isinstance(source, FileSource) and "://" not in source.path:
            found.append((view.name, source.path))
    return found


def _module_objects(path: Path, repo_dir: Path) -> list[Any]:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module_name = f"_shipyard_feature_repo_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path}: cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    before = set(sys.modules)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up while it runs
    sys.path.insert(0, str(repo_dir))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise InvalidInput(
            f"{path}, line {exc.lineno}: syntax error ({exc.msg}); fix the definitions"
        ) from exc
    except Exception as exc:  # any failure in user code is re-raised as bad input
        raise InvalidInput(
            f"{path}: failed while loading ({type(exc).__name__}: {exc}); fix the definitions"
        ) from exc
    finally:
        sys.path.remove(str(repo_dir))
        # Forget this repo's sibling modules too, so another workspace's same-named helper is loaded afresh.
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if name == module_name or Path(origin).resolve().is_relative_to(repo_dir.resolve()):
                del sys.modules[name]
    return [getattr(module, name) for name in sorted(vars(module)) if not name.startswith("__")]


def _collect(contents: RepoContents, obj: Any) -> None:
    """Add ``obj`` to the right list once (by identity, as ``feast apply`` does), with its batch source."""

    def add(items: list[Any], item: Any) -> None:
        # A definition imported from a sibling file is executed again there: the same object, by value.
        if not any(item is seen or (type(item) is type(seen) and item == seen) for seen in items):
            items.append(item)

    if isinstance(obj, DataSource):
        add(contents.data_sources, obj)
        batch = getattr(obj, "batch_source", None)
        if isinstance(batch, DataSource):
            add(contents.data_sources, batch)
    elif isinstance(obj, StreamFeatureView):
        add(contents.stream_feature_views, obj)
    elif isinstance(obj, (FeatureView, BatchFeatureView)):
        add(contents.feature_views, obj)
        if obj.batch_source is not None:
            add(contents.data_sources, obj.batch_source)
    elif isinstance(obj, OnDemandFeatureView):
        add(contents.on_demand_feature_views, obj)
    elif isinstance(obj, Entity):
        add(contents.entities, obj)
    elif isinstance(obj, FeatureService):
        add(contents.feature_services, obj)
    elif isinstance(obj, Permission):
        add(contents.permissions, obj)
    elif isinstance(obj, Project):
        add(contents.projects, obj)


def local_state_paths(config: Any, repo_dir: Path) -> list[Path]:
    """Local files Feast will create (file registry, SQLite online store), resolved like Feast does."""
    paths = []
    registry_path = getattr(config.registry, "path", "") or ""
    if getattr(config.registry, "registry_type", "file") == "file" and "://" not in registry_path:
        paths.append(registry_path)
    if getattr(config.online_store, "type", "") == "sqlite":
        paths.append(config.online_store.path)
    return [Path(p) if Path(p).is_absolute() else repo_dir / p for p in paths if p]
