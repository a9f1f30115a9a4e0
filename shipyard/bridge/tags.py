"""Cell tags -> the role of every cell in a pipeline (Shipyard's tags and Kubeflow Kale's aliases).

A cell plays one role: a step (``step:NAME`` / ``block:NAME``), shared ``imports``, ``functions`` or
``parameters`` (``pipeline-parameters``), ``metrics`` (``pipeline-metrics``), or ``skip``. An untagged cell
inherits the role of the nearest tagged cell above it, as in Kale; so untagged cells join the step above.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from shipyard.bridge.notebook import Cell
from shipyard.errors import InvalidInput

NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(rf"^{NAME_PATTERN}$")
_RESOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
_QUANTITY = re.compile(r"^[0-9][0-9A-Za-z.]*$")
# Tags like "https://..." or "jupyter:hide" come from other tools, not from a mistyped pipeline tag.
_URLISH = re.compile(r"^(https?|jupyter|nbsphinx|jupytext|colab|vscode)[:]", re.IGNORECASE)

# Roles a cell can play; plain tags map straight to one.
STEP, IMPORTS, FUNCTIONS, PARAMETERS, METRICS, SKIP = (
    "step",
    "imports",
    "functions",
    "parameters",
    "metrics",
    "skip",
)
_PLAIN = {
    "imports": IMPORTS,
    "functions": FUNCTIONS,
    "parameters": PARAMETERS,
    "pipeline-parameters": PARAMETERS,
    "metrics": METRICS,
    "pipeline-metrics": METRICS,
    "skip": SKIP,
}
# Tags other tools put on cells; they mean nothing to a pipeline and are ignored without a warning.
_FOREIGN = {
    "injected-parameters",
    "hide-input",
    "hide-output",
    "hide-cell",
    "remove-cell",
    "remove-input",
    "remove-output",
    "raises-exception",
    "skip-execution",
    "thebe-init",
    "full-width",
    "margin",
}


@dataclass
class CellTags:
    """What one cell's tags say; ``role`` None means untagged (inherits from the cell above)."""

    role: str | None = None
    step: str | None = None
    after: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


@dataclass
class StepCells:
    """A step as the tags define it: its cells (in notebook order) and what its tags ask for."""

    name: str
    tag_cell: int
    cells: list[Cell] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class TaggedNotebook:
    """Every cell sorted into its role; steps keep notebook order (first appearance)."""

    steps: list[StepCells]
    imports: list[Cell]
    functions: list[Cell]
    parameters: list[Cell]
    metrics: list[Cell]
    warnings: list[str]

    def step(self, name: str) -> StepCells:
        return next(s for s in self.steps if s.name == name)


def parse_cell_tags(tags: Sequence[str], cell_number: int) -> CellTags:
    """Parse one cell's tags; a malformed pipeline tag raises ``InvalidInput`` naming the cell."""
    out = CellTags()
    roles: dict[str, str] = {}
    for raw in tags:
        tag = raw.strip()
        if not tag:
            continue
        prefix, sep, rest = tag.partition(":")
        key = prefix.strip().lower()
        if not sep and key in _PLAIN:
            roles.setdefault(_PLAIN[key], tag)
            out.role = _PLAIN[key]
        elif sep and key in ("step", "block"):
            name = _name(rest, tag, cell_number)
            if out.step is not None and out.step != name:
                raise InvalidInput(
                    f"cell {cell_number}: tags 'step:{out.step}' and '{tag}' put one cell in two steps; keep one"
                )
            out.step = name
            roles.setdefault(STEP, tag)
            out.role = STEP
        elif sep and key in ("after", "prev"):
            names = [n.strip() for n in rest.split(",")]
            if not all(names):
                raise InvalidInput(
                    f"cell {cell_number}: tag '{tag}' has an empty step name; write after:STEP[,STEP...]"
                )
            out.after.extend(_name(n, tag, cell_number) for n in names)
        elif sep and key == "limit":
            resource, _, quantity = rest.rpartition(":")
            if not _RESOURCE.match(resource.strip()) or not _QUANTITY.match(quantity.strip()):
                raise InvalidInput(
                    f"cell {cell_number}: tag '{tag}' is not limit:RESOURCE:QUANTITY (e.g. limit:nvidia.com/gpu:1)"
                )
            out.resources[resource.strip()] = quantity.strip()
        elif sep and key in ("annotation", "label"):
            k, colon, v = rest.partition(":")
            if not k.strip() or not colon:
                raise InvalidInput(f"cell {cell_number}: tag '{tag}' is not {key}:KEY:VALUE")
            (out.annotations if key == "annotation" else out.labels)[k.strip()] = v.strip()
        elif key in ("step", "block", "after", "prev", "limit"):
            raise InvalidInput(f"cell {cell_number}: tag '{tag}' needs a value, e.g. '{key}:NAME'")
        elif sep and not _URLISH.match(tag):
            known = "step:, block:, after:, prev:, limit:, annotation:, label:"
            raise InvalidInput(
                f"cell {cell_number}: unknown tag '{tag}': '{prefix}:' is not a pipeline tag prefix "
                f"(known: {known}); fix the typo or remove the tag"
            )
        elif tag not in _FOREIGN:
            out.ignored.append(tag)
    if len(roles) > 1:
        both = " and ".join(f"'{t}'" for t in roles.values())
        raise InvalidInput(f"cell {cell_number}: tags {both} give one cell two roles; keep one")
    return out


