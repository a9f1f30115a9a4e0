"""One predict call: validate entities, fetch online features, infer on Triton, log for monitoring."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import pandas as pd

    from shipyard.gpu_runtime.deployments import DeploymentInfo
    from shipyard.gpu_runtime.triton_client import TritonClient
    from shipyard.workspace import Workspace

MAX_ENTITIES = 10_000
_RECORDS_MAX = 64  # up to this many entities, online features are read as records, not a DataFrame
_SCALARS = (int, float, str, bool)


@dataclass(frozen=True)
class PredictionResult:
    """Predictions for a batch of entities, in request order."""

    deployment: str
    model_version: str
    predictions: list[dict[str, Any]]
    latency_ms: float
    request_ids: list[str] = field(default_factory=list)


def validate_entities(entities: Any, entity_keys: list[str], deployment: str) -> list[dict[str, Any]]:
    """Each entity as ``{key: value}`` over exactly the deployment's entity keys, or ``InvalidInput``."""
    if not isinstance(entities, list) or not entities:
        raise InvalidInput(
            f"entities for {deployment!r} must be a non-empty list of objects like {_example(entity_keys)}"
        )
    if len(entities) > MAX_ENTITIES:
        raise InvalidInput(f"{len(entities)} entities in one request; send at most {MAX_ENTITIES}")
    rows = []
    for i, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise InvalidInput(
                f"entities[{i}] must be an object like {_example(entity_keys)}, got {type(entity).__name__}"
            )
        missing = [k for k in entity_keys if k not in entity]
        if missing:
            raise InvalidInput(
                f"entities[{i}] lacks entity key {', '.join(missing)} (deployment {deployment!r})"
            )
        row = {}
        for key in entity_keys:
            value = entity[key]
            if value is None or not isinstance(value, _SCALARS):
                raise InvalidInput(
                    f"entities[{i}].{key} must be a number or string, got {type(value).__name__}"
                )
            row[key] = value
        rows.append(row)
    return rows


def validate_feature_rows(rows: Any, columns: list[str], deployment: str) -> Any:
    """Raw feature rows (``{feature: number}`` over exactly the model's inputs) as a float32 matrix."""
    import math

    import numpy as np

    example = (
        "{" + ", ".join(f'"{c}": 0.0' for c in columns[:3]) + (", ..." if len(columns) > 3 else "") + "}"
    )
    if not isinstance(rows, list) or not rows:
        raise InvalidInput(f"rows for {deployment!r} must be a non-empty list of objects like {example}")
    if len(rows) > MAX_ENTITIES:
        raise InvalidInput(f"{len(rows)} rows in one request; send at most {MAX_ENTITIES}")
    matrix = np.empty((len(rows), len(columns)), dtype=np.float32)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidInput(f"rows[{i}] must be an object like {example}, got {type(row).__name__}")
        missing = [c for c in columns if c not in row]
        extra = [k for k in row if k not in columns]
        if missing or extra:
            what = "; ".join(
                part
                for part in (
                    f"lacks {', '.join(missing)}" if missing else "",
                    f"has unknown {', '.join(map(str, extra))}" if extra else "",
                )
                if part
            )
            raise InvalidInput(f"rows[{i}] {what} (deployment {deployment!r} takes {', '.join(columns)})")
        for j, column in enumerate(columns):
            value = row[column]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidInput(f"rows[{i}].{column} must be a finite number, got {value!r}")
            matrix[i, j] = value
    return matrix


