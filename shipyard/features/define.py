"""Define features from a notebook cell: Python source -> validated Feast objects -> plan diff -> apply.

An accepted cell is kept in the repo as ``cells/<name>.py``, so a later ``apply`` (which deletes whatever the
repo no longer defines) keeps it. A cell may not redefine a view, entity or service that another file of
the repo defines; the refusal names both owners. On any failure the file is put back as it was and the
registry is left unchanged (Feast commits the registry only at the end of a successful apply).
"""

from __future__ import annotations

import hashlib
import sys
import traceback
import types
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import Conflict, InvalidInput
from shipyard.features.quality import declared_checks
from shipyard.features.validation import checked_name

if TYPE_CHECKING:
    from feast.repo_contents import RepoContents

CELLS_DIR = "cells"


@dataclass(frozen=True)
class DefineResult:
    """What a cell defines, the Feast plan diff, and whether it was applied."""

    name: str
    path: str
    entities: list[str]
    feature_views: list[str]
    feature_services: list[str]
    plan: str
    applied: bool


def cell_contents(code: str, repo_dir: Path, where: str = "cell") -> RepoContents:
    """Execute ``code`` (repo on ``sys.path``) and collect its Feast objects; errors name the cell line."""
    from shipyard.features.repo import collect_objects

    if not isinstance(code, str) or not code.strip():
        raise InvalidInput(f"{where} is empty; write Feast definitions (Entity, FeatureView...) in it")
    filename = f"<{where}>"
    try:
        compiled = compile(code, filename, "exec")
    except SyntaxError as exc:
        raise InvalidInput(
            f"{where}, line {exc.lineno}: syntax error ({exc.msg}); fix the definition and run it again",
            detail={"line": exc.lineno},
        ) from None
    name = f"_shipyard_cell_{hashlib.sha256(code.encode()).hexdigest()[:12]}"
    module = types.ModuleType(name)
    module.__file__ = str(repo_dir / f"{name}.py")
    sys.modules[name] = module  # dataclasses look the module up while it runs
    sys.path.insert(0, str(repo_dir))
    try:
        exec(compiled, module.__dict__)  # noqa: S102 - running the user's own definitions is the point
    except Exception as exc:  # user code: any failure is bad input, reported with its cell line
        line = next(
            (f.lineno for f in reversed(traceback.extract_tb(exc.__traceback__)) if f.filename == filename),
            None,
        )
        raise InvalidInput(
            f"{where}, line {line}: {type(exc).__name__}: {exc}; fix the definition and run it again",
            detail={"line": line},
        ) from exc
    finally:
        sys.path.remove(str(repo_dir))
        sys.modules.pop(name, None)
    contents = collect_objects([v for k, v in vars(module).items() if not k.startswith("__")])
    if not (contents.feature_views or contents.entities or contents.feature_services):
        raise InvalidInput(f"{where} defines no Feast Entity, FeatureView or FeatureService")
    check_names(contents)
    return contents


def check_names(contents: RepoContents) -> None:
    """Every entity, view, feature, join key and service name is a safe identifier; quality tags parse."""
    for entity in contents.entities:
        if entity.name == "__dummy":
            continue
        checked_name(entity.name, "entity")
        checked_name(entity.join_key, f"entity '{entity.name}' join key")
    for view in [*contents.feature_views, *contents.on_demand_feature_views, *contents.stream_feature_views]:
        checked_name(view.name, "feature view")
        for feature in view.features:
            checked_name(feature.name, f"feature view '{view.name}' feature")
    for view in contents.feature_views:
        declared_checks(view)
    for service in contents.feature_services:
        checked_name(service.name, "feature service")


def check_ownership(cell: RepoContents, others: dict[Path, RepoContents], repo_dir: Path) -> None:
    """Refuse a cell that redefines something another repo file defines, naming both owners."""
    for kind, attr in (
        ("feature view", "feature_views"),
        ("entity", "entities"),
        ("feature service", "feature_services"),
    ):
        for obj in getattr(cell, attr):
            for path, contents in others.items():
                for existing in getattr(contents, attr):
                    if existing.name != obj.name or (attr == "entities" and existing == obj):
                        continue
                    raise Conflict(
                        f"{kind} '{obj.name}' is already defined by owner "
                        f"'{getattr(existing, 'owner', '') or 'unknown'}' in {path.relative_to(repo_dir)}; "
                        f"this cell (owner '{getattr(obj, 'owner', '') or 'unknown'}') would redefine it. "
                        "Choose another name, or change the original definition with its owner",
                        detail={
                            "existing_owner": getattr(existing, "owner", ""),
                            "new_owner": getattr(obj, "owner", ""),
                        },
                    )


