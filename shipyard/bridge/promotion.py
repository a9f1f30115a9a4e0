"""Plan a promote without touching disk: the files of the pipeline folder, its spec, and the diff to the last one.

``PipelineService.preview`` shows the plan; ``PipelineService.promote`` writes it atomically.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from shipyard.bridge.defaults import NotebookDefaults
from shipyard.bridge.models import PipelineDiff, StepSpec
from shipyard.bridge.notebook import SourceNotebook
from shipyard.bridge.paths import DEFINITIONS_FILE, SPEC_FILE, STEPS_DIR

SOURCE_COPY = "source.ipynb"


@dataclass
class PromotePlan:
    """Everything a promote would write: ``files`` maps a path inside the pipeline folder to its text."""

    files: dict[str, str]
    spec: dict[str, Any]
    steps: list[StepSpec]
    warnings: list[str]


def plan_promotion(
    source: SourceNotebook,
    name: str,
    cells: list[str] | None,
    source_ref: str,
    defaults: NotebookDefaults,
    kernel: str,
    step_timeout_s: int,
) -> PromotePlan:
    """Tags -> graph -> step notebooks + ``definitions.py`` + ``pipeline.json``; bad input raises, nothing written."""
    from shipyard.bridge.codegen import render_definitions
    from shipyard.bridge.dependencies import infer_graph
    from shipyard.bridge.stepnotebook import build_step_notebook
    from shipyard.bridge.tags import tag_cells

    tagged = tag_cells(source.cells)
    for step in tagged.steps:
        step.resources = {**defaults.resources, **step.resources}
    graph = infer_graph(tagged)
    files: dict[str, str] = {}
    versions: dict[str, str] = {}
    for step in tagged.steps:
        nb = build_step_notebook(source, tagged, step, graph.step(step.name), kernel)
        # nbformat.writes deep-copies and re-validates every cell: seconds on a big notebook. The step
        # notebook is v4.5 by construction (tests validate it), so plain JSON is written.
        files[f"{STEPS_DIR}/{step.name}.ipynb"] = (
            json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        )
        versions[step.name] = code_version(nb, kernel)
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
        "source": {"path": source_ref, "sha256": source.sha256, "cells": cells or []},
        "kernel": kernel,
        "step_timeout_s": step_timeout_s,
        "ray": defaults.ray,
        "parameters": graph.parameters,
        "steps": [
            {
                **asdict(s),
                "notebook": f"{STEPS_DIR}/{s.name}.ipynb",
                "code_sha256": versions[s.name],
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
    spec["sha256"] = spec_hash(spec)
    files[SPEC_FILE] = json.dumps(spec, indent=2) + "\n"
    return PromotePlan(files=files, spec=spec, steps=specs, warnings=graph.warnings)


def code_version(nb: Any, kernel: str) -> str:
    """sha256 of what a step runs (its cells' code and the kernel), not of the source notebook's other cells."""
    payload = json.dumps([kernel, [(c.cell_type, c.source) for c in nb.cells]])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def spec_hash(spec: dict[str, Any]) -> str:
    """sha256 of the pipeline's shape (steps, code, edges, parameters), ignoring when it was promoted."""
    keep = {k: spec[k] for k in ("name", "kernel", "parameters", "steps", "edges", "metrics") if k in spec}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode("utf-8")).hexdigest()


def diff_specs(old: dict[str, Any] | None, new: dict[str, Any]) -> PipelineDiff:
    """What re-promoting changes: steps added, removed, changed (cells, code, edges...), parameters."""
    if old is None:
        return PipelineDiff(new=True, added=[s["name"] for s in new["steps"]])
    before = {s["name"]: s for s in old.get("steps", [])}
    after = {s["name"]: s for s in new["steps"]}
    diff = PipelineDiff(new=False)
    diff.added = [n for n in after if n not in before]
    diff.removed = [n for n in before if n not in after]
    for name in after:
        if name not in before:
            continue
        fields = [
            f
            for f in ("cells", "code_sha256", "after", "parameters", "resources", "inputs", "outputs")
            if before[name].get(f) != after[name].get(f)
        ]
        if fields:
            diff.changed[name] = ["code" if f == "code_sha256" else f for f in fields]
    old_params, new_params = old.get("parameters", {}), new.get("parameters", {})
    for key in new_params:
        if key not in old_params:
            diff.parameters.append(f"+ {key} = {new_params[key]!r}")
        elif old_params[key] != new_params[key]:
            diff.parameters.append(f"~ {key}: {old_params[key]!r} -> {new_params[key]!r}")
    diff.parameters += [f"- {key}" for key in old_params if key not in new_params]
    return diff
