"""Declarative hyper-parameter search spaces (JSON-friendly) and their Ray Tune domains."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shipyard.errors import InvalidInput

KINDS = ("uniform", "loguniform", "randint", "choice")


def validate_space(space: object) -> dict[str, dict[str, list[Any]]]:
    """``{"C": {"loguniform": [1e-3, 10]}, "depth": {"randint": [2, 9]}, "crit": {"choice": ["gini"]}}``."""
    if not isinstance(space, Mapping) or not space:
        raise InvalidInput(
            "search space must be a non-empty mapping of parameter -> {kind: args}, e.g. "
            '{"C": {"loguniform": [0.001, 10]}}'
        )
    out: dict[str, dict[str, list[Any]]] = {}
    for name, spec in space.items():
        where = f"search space parameter {name!r}"
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"{where}: names must be non-empty strings")
        if not isinstance(spec, Mapping) or len(spec) != 1:
            raise InvalidInput(f"{where}: give exactly one of {', '.join(KINDS)}, e.g. {{'uniform': [0, 1]}}")
        ((kind, args),) = spec.items()
        if kind not in KINDS:
            raise InvalidInput(f"{where}: kind {kind!r} is unknown; use one of {', '.join(KINDS)}")
        if not isinstance(args, (list, tuple)) or not args:
            raise InvalidInput(f"{where}: {kind} needs a list of arguments")
        args = list(args)
        if kind != "choice":
            if len(args) != 2 or not all(_is_number(a) for a in args) or not args[0] < args[1]:
                raise InvalidInput(f"{where}: {kind} needs [low, high] numbers with low < high, got {args}")
            if kind == "loguniform" and args[0] <= 0:
                raise InvalidInput(f"{where}: loguniform needs low > 0, got {args[0]}")
            if kind == "randint" and not all(float(a).is_integer() for a in args):
                raise InvalidInput(f"{where}: randint needs integer bounds, got {args}")
        out[name] = {kind: args}
    return out


def to_tune(space: Mapping[str, Mapping[str, list[Any]]]) -> dict[str, Any]:
    """Ray Tune sampling domains for a validated space (``randint`` bounds are inclusive)."""
    from ray import tune

    domains: dict[str, Any] = {}
    for name, spec in space.items():
        ((kind, args),) = spec.items()
        if kind == "uniform":
            domains[name] = tune.uniform(*args)
        elif kind == "loguniform":
            domains[name] = tune.loguniform(*args)
        elif kind == "randint":
            domains[name] = tune.randint(int(args[0]), int(args[1]) + 1)
        else:
            domains[name] = tune.choice(args)
    return domains


def fit_to_space(config: Mapping[str, Any], space: Mapping[str, Mapping[str, list[Any]]]) -> dict[str, Any]:
    """``config`` restricted to the space's parameters, each clipped into its range (None if nothing fits)."""
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if name not in config:
            continue
        ((kind, args),) = spec.items()
        value = config[name]
        if kind == "choice":
            if value in args:
                out[name] = value
        elif _is_number(value) and math.isfinite(float(value)):
            clipped = min(max(float(value), float(args[0])), float(args[1]))
            out[name] = int(round(clipped)) if kind == "randint" else clipped
    return out


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
