"""Values the pipeline service takes and returns (DESIGN.md, "Pipelines" contract)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SUCCEEDED, FAILED, SKIPPED, RUNNING = "succeeded", "failed", "skipped", "running"


@dataclass
class StepSpec:
    """A promoted step: its source cells (1-based numbers), upstream steps, parameters read, resource limits."""

    name: str
    cells: list[int]
    after: list[str]
    parameters: dict[str, Any]
    resources: dict[str, str]


@dataclass
class PromoteResult:
    """What ``promote`` wrote: the pipeline folder and its steps, plus warnings worth showing the user."""

    name: str
    path: str
    steps: list[StepSpec]
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepResult:
    """One step of a run: ``status`` is succeeded, failed or skipped (an upstream step failed)."""

    name: str
    status: str
    duration_s: float
    output_notebook: str | None
    error: str | None


@dataclass
class RunResult:
    """A pipeline run; ``status`` is succeeded or failed (running while it is in progress)."""

    run_id: str
    status: str
    steps: list[StepResult]
    pipeline: str = ""
    run_dir: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
