"""Edges between steps: a step reading a name that an earlier step binds depends on it; ``after:`` adds more.

The provider of a name is the latest earlier step (in notebook order) that binds it. When two steps bind a
name a later step reads, and neither runs after the other, the value the reader gets would depend on
scheduling: that is reported, with cell numbers, instead of guessed. Cycles (from ``after:``) too.
"""

from __future__ import annotations

import ast
import builtins
import json
from dataclasses import dataclass, field
from typing import Any

from shipyard.bridge.names import Names, parse_cell, scan_cells
from shipyard.bridge.notebook import Cell
from shipyard.bridge.tags import TaggedNotebook
from shipyard.errors import InvalidInput

RUN_DIR_PARAMETER = "_shipyard_run_dir"


@dataclass
class StepPlan:
    """What a step needs and gives: upstream steps, variables in (name -> provider) and out."""

    name: str
    after: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)


@dataclass
class PipelineGraph:
    """Steps in notebook order, edges (upstream, downstream), parameters with defaults, metric providers."""

    steps: list[StepPlan]
    edges: list[tuple[str, str]]
    parameters: dict[str, Any]
    metrics: dict[str, str]
    warnings: list[str]

    def step(self, name: str) -> StepPlan:
        return next(s for s in self.steps if s.name == name)


def extract_parameters(cells: list[Cell]) -> tuple[dict[str, Any], list[str]]:
    """Literal top-level assignments of the parameters cells; any other statement raises ``InvalidInput``."""
    params: dict[str, Any] = {}
    warnings: list[str] = []
    for cell in cells:
        for stmt in parse_cell(cell).body:
            target, value = _assignment(stmt)
            if target is None:
                if not isinstance(stmt, (ast.Import, ast.ImportFrom)) and not _docstring(stmt):
                    raise InvalidInput(
                        f"cell {cell.number}, line {stmt.lineno}: a parameters cell holds only "
                        "`name = literal` lines (numbers, strings, booleans, None, lists, dicts); move "
                        "other code into a step, imports or functions cell"
                    )
                continue
            try:
                literal = ast.literal_eval(value) if value is not None else None
                json.dumps(literal)
            except (ValueError, TypeError, SyntaxError, RecursionError) as exc:
                raise InvalidInput(
                    f"cell {cell.number}, line {stmt.lineno}: parameter '{target}' is not a JSON-compatible "
                    "literal (numbers, strings, booleans, None, lists, dicts with string keys); compute it "
                    "in a step instead"
                ) from exc
            params[target] = literal
    return params, warnings


def _docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return stmt.target.id, stmt.value
    return None, None


def infer_graph(tagged: TaggedNotebook) -> PipelineGraph:
    """Infer data edges, merge explicit ``after:`` edges, reject ambiguity and cycles."""
    params, warnings = extract_parameters(tagged.parameters)
    shared = scan_cells([*tagged.imports, *tagged.functions, *tagged.parameters])
    everywhere = set(shared.defines) | set(shared.imports) | set(dir(builtins)) | {RUN_DIR_PARAMETER}
    scans = {s.name: scan_cells(s.cells) for s in tagged.steps}
    for names in scans.values():
        for var in names.mutated & set(shared.imports):
            names.defines.pop(var, None)  # e.g. pd.options.x = 1: the imports cell re-creates pd
    for step in tagged.steps:
        for cell in scans[step.name].star_import_cells:
            warnings.append(
                f"cell {cell}: `from ... import *` hides which names step '{step.name}' binds; "
                "later steps may miss them"
            )
    parents: dict[str, set[str]] = {s.name: set(s.after) for s in tagged.steps}
    plans = {s.name: StepPlan(s.name) for s in tagged.steps}
    order = [s.name for s in tagged.steps]
    for i, step in enumerate(tagged.steps):
        plan = plans[step.name]
        names = scans[step.name]
        earlier = order[:i]
        for var, cell in sorted(names.reads.items(), key=lambda kv: (kv[1], kv[0])):
            provider = _provider(var, cell, step.name, earlier, scans, parents)
            if provider is not None:
                plan.inputs[var] = provider
                parents[step.name].add(provider)
                if var not in plans[provider].outputs:
                    plans[provider].outputs.append(var)
            elif var in params or var in shared.defines:
                if var in params and var not in plan.parameters:
                    plan.parameters.append(var)
            elif var not in everywhere:
                stmt = next(
                    (scans[p].imports[var] for p in reversed(earlier) if var in scans[p].imports), None
                )
                if stmt is not None and stmt not in plan.imports:
                    plan.imports.append(stmt)
    metrics = _metrics(tagged, order, scans, parents, plans, warnings)
    edges = [(p, s) for s in order for p in order if p in parents[s]]
    _check_cycles(tagged, order, parents)
    for s in order:
        plans[s].after = [p for p in order if p in parents[s]]
    return PipelineGraph([plans[s] for s in order], edges, params, metrics, [*tagged.warnings, *warnings])


def _provider(
    var: str,
    cell: int,
    reader: str,
    earlier: list[str],
    scans: dict[str, Names],
    parents: dict[str, set[str]],
) -> str | None:
    binders = [s for s in earlier if var in scans[s].defines]
    if not binders:
        return None
    latest = binders[-1]
    ancestors = _ancestors(latest, parents)
    loose = [b for b in binders[:-1] if b not in ancestors]
    if loose:
        other = loose[-1]
        raise InvalidInput(
            f"variable '{var}' is defined by two steps that do not depend on each other: step '{other}' "
            f"(cell {scans[other].defines[var]}) and step '{latest}' (cell {scans[latest].defines[var]}); "
            f"step '{reader}' reads it in cell {cell}, so its value would depend on run order. "
            f"Rename one of them, or tag step '{latest}' with after:{other}"
        )
    return latest


def _ancestors(step: str, parents: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(parents[step])
    while stack:
        s = stack.pop()
        if s not in seen:
            seen.add(s)
            stack.extend(parents[s])
    return seen


def _metrics(
    tagged: TaggedNotebook,
    order: list[str],
    scans: dict[str, Names],
    parents: dict[str, set[str]],
    plans: dict[str, StepPlan],
    warnings: list[str],
) -> dict[str, str]:
    metrics: dict[str, str] = {}
    for cell in tagged.metrics:
        earlier = [s for s in order if tagged.step(s).tag_cell < cell.number]
        for var, at in sorted(scan_cells([cell]).reads.items()):
            provider = _provider(var, at, "metrics", earlier, scans, parents)
            if provider is None:
                if var not in dir(builtins):
                    warnings.append(
                        f"cell {cell.number}: metric '{var}' is not defined by any step before it"
                    )
                continue
            metrics[var] = provider
            if var not in plans[provider].metrics:
                plans[provider].metrics.append(var)
    return metrics


def _check_cycles(tagged: TaggedNotebook, order: list[str], parents: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(step: str) -> None:
        state[step] = 1
        path.append(step)
        for parent in sorted(parents[step], key=order.index):
            if state.get(parent) == 1:
                cycle = [*path[path.index(parent) :], parent]
                where = " -> ".join(f"'{s}' (cell {tagged.step(s).tag_cell})" for s in reversed(cycle))
                raise InvalidInput(
                    f"steps form a cycle: {where}; remove an after: tag so each step runs once"
                )
            if parent not in state:
                visit(parent)
        path.pop()
        state[step] = 2

    for step in order:
        if step not in state:
            visit(step)
