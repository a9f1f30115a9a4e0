"""Checks on what a notebook hands to ``log_model``, each failing with a message that names the culprit."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

_MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value


def validate_log_inputs(
    model: Any,
    frame: Any,
    feature_columns: Any,
    target: Any,
    feature_refs: Any,
    keys: Any = None,
) -> list[str]:
    """Validate the arguments of ``RegistryService.log_model``; returns the entity key columns."""
    import pandas as pd

    if not hasattr(model, "predict"):
        raise InvalidInput(
            f"model of type {type(model).__name__} has no predict(); pass a fitted sklearn estimator"
        )
    _check_fitted(model)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"training_frame must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.empty:
        raise InvalidInput("training_frame has no rows; pass the frame the model was trained on")
    columns = _names("feature_columns", feature_columns)
    if not columns:
        raise InvalidInput("feature_columns is empty; pass the columns the model was trained on, in order")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise InvalidInput(f"feature_columns lists {', '.join(duplicates)} more than once")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"feature_columns not in training_frame: {', '.join(missing)}")
    if not isinstance(target, str) or target not in frame.columns:
        raise InvalidInput(f"target {target!r} is not a column of training_frame")
    if target in columns:
        raise InvalidInput(
            f"target {target!r} is also listed in feature_columns; remove it from the features"
        )
    non_numeric = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise InvalidInput(
            f"feature_columns must be numeric to be served; not numeric: {', '.join(non_numeric)}"
        )
    for ref in _names("feature_refs", feature_refs):
        view, _, feature = ref.partition(":")
        if not view or not feature:
            raise InvalidInput(f"feature ref {ref!r} is not of the form 'view:feature'")
    if keys is None:
        return entity_keys(frame, columns, target)
    keys = _names("entity_keys", keys)
    absent = [k for k in keys if k not in frame.columns]
    if absent:
        raise InvalidInput(f"entity_keys not in training_frame: {', '.join(absent)}")
    overlap = [k for k in keys if k in columns or k == target]
    if overlap:
        raise InvalidInput(f"entity_keys {', '.join(overlap)} are also features or the target")
    return keys


def validate_metrics(metrics: Any) -> dict[str, float]:
    """Metrics as ``{name: float}``, or ``InvalidInput`` naming the bad one."""
    if not isinstance(metrics, dict):
        raise InvalidInput(f"metrics must be a dict of name -> number, got {type(metrics).__name__}")
    out: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"metric {key!r} must be a number, got {value!r}") from None
        if math.isnan(number):
            raise InvalidInput(f"metric {key!r} is NaN; log only metrics that were computed")
        out[str(key)] = number
    return out


def validate_params(params: Any) -> dict[str, str]:
    """Params as ``{name: str}`` within MLflow's length limit, or ``InvalidInput`` naming the bad one."""
    if not isinstance(params, dict):
        raise InvalidInput(f"params must be a dict of name -> value, got {type(params).__name__}")
    out: dict[str, str] = {}
    for key, value in params.items():
        text = str(value)
        if len(text) > _MAX_PARAM_CHARS:
            raise InvalidInput(
                f"param {key!r} is {len(text)} characters long; MLflow keeps at most {_MAX_PARAM_CHARS}"
            )
        out[str(key)] = text
    return out


def entity_keys(frame: pd.DataFrame, feature_columns: list[str], target: str) -> list[str]:
    """Columns of a training frame that identify an entity: not features, not the target, not timestamps."""
    import pandas as pd

    skip = {*feature_columns, target}
    return [
        str(c)
        for c in frame.columns
        if c not in skip
        and not pd.api.types.is_datetime64_any_dtype(frame[c])
        and str(c) != "event_timestamp"
    ]


def _names(field: str, value: Any) -> list[str]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidInput(f"{field} must be a list of strings, got {type(value).__name__}")
    bad = [v for v in value if not isinstance(v, str) or not v]
    if bad:
        raise InvalidInput(f"{field} must hold non-empty strings; got {bad[0]!r}")
    return list(value)


def _check_fitted(model: Any) -> None:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not isinstance(model, BaseEstimator):
        return
    try:
        check_is_fitted(model)
    except NotFittedError:
        raise InvalidInput(
            f"model {type(model).__name__} is not fitted; call fit() before logging it"
        ) from None
