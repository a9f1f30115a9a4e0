"""Features on Feast: ``ws.features`` (``FeatureService``) plus two notebook shortcuts.

``shipyard.features.training_frame(labels, "churn_v1")`` and ``shipyard.features.online_features(...)``
open the workspace (``workspace=``, ``$SHIPYARD_WORKSPACE`` or the nearest ``shipyard.toml``) and call the
service. Feast and pandas are imported only when one of them runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def training_frame(
    entity_df: pd.DataFrame, features: str | list[str], workspace: str | None = None
) -> pd.DataFrame:
    """Point-in-time correct training data for ``entity_df``: a feature service name or view:feature refs."""
    from shipyard.governance.masking import mask_training_frame
    from shipyard.workspace import Workspace

    ws = Workspace.open(workspace)
    refs = features if isinstance(features, list) else ws.features.feature_refs(features)
    # Sensitive columns come back masked unless the OS user holds a grant (`shipyard access grant`).
    return mask_training_frame(ws, ws.features.training_frame(entity_df, features), refs)


def online_features(
    entity_rows: list[dict[str, Any]], feature_refs: list[str], workspace: str | None = None
) -> pd.DataFrame:
    """Latest online feature values for ``entity_rows`` from the workspace's online store."""
    from shipyard.governance.masking import mask_training_frame
    from shipyard.workspace import Workspace

    ws = Workspace.open(workspace)
    return mask_training_frame(ws, ws.features.online_features(entity_rows, feature_refs), feature_refs)


__all__ = ["online_features", "training_frame"]