def predict_rows(
    ws: Workspace,
    dep: DeploymentInfo,
    entities: list[dict[str, Any]] | None,
    serving: Callable[[str], AbstractContextManager[TritonClient]],
    started: float,
    feature_rows: list[dict[str, Any]] | None = None,
) -> PredictionResult:
    """Run one prediction request for deployment ``dep`` (``started`` is the request's perf_counter).

    With ``entities`` the features come from the online store; with ``feature_rows`` the caller gives them.
    """
    import numpy as np

    from shipyard.monitor.service import PredictionRecord

    if (entities is None) == (feature_rows is None):
        raise InvalidInput(
            "give exactly one of 'entities' (features looked up online) or 'rows' (raw features)"
        )
    if feature_rows is not None:
        features = validate_feature_rows(feature_rows, dep.feature_columns, dep.name)
        rows: list[dict[str, Any]] = [{} for _ in range(len(features))]
    else:
        rows = validate_entities(entities, dep.entity_keys, dep.name)
        # Online traffic is mostly one entity: building and taking apart a DataFrame cost ~1 ms of it.
        # (A features stand-in may answer only online_features: the serving tests' fake does.)
        records = getattr(ws.features, "online_records", None)
        if records is not None and len(rows) <= _RECORDS_MAX:
            features = _records_matrix(records(rows, dep.feature_refs), rows, dep)
        else:
            features = _feature_matrix(ws.features.online_features(rows, dep.feature_refs), rows, dep)
    with serving(dep.triton_model) as client:
        out = client.infer(dep.triton_model, features, input_name="input", outputs=["probabilities", "label"])
    probs = np.asarray(out["probabilities"], dtype=np.float64)
    labels = np.asarray(out["label"]).reshape(-1)
    # Binary: probability of the positive class; multi-class: probability of the predicted class.
    positive = probs[:, 1] if probs.shape[1] == 2 else probs.max(axis=1)
    latency_ms = (time.perf_counter() - started) * 1000.0
    now = datetime.now(UTC)
    predictions, records, request_ids = [], [], []
    for i, row in enumerate(rows):
        output = {"probability": float(positive[i]), "prediction": int(labels[i])}
        request_id = uuid.uuid4().hex
        request_ids.append(request_id)
        predictions.append({**row, **output})
        records.append(
            PredictionRecord(
                request_id=request_id,
                ts=now,
                entity=row,
                features={c: float(features[i, j]) for j, c in enumerate(dep.feature_columns)},
                output=output,
                latency_ms=latency_ms,
            )
        )
    ws.monitor.log_predictions(dep.name, dep.model_version, records)
    return PredictionResult(dep.name, dep.model_version, predictions, round(latency_ms, 3), request_ids)


def _feature_matrix(online: pd.DataFrame, rows: list[dict[str, Any]], dep: DeploymentInfo) -> Any:
    import numpy as np
    import pandas as pd

    absent = [c for c in dep.feature_columns if c not in online.columns]
    if absent:
        raise NotFound(
            f"online store returned no column for {', '.join(absent)} (deployment {dep.name!r}); "
            "apply and materialize the feature repository"
        )
    if len(online) != len(rows):
        raise NotFound(
            f"online store returned {len(online)} rows for {len(rows)} entities (deployment {dep.name!r})"
        )
    # Column by column in numpy: selecting a sub-frame and checking dtypes in pandas costs more than the
    # Triton call for the one-entity requests that dominate online traffic.
    matrix = np.empty((len(rows), len(dep.feature_columns)), dtype=np.float64)
    for j, column in enumerate(dep.feature_columns):
        series = online[column]
        if isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf":
            matrix[:, j] = series.to_numpy()
        else:
            matrix[:, j] = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return _checked(matrix, rows, dep)


def _records_matrix(records: list[dict[str, Any]], rows: list[dict[str, Any]], dep: DeploymentInfo) -> Any:
    """``_feature_matrix`` for ``online_records`` (float or None per feature), without pandas."""
    import numpy as np

    absent = [c for c in dep.feature_columns if records and c not in records[0]]
    if absent:
        raise NotFound(
            f"online store returned no column for {', '.join(absent)} (deployment {dep.name!r}); "
            "apply and materialize the feature repository"
        )
    if len(records) != len(rows):
        raise NotFound(
            f"online store returned {len(records)} rows for {len(rows)} entities (deployment {dep.name!r})"
        )
    nan = float("nan")
    matrix = np.array(
        [[nan if (v := record[c]) is None else v for c in dep.feature_columns] for record in records],
        dtype=np.float64,
    ).reshape(len(rows), len(dep.feature_columns))
    return _checked(matrix, rows, dep)


def _checked(matrix: Any, rows: list[dict[str, Any]], dep: DeploymentInfo) -> Any:
    """``matrix`` as float32, or ``NotFound`` naming the first entity with a missing feature."""
    import numpy as np

    missing = np.isnan(matrix)
    for i in np.flatnonzero(missing.any(axis=1)):
        who = ", ".join(f"{k}={v!r}" for k, v in rows[i].items())
        lacking = [c for j, c in enumerate(dep.feature_columns) if missing[i, j]]
        what = (
            "no online features"
            if len(lacking) == len(dep.feature_columns)
            else f"no value for {', '.join(lacking)}"
        )
        raise NotFound(
            f"entity {who} has {what} in the online store (deployment {dep.name!r}); check the id, or "
            "materialize features (`shipyard features materialize`)"
        )
    return matrix.astype(np.float32)


def _example(entity_keys: list[str]) -> str:
    return "{" + ", ".join(f'"{k}": ...' for k in entity_keys) + "}"
