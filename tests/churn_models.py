"""The three-feature churn model the serving, resilience and fault tests register (LogisticRegression)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.registry.models import ModelVersionInfo
    from shipyard.workspace import Workspace

FEATURES = ["monthly_charge", "txn_count_30d", "refunds_30d"]
REFS = ["customer_profile:monthly_charge", "customer_activity:txn_count_30d", "customer_activity:refunds_30d"]


def log_churn_model(
    ws: Workspace, frame: pd.DataFrame, *, c: float = 1.0, name: str = "churn", refs: list[str] | None = None
) -> ModelVersionInfo:
    """Fit LogisticRegression(C=c) on ``frame`` (label ``churned``) and register it as ``name``."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=500).fit(frame[FEATURES], frame["churned"])
    return ws.registry.log_model(
        model,
        name=name,
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=refs or REFS,
        metrics={"auc": 0.8},
        params={"C": c},
    )
