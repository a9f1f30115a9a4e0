"""Model registry: MLflow tracking and registry with lineage tags and verified artifacts."""

from shipyard.registry.models import ModelVersionInfo

__all__ = ["ModelVersionInfo"]
