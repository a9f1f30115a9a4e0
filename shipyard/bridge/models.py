"""Values the pipeline service takes and returns (DESIGN.md, "Pipelines" contract)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SUCCEEDED, FAILED, SKIPPED, RUNNING = "succeeded", "failed", "skipped", "running"
STARTED = "started"  # a progress event only: a step began


@dataclass
class StepSpec:
    """A promoted step: its source cells (1-based numbers), upstream steps, parameters read, resource limits."""

    name: str
    cells: list[int]
    after: list[str]
    parameters: dict[str, Any]
    resources: dict[str, str]


@dataclass
class PipelineDiff:
    """How a promote changes an existing pipeline; ``changed`` maps a step to what changed in it."""

    new: bool = True
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    parameters: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.new or self.added or self.removed or self.changed or self.parameters)


@dataclass
class PromoteResult:
    """What ``promote`` wrote (or, with ``applied`` False, would write): steps, edges, parameters, warnings."""

    name: str
    path: str
    steps: list[StepSpec]
    warnings: list[str] = field(default_factory=list)
    edges: list[list[str]] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    diff: PipelineDiff = field(default_factory=PipelineDiff)
    applied: bool = True

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
    cached: bool = False


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
    warnings: list[str] = field(default_factory=list)
    mlflow_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class WebserverCommand:
    """The process that serves a pipeline in Dagster's UI: argv, extra environment, folder, URL."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    url: str
