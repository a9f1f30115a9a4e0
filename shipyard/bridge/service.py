"""PipelineService: promote a tagged notebook to a Dagster pipeline of papermill step notebooks, and run it.

Dagster and papermill are imported only when a pipeline runs, so building this service stays cheap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.bridge.models import PromoteResult, RunResult, StepResult, StepSpec
from shipyard.bridge.paths import (
    DEFINITIONS_FILE,
    SPEC_FILE,
    STEPS_DIR,
    check_pipeline_name,
    read_spec,
)
from shipyard.errors import NotFound

if TYPE_CHECKING:
    from shipyard.workspace import Workspace

__all__ = ["PipelineService", "PromoteResult", "RunResult", "StepResult", "StepSpec"]


class PipelineService:
    """Pipelines of one workspace: ``WS/pipelines/NAME/`` folders and their runs."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    @property
    def pipelines_dir(self) -> Path:
        return self.ws.path(self.ws.config.pipelines.dir)

    def promote(self, notebook: Path, name: str, cells: list[str] | None = None) -> PromoteResult:
        """Turn the tagged cells of ``notebook`` into ``WS/pipelines/NAME/``, atomically; bad input writes nothing."""
        import nbformat

        from shipyard.bridge.codegen import render_definitions
        from shipyard.bridge.dependencies import infer_graph
        from shipyard.bridge.notebook import load_notebook, select_cells
        from shipyard.bridge.stepnotebook import build_step_notebook
        from shipyard.bridge.tags import tag_cells

        check_pipeline_name(name)
        path = self._notebook_path(Path(notebook))
        source = select_cells(load_notebook(path), cells)
        tagged = tag_cells(source.cells)
        graph = infer_graph(tagged)
        kernel = self.ws.config.pipelines.kernel
        files: dict[str, str] = {}
        for step in tagged.steps:
            nb = build_step_notebook(source, tagged, step, graph.step(step.name), kernel)
            files[f"{STEPS_DIR}/{step.name}.ipynb"] = nbformat.writes(nb) + "\n"
        versions = {s.name: _sha256(files[f"{STEPS_DIR}/{s.name}.ipynb"]) for s in tagged.steps}
        definitions = render_definitions(name, tagged, graph, versions)
        compile(definitions, DEFINITIONS_FILE, "exec")  # generated code must at least parse
        files[DEFINITIONS_FILE] = definitions
        specs = [
            StepSpec(
                name=s.name,
                cells=[c.number for c in s.cells],
                after=graph.step(s.name).after,
                parameters={p: graph.parameters[p] for p in graph.step(s.name).parameters},
                resources=dict(s.resources),
            )
            for s in tagged.steps
        ]
        spec = {
            "format": 1,
            "name": name,
            "created_at": datetime.now(UTC).isoformat(),
            "source": {"path": self._relative(path), "sha256": source.sha256, "cells": cells or []},
            "kernel": kernel,
            "parameters": graph.parameters,
            "steps": [
                {
                    **asdict(s),
                    "notebook": f"{STEPS_DIR}/{s.name}.ipynb",
                    "inputs": graph.step(s.name).inputs,
                    "outputs": graph.step(s.name).outputs,
                    "metrics": graph.step(s.name).metrics,
                    "annotations": tagged.step(s.name).annotations,
                    "labels": tagged.step(s.name).labels,
                }
                for s in specs
            ],
            "edges": [list(e) for e in graph.edges],
            "metrics": graph.metrics,
            "warnings": graph.warnings,
        }
        files[SPEC_FILE] = json.dumps(spec, indent=2) + "\n"
        target = self.pipelines_dir / name
        _replace_dir(target, files)
        return PromoteResult(name=name, path=str(target), steps=specs, warnings=graph.warnings)

    def run(self, name: str, params: dict[str, Any] | None = None) -> RunResult:
        """Materialize the pipeline's Dagster assets in-process; outputs under ``WS/.shipyard/runs/RUN_ID/``."""
        from shipyard.bridge.runner import run_pipeline

        return run_pipeline(self.ws, self.pipelines_dir / check_pipeline_name(name), params)

    def list_pipelines(self) -> list[str]:
        """Names of the promoted pipelines of this workspace, sorted."""
        root = self.pipelines_dir
        if not root.is_dir():
            return []
        return sorted(
            p.name for p in root.iterdir() if not p.name.startswith(".") and (p / SPEC_FILE).is_file()
        )

    def get_run(self, run_id: str) -> RunResult:
        """A recorded run of this workspace's project; an unknown id raises ``NotFound``."""
        from shipyard.bridge.runner import read_metrics
        from shipyard.store.models import PipelineRun

        with self.ws.store.session() as session:
            row = session.get(PipelineRun, run_id)
            if row is None or row.project != self.ws.project:
                raise NotFound(
                    f"pipeline run '{run_id}' not found; `shipyard pipeline run NAME` prints run ids"
                )
            steps = [StepResult(**s) for s in row.steps or []]
            return RunResult(
                run_id=row.id,
                status=row.status,
                steps=steps,
                pipeline=row.pipeline,
                run_dir=row.run_dir,
                parameters=dict(row.parameters or {}),
                metrics=read_metrics(Path(row.run_dir)),
            )

    def spec(self, name: str) -> dict[str, Any]:
        """The recorded ``pipeline.json`` of pipeline ``name``."""
        return read_spec(self.pipelines_dir / check_pipeline_name(name))

    def _notebook_path(self, notebook: Path) -> Path:
        if notebook.is_absolute():
            return notebook
        in_workspace = self.ws.root / notebook
        return in_workspace if in_workspace.exists() else Path.cwd() / notebook

    def _relative(self, path: Path) -> str:
        resolved = path.resolve()
        try:
            return str(resolved.relative_to(self.ws.root.resolve()))
        except ValueError:
            return str(resolved)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _replace_dir(target: Path, files: dict[str, str]) -> None:
    """Write ``files`` into a new folder beside ``target``, then swap it in (the old one is removed)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    old: Path | None = None
    try:
        os.chmod(staging, 0o755)
        for rel, text in files.items():
            dest = staging / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old)  # onto the empty placeholder: rename(2) allows replacing an empty dir
            try:
                os.replace(staging, target)
            except OSError:
                os.replace(old, target)
                old = None
                raise
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)
