"""Features on Feast: apply a workspace's feature repo, materialize it, read online values, build training frames.

One ``FeatureStore`` per workspace, built on first use from ``[features] repo`` (a folder with
``feature_store.yaml``). Feast prints progress to stdout; every call that may print runs with stdout sent to
stderr, so a ``--json`` command still prints exactly one document.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shipyard.errors import InvalidInput, NotFound
from shipyard.features.describe import FeatureViewInfo, view_info
from shipyard.features.materialize import MaterializeProgress, MaterializeResult
from shipyard.features.sqlite_compat import tolerant_timestamps
from shipyard.features.training import feast_points, in_input_order, timestamps_already_utc
from shipyard.features.validation import (
    EVENT_TIMESTAMP,
    checked_entity_count,
    checked_entity_df,
    checked_entity_rows,
    checked_online_frame,
    checked_refs,
    join_key_kinds,
)

if TYPE_CHECKING:
    from feast import FeatureStore
    from feast.feature_view import FeatureView

    from shipyard.features.define import DefineResult
    from shipyard.features.describe import FeatureMatch, FeatureViewDetail
    from shipyard.workspace import Workspace


@dataclass(frozen=True)
class ApplyResult:
    """Names of what the repository defines, now registered."""

    entities: list[str]
    feature_views: list[str]
    feature_services: list[str]


class FeatureService:
    """Feast for one workspace: the repo under ``[features] repo``, registry and online store under ``.shipyard``."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws
        self.repo_dir = ws.path(ws.config.features.repo)
        self._store: FeatureStore | None = None
        self._lock = threading.RLock()
        # Validated refs -> join keys; the hot path of every prediction, so the registry is not re-read.
        self._refs_cache: dict[tuple[str, ...], dict[str, str]] = {}
        self._sqlite_online = False

    # -- registry -----------------------------------------------------------------------------------------
    def apply(self) -> ApplyResult:
        """Register the repo's definitions with Feast (like ``feast apply``: adds, updates and deletes)."""
        from feast.repo_operations import extract_objects_for_apply_delete

        from shipyard.features.define import check_names
        from shipyard.features.describe import register_in_catalog
        from shipyard.features.repo import load_repo_contents, local_file_sources

        with self._lock:
            store = self.store
            contents = load_repo_contents(
                self.repo_dir, store.project, store.config.project_description or ""
            )
            check_names(contents)
            self._check_sources(local_file_sources(contents))
            _, to_delete, _, _ = extract_objects_for_apply_delete(store.project, store.registry, contents)
            objects: list[Any] = [
                *contents.projects,
                *contents.data_sources,
                *contents.entities,
                *contents.feature_views,
                *contents.on_demand_feature_views,
                *contents.stream_feature_views,
                *contents.feature_services,
                *contents.permissions,
            ]
            with _stdout_to_stderr():
                # Re-applying unchanged objects is idempotent and recreates missing online tables.
                store.apply(objects, objects_to_delete=to_delete, partial=False)
            self._refs_cache.clear()
            register_in_catalog(
                list(self._views().values()),
                self._ws.catalog,
                self.repo_dir,
                entities=store.list_entities(allow_cache=True),
                services=store.list_feature_services(),
            )
        return ApplyResult(
            entities=sorted(e.name for e in contents.entities if e.name != "__dummy"),
            feature_views=sorted(
                v.name
                for v in (
                    *contents.feature_views,
                    *contents.on_demand_feature_views,
                    *contents.stream_feature_views,
                )
            ),
            feature_services=sorted(s.name for s in contents.feature_services),
        )

    def list_feature_views(self) -> list[FeatureViewInfo]:
        """Every registered feature view, by name."""
        views = self._views()
        return [view_info(views[name]) for name in sorted(views)]

    def feature_refs(self, feature_service: str) -> list[str]:
        """The ordered ``view:feature`` references of a feature service."""
        service = self._feature_service(feature_service)
        return [
            f"{projection.name_to_use()}:{feature.name}"
            for projection in service.feature_view_projections
            for feature in projection.features
        ]

    def define(self, code: str, name: str | None = None, apply: bool = True) -> DefineResult:
        """Define features from Python source (a notebook cell): validate, plan, keep in the repo, apply."""
        from shipyard.features.define import define_cell

        with self._lock:
            return define_cell(self, code, name, apply)

    def define_yaml(self, text: str, name: str | None = None, apply: bool = True) -> DefineResult:
        """Define features from a YAML spec (schema: docs/features.md); same plan/ownership/apply path."""
        from shipyard.features.define import define_spec

        with self._lock:
            return define_spec(self, text, name, apply)

    def describe(self, name: str, with_stats: bool = True) -> FeatureViewDetail:
        """A feature view (or the view of a ``view:feature`` ref) with schema, freshness, stats, lineage."""
        from shipyard.features.describe import view_detail

        views = self._views()
        view_name = name.split(":", 1)[0]
        if view_name not in views:
            raise NotFound(
                f"no feature view '{view_name}'; known: {', '.join(sorted(views)) or 'none'} "
                "(search with `shipyard features search TEXT`)"
            )
        services = self.store.list_feature_services()
        return view_detail(views[view_name], self.repo_dir, services, self._ws.catalog, with_stats)

    def search(self, text: str, limit: int = 20) -> list[FeatureMatch]:
        """Feature views and features matching ``text`` (name, description, owner, tags), best first."""
        from shipyard.features.describe import search

        return search(self._ws.catalog, text, limit)

    # -- offline ------------------------------------------------------------------------------------------
    def materialize(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> MaterializeResult:
        """Load feature values into the online store; by default each view continues where it last stopped.

        ``progress(view, done, total)`` is called after each view is loaded (views load one at a time).
        """
        from shipyard.features import materialize as mat

        def on_step(step: MaterializeProgress) -> None:
            if progress is not None and step.feature_view is not None:
                progress(step.feature_view, step.done, step.total)

        planned = mat.plan(list(self._views().values()), start, end, self.repo_dir)
        return mat.run(planned, self.repo_dir, self._load_view, on_step)

    def materialize_steps(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[MaterializeProgress | MaterializeResult]:
        """``materialize`` on a background thread: its progress steps as they happen, then the result.

        Bad arguments raise here, before anything runs; a failure while running (the quality gate, Feast)
        is raised by the iterator.
        """
        from shipyard.features import materialize as mat

        planned = mat.plan(list(self._views().values()), start, end, self.repo_dir)
        return mat.in_background(lambda on_step: mat.run(planned, self.repo_dir, self._load_view, on_step))

    def _load_view(self, name: str, start: datetime, end: datetime) -> None:
        with self._lock, _stdout_to_stderr():
            self.store.materialize(start_date=start, end_date=end, feature_views=[name])

    def training_frame(self, entity_df: pd.DataFrame, features: str | list[str]) -> pd.DataFrame:
        """Point-in-time correct features for each entity row (Feast historical retrieval), in the input's order.

        ``features`` is a feature service name or a list of ``view:feature`` refs.
        """
        views = self._views()
        service: Any
        if isinstance(features, str):
            service = self._feature_service(features)
            view_names = [p.name for p in service.feature_view_projections if p.name in views]
            refs = self.feature_refs(features)
        else:
            refs = checked_refs(features, views)
            service = refs
            view_names = list(dict.fromkeys(ref.split(":", 1)[0] for ref in refs))
        join_keys = list(join_key_kinds([views[v] for v in view_names]))
        names = [name.split(":", 1)[1] for name in refs]
        frame = checked_entity_df(entity_df, join_keys)
        clashes = [c for c in frame.columns if c in names]
        if clashes:
            raise InvalidInput(
                f"entity_df column(s) {', '.join(clashes)} clash with features; drop or rename them"
            )
        points = feast_points(frame, join_keys)
        with self._lock, _stdout_to_stderr(), timestamps_already_utc(self.store):
            found = self.store.get_historical_features(entity_df=points, features=service).to_df()
        return in_input_order(frame, found, [*join_keys, EVENT_TIMESTAMP], names)

    # -- online -------------------------------------------------------------------------------------------
    def online_features(self, entity_rows: list[dict[str, Any]], feature_refs: list[str]) -> pd.DataFrame:
        """Latest online values, one row per entity row in order; entity keys then features (float, NaN if unknown)."""
        rows, join_keys, names, response = self._online(entity_rows, feature_refs)
        if not rows:
            return pd.DataFrame(columns=join_keys + names)
        data: dict[str, Any] = {key: [row[key] for row in rows] for key in join_keys}
        for name in names:
            data[name] = np.array([np.nan if v is None else v for v in response[name]], dtype=np.float64)
        return pd.DataFrame(data, copy=False)

    def online_records(
        self, entity_rows: list[dict[str, Any]], feature_refs: list[str]
    ) -> list[dict[str, Any]]:
        """The same values as ``online_features`` as JSON-ready dicts (float or None), built without pandas.

        The REST hot path: a 50-column DataFrame costs more to build and take apart than the Feast read.
        """
        rows, join_keys, names, response = self._online(entity_rows, feature_refs)
        columns = [[None if v is None or v != v else float(v) for v in response[name]] for name in names]
        return (
            [
                {**{key: row[key] for key in join_keys}, **dict(zip(names, values, strict=True))}
                for row, values in zip(rows, zip(*columns, strict=True), strict=True)
            ]
            if names
            else [{key: row[key] for key in join_keys} for row in rows]
        )

    def _online(
        self, entity_rows: list[dict[str, Any]], feature_refs: list[str]
    ) -> tuple[list[dict[str, Any]], list[str], list[str], dict[str, list[Any]]]:
        """Validated rows, join keys, feature names and Feast's ``to_dict`` answer (empty if no rows)."""
        from feast.errors import FeatureViewNotFoundException

        if isinstance(entity_rows, list):
            checked_entity_count(len(entity_rows))
        refs, key_kinds = self._online_refs(feature_refs)
        rows = checked_entity_rows(entity_rows, key_kinds)
        join_keys = list(key_kinds)
        names = [ref.split(":", 1)[1] for ref in refs]
        if not rows:
            return rows, join_keys, names, {}
        try:
            with self._lock:
                if self._sqlite_online:
                    tolerant_timestamps()
                response = self._fast_online(refs, rows)
                if response is None:
                    response = self.store.get_online_features(features=refs, entity_rows=rows).to_dict()
        except FeatureViewNotFoundException as exc:  # deleted by an apply in another process
            self._refs_cache.clear()
            raise NotFound(f"{exc}; re-check the feature refs") from exc
        return rows, join_keys, names, response

    def _fast_online(self, refs: list[str], rows: list[dict[str, Any]]) -> dict[str, list[Any]] | None:
        """The direct read (see online_read.py), or None to let Feast's own path answer (and raise)."""
        import sqlite3

        from shipyard.features.online_read import plain_views_only, read_online

        views = self._views()
        if not plain_views_only(views, refs):
            return None
        try:
            return read_online(self.store, views, refs, rows)
        except sqlite3.OperationalError:  # e.g. a view dropped by an apply elsewhere: Feast names it properly
            return None

    def write_online(self, feature_view: str, df: pd.DataFrame) -> int:
        """Write rows (entity keys, event_timestamp, every feature of the view) straight to the online store."""
        views = self._views()
        if feature_view not in views:
            raise NotFound(
                f"feature view '{feature_view}' is not registered; known: {', '.join(sorted(views))}"
            )
        view = views[feature_view]
        frame = checked_online_frame(df, view, list(join_key_kinds([view])))
        if frame.empty:
            return 0
        with self._lock, _stdout_to_stderr():
            self.store.write_to_online_store(feature_view, df=frame, allow_registry_cache=False)
        return len(frame)

    def _online_refs(self, feature_refs: Any) -> tuple[list[str], dict[str, str]]:
        key = tuple(feature_refs) if isinstance(feature_refs, list) else None
        if key is not None and key in self._refs_cache:
            return list(key), self._refs_cache[key]
        views = self._views()
        refs = checked_refs(feature_refs, views)
        key_kinds = join_key_kinds([views[ref.split(":", 1)[0]] for ref in refs])
        self._refs_cache[tuple(refs)] = key_kinds
        return refs, key_kinds

    # -- Feast objects ------------------------------------------------------------------------------------
    @property
    def store(self) -> FeatureStore:
        """The workspace's Feast ``FeatureStore`` (built once; imports Feast)."""
        with self._lock:
            if self._store is None:
                self._store = self._open_store()
            return self._store

    def _open_store(self) -> FeatureStore:
        yaml_path = self.repo_dir / "feature_store.yaml"
        if not yaml_path.is_file():
            raise NotFound(
                f"no feature_store.yaml in {self.repo_dir}; set [features] repo in shipyard.toml "
                "or create the example with `shipyard init PATH --example churn`"
            )
        from feast import FeatureStore
        from feast.repo_config import load_repo_config

        from shipyard.features.repo import local_state_paths

        try:
            config = load_repo_config(self.repo_dir, yaml_path)
        except Exception as exc:  # Feast raises several config error types; all are bad input
            raise InvalidInput(f"{yaml_path}: invalid Feast configuration ({exc})") from exc
        self._sqlite_online = getattr(config.online_store, "type", "") == "sqlite"
        # SQLite and the file registry create one missing folder level only.
        for local in local_state_paths(config, self.repo_dir):
            local.parent.mkdir(parents=True, exist_ok=True)
        return FeatureStore(repo_path=str(self.repo_dir), config=config)

    def _views(self) -> dict[str, FeatureView]:
        return {v.name: v for v in self.store.list_feature_views(allow_cache=True)}

    def _feature_service(self, name: str) -> Any:
        from feast.errors import FeatureServiceNotFoundException

        try:
            return self.store.get_feature_service(name, allow_cache=True)
        except FeatureServiceNotFoundException:
            known = sorted(s.name for s in self.store.list_feature_services())
            raise NotFound(
                f"feature service '{name}' is not registered; known: {', '.join(known) or 'none'} "
                "(run `shipyard features apply` after defining it)"
            ) from None

    def _check_sources(self, sources: list[tuple[str, str]]) -> None:
        for view, raw in sources:
            path = Path(raw) if Path(raw).is_absolute() else self.repo_dir / raw
            if not path.exists():
                raise InvalidInput(
                    f"feature view '{view}': source file {path} does not exist; generate the data "
                    "(`shipyard init PATH --example churn`) or fix the path in the repo definitions"
                )


# -- small helpers -------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    with contextlib.redirect_stdout(sys.stderr):
        yield
