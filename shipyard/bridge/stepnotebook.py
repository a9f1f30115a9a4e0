"""Build a step's own notebook: shared imports and functions, a papermill ``parameters`` cell, a cell that
loads inputs from earlier steps, the step's cells, and a cell that saves what later steps read."""

from __future__ import annotations

import json
from typing import Any

from shipyard.bridge.dependencies import RUN_DIR_PARAMETER, StepPlan
from shipyard.bridge.notebook import Cell, SourceNotebook
from shipyard.bridge.tags import StepCells, TaggedNotebook

PARAMETERS_TAG = "parameters"


def build_step_notebook(
    source: SourceNotebook, tagged: TaggedNotebook, step: StepCells, plan: StepPlan, kernel: str
) -> Any:
    """The nbformat v4 notebook papermill runs for ``step``; generated cells carry ``metadata.shipyard``."""
    from nbformat import v4

    cells: list[Any] = []
    for cell in [*tagged.imports, *tagged.functions]:
        cells.append(_copy(v4, cell, role="shared"))
    if plan.imports:
        cells.append(_generated(v4, "imports", "\n".join(plan.imports), "imports used by earlier steps"))
    params = "\n\n".join(c.source.rstrip() for c in tagged.parameters)
    run_dir_line = f"{RUN_DIR_PARAMETER} = None  # set by Shipyard: the run folder that holds step outputs"
    cells.append(
        _generated(
            v4,
            "parameters",
            f"{params}\n{run_dir_line}" if params else run_dir_line,
            "parameters",
            tags=[PARAMETERS_TAG],
            source_cells=[c.number for c in tagged.parameters],
        )
    )
    if plan.inputs:
        code = (
            "from shipyard.bridge.datapassing import load_inputs as _shipyard_load_inputs\n\n"
            f"globals().update(_shipyard_load_inputs({RUN_DIR_PARAMETER}, {_literal(plan.inputs)}))"
        )
        cells.append(_generated(v4, "load-inputs", code, "variables from earlier steps"))
    for cell in step.cells:
        cells.append(_copy(v4, cell, role="step"))
    if plan.outputs or plan.metrics:
        code = (
            "from shipyard.bridge.datapassing import save_outputs as _shipyard_save_outputs\n\n"
            f"_shipyard_saved = _shipyard_save_outputs({RUN_DIR_PARAMETER}, {step.name!r}, globals(), "
            f"outputs={_literal(plan.outputs)}, metrics={_literal(plan.metrics)})"
        )
        cells.append(_generated(v4, "save-outputs", code, "variables later steps read"))
    seen: set[str] = set()
    for cell in cells:
        # Copy-pasted notebooks can repeat a cell id; nbformat 4.5 requires them unique.
        if cell["id"] in seen:
            cell["id"] = f"shipyard-{len(seen)}"
        seen.add(cell["id"])
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    language = source.metadata.get("language_info")
    nb.metadata["language_info"] = language if isinstance(language, dict) else {"name": "python"}
    nb.metadata["shipyard"] = {
        "step": step.name,
        "source_notebook": str(source.path),
        "sha256": source.sha256,
    }
    return nb


def source_cell_of(nb: Any, index: int) -> int | None:
    """The source-notebook cell number behind cell ``index`` of a step (or output) notebook, if any."""
    cells = nb.get("cells", [])
    if not 0 <= index < len(cells):
        return None
    number = cells[index].get("metadata", {}).get("shipyard", {}).get("source_cell")
    return number if isinstance(number, int) else None


def _copy(v4: Any, cell: Cell, role: str) -> Any:
    metadata = {k: v for k, v in cell.metadata.items() if k not in ("tags", "execution")}
    # Keep the user's tags for reference, except papermill's own: only the generated cell is "parameters".
    tags = [t for t in cell.tags if t not in (PARAMETERS_TAG, "injected-parameters")]
    if tags:
        metadata["tags"] = tags
    metadata["shipyard"] = {"role": role, "source_cell": cell.number}
    return _cell_node(cell.cell_type, cell.source, metadata, cell.cell_id or f"shipyard-cell-{cell.number}")


def _cell_node(cell_type: str, source: str, metadata: dict[str, Any], cell_id: str) -> Any:
    # nbformat's new_*_cell validate every cell against the JSON schema: minutes on a 10k-cell notebook.
    # These nodes have the v4.5 shape by construction; the whole notebook is validated once when written.
    from nbformat import from_dict

    node: dict[str, Any] = {"id": cell_id, "cell_type": cell_type, "metadata": metadata, "source": source}
    if cell_type == "code":
        node.update(execution_count=None, outputs=[])
    elif cell_type not in ("markdown", "raw"):
        node["cell_type"] = "raw"
    return from_dict(node)


def _generated(
    v4: Any,
    kind: str,
    code: str,
    what: str,
    tags: list[str] | None = None,
    source_cells: list[int] | None = None,
) -> Any:
    metadata: dict[str, Any] = {"shipyard": {"role": kind, "generated": what}}
    if source_cells:
        metadata["shipyard"]["source_cells"] = source_cells
    if tags:
        metadata["tags"] = tags
    return _cell_node("code", code, metadata, f"shipyard-{kind}")


def _literal(value: Any) -> str:
    # JSON of str keys/values and lists is also a valid Python literal.
    return json.dumps(value)
