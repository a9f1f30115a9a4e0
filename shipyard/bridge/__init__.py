"""Notebook -> pipeline: cell tags, dependency inference, papermill step notebooks, Dagster assets, runs."""

from shipyard.bridge.models import PromoteResult, RunResult, StepResult, StepSpec
from shipyard.bridge.service import PipelineService

__all__ = ["PipelineService", "PromoteResult", "RunResult", "StepResult", "StepSpec"]