def cell_name(cell: RepoContents, name: str | None) -> str:
    """The file name the cell is kept under: ``name``, else its first feature view, entity or service."""
    if name:
        return checked_name(name, "definition")
    for objects in (cell.feature_views, cell.feature_services, cell.entities):
        if objects:
            return str(objects[0].name)
    raise InvalidInput("the cell defines nothing to name it after; pass a name")


def summary(cell: RepoContents) -> dict[str, list[str]]:
    """Names of what the cell defines."""
    return {
        "entities": sorted(e.name for e in cell.entities),
        "feature_views": sorted(v.name for v in cell.feature_views),
        "feature_services": sorted(s.name for s in cell.feature_services),
    }


def plan_text(store: Any, contents: RepoContents) -> str:
    """Feast's registry diff for ``contents`` (nothing is applied): one line per created/updated/deleted object."""
    from feast.diff.registry_diff import TransitionType

    registry_diff, _, _ = store.plan(contents)
    lines = []
    for diff in registry_diff.feast_object_diffs:
        kind = diff.feast_object_type.value
        if diff.name == "__dummy" or diff.transition_type == TransitionType.UNCHANGED:
            continue
        if diff.transition_type == TransitionType.UPDATE:
            # Registry timestamps differ on every plan; only real property changes count.
            changed = sorted(
                p.property_name
                for p in diff.feast_object_property_diffs
                if p.property_name != "meta" and not _same(diff, p.property_name)
            )
            if changed and kind != "Data Source":
                lines.append(f"~ {kind} {diff.name}: {', '.join(changed)} changed")
        elif diff.transition_type == TransitionType.CREATE:
            lines.append(f"+ {kind} {diff.name}")
        else:
            lines.append(f"- {kind} {diff.name}")
    return "\n".join(lines) or "no changes"


def define_spec(features: Any, text: str, name: str | None = None, apply: bool = True) -> DefineResult:
    """Define from a YAML spec (docs/features.md): validate it, render Feast Python, then as ``define_cell``."""
    from shipyard.features.repo import objects_by_file
    from shipyard.features.spec import first_name, parse_spec, render_spec

    data = parse_spec(text)
    name = name or first_name(data)
    features.store  # noqa: B018 - a malformed feature_store.yaml fails here, before the repo is read
    known = {
        e.name: (e.join_key, e.value_type.name.lower())
        for contents in objects_by_file(features.repo_dir).values()
        for e in contents.entities
        if e.name != "__dummy"
    }
    return define_cell(features, render_spec(data, known), name, apply, where="YAML spec")


def define_cell(
    features: Any, code: str, name: str | None = None, apply: bool = True, where: str = "cell"
) -> DefineResult:
    """Validate the cell, show Feast's plan, keep it as ``cells/<name>.py`` and apply (unless ``apply=False``)."""
    from shipyard.features.repo import load_repo_contents, objects_by_file

    repo_dir: Path = features.repo_dir
    store = features.store  # a malformed feature_store.yaml fails here, before anything is written
    cell = cell_contents(code, repo_dir, where)
    stem = cell_name(cell, name)
    target = repo_dir / CELLS_DIR / f"{stem}.py"
    check_ownership(cell, objects_by_file(repo_dir, skip=target), repo_dir)
    previous = target.read_text() if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code if code.endswith("\n") else code + "\n")
    try:
        contents = load_repo_contents(repo_dir, store.project, store.config.project_description or "")
        check_names(contents)
        plan = plan_text(store, contents)
        if apply:
            features.apply()
    except BaseException:
        _restore(target, previous)
        raise
    if not apply:
        _restore(target, previous)
    return DefineResult(
        name=stem,
        path=str(target),
        plan=plan,
        applied=apply,
        **summary(cell),
    )


def _same(diff: Any, prop: str) -> bool:
    """Whether a property differs only in registry metadata (Feast objects compare without timestamps)."""
    old = getattr(diff.current_feast_object, prop, None)
    new = getattr(diff.new_feast_object, prop, None)
    return old is not None and type(old) is type(new) and bool(old == new)


def _restore(target: Path, previous: str | None) -> None:
    if previous is None:
        target.unlink(missing_ok=True)
        if target.parent.exists() and not any(target.parent.iterdir()):
            target.parent.rmdir()
    else:
        target.write_text(previous)
