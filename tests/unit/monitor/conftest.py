"""Monitor test helpers: a deployment row in the metadata store, without deploying a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def _add_deployment(
    workspace: Any, feature_refs: list[str], entity_keys: list[str], reference_path: str = ""
) -> None:
    from shipyard.store.models import Deployment

    with workspace.store.session() as session:
        session.add(
            Deployment(
                project=workspace.project,
                name="churn",
                model_name="churn",
                model_version="1",
                model_uri="models:/churn/1",
                triton_model="churn_1",
                feature_refs=feature_refs,
                entity_keys=entity_keys,
                reference_path=reference_path,
            )
        )


@pytest.fixture
def add_deployment() -> Callable[..., None]:
    """``add_deployment(workspace, feature_refs, entity_keys, reference_path="")`` registers deployment churn."""
    return _add_deployment