def _name(text: str, tag: str, cell_number: int) -> str:
    name = text.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            f"cell {cell_number}: tag '{tag}': step name {name!r} must start with a letter or _ and hold only "
            "letters, digits and _"
        )
    return name


def tag_cells(cells: Sequence[Cell]) -> TaggedNotebook:
    """Sort cells into steps and shared sections; no step tag at all raises ``InvalidInput``."""
    parsed = [(cell, parse_cell_tags(cell.tags, cell.number)) for cell in cells]
    steps: dict[str, StepCells] = {}
    shared: dict[str, list[Cell]] = {IMPORTS: [], FUNCTIONS: [], PARAMETERS: [], METRICS: []}
    warnings: list[str] = []
    leading: list[Cell] = []
    role: str | None = None
    current: StepCells | None = None
    for cell, tags in parsed:
        for tag in tags.ignored:
            warnings.append(f"cell {cell.number}: tag '{tag}' is not a pipeline tag; ignored")
        if tags.role is not None:
            role = tags.role
            current = None
            if role == STEP:
                assert tags.step is not None
                current = steps.setdefault(tags.step, StepCells(tags.step, cell.number))
        has_step_extras = tags.after or tags.resources or tags.annotations or tags.labels
        if has_step_extras and role != STEP:
            raise InvalidInput(
                f"cell {cell.number}: after:/limit:/annotation:/label: tags belong on a step's cell, "
                f"not on {'an untagged cell before any step' if role is None else f'a {role!r} cell'}"
            )
        if role is None:
            leading.append(cell)
            continue
        if role == SKIP:
            continue
        if role != STEP:
            if cell.cell_type == "code":
                shared[role].append(cell)
            continue
        assert current is not None
        current.cells.append(cell)
        current.after.extend(a for a in tags.after if a not in current.after)
        current.resources.update(tags.resources)
        current.annotations.update(tags.annotations)
        current.labels.update(tags.labels)
    if not steps:
        raise InvalidInput(
            "no cell has a step tag: tag the first cell of each step with step:NAME "
            "(Kale's block:NAME works too); untagged cells join the step above"
        )
    first = next(iter(steps.values()))
    leading_code = [c for c in leading if c.cell_type == "code" and c.source.strip()]
    if leading_code:
        numbers = ", ".join(str(c.number) for c in leading_code)
        warnings.append(
            f"cells {numbers} come before any tagged cell; they join the first step '{first.name}' "
            "(tag them imports, functions, parameters or skip to change that)"
        )
    first.cells[:0] = leading
    for step in steps.values():
        _check_after(step, steps)
    return TaggedNotebook(
        steps=list(steps.values()),
        imports=shared[IMPORTS],
        functions=shared[FUNCTIONS],
        parameters=shared[PARAMETERS],
        metrics=shared[METRICS],
        warnings=warnings,
    )


def _check_after(step: StepCells, steps: dict[str, StepCells]) -> None:
    for name in step.after:
        cell = next(
            (c.number for c in step.cells if any(_after_names(t, name) for t in c.tags)), step.tag_cell
        )
        if name == step.name:
            raise InvalidInput(
                f"cell {cell}: step '{step.name}' cannot run after itself; remove 'after:{name}'"
            )
        if name not in steps:
            known = ", ".join(sorted(steps))
            raise InvalidInput(f"cell {cell}: 'after:{name}' names no step of this notebook (steps: {known})")


def _after_names(tag: str, name: str) -> bool:
    prefix, sep, rest = tag.partition(":")
    return (
        bool(sep)
        and prefix.strip().lower() in ("after", "prev")
        and name in [n.strip() for n in rest.split(",")]
    )
