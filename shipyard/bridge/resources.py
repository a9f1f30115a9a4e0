"""Per-step resource requests (``limit:cpu:2``, ``limit:nvidia.com/gpu:1``, ``limit:memory:4Gi``) against
what this machine has, for local in-process runs.

A notebook tagged for a GPU cluster must still be tryable on a laptop: a missing resource is a warning and the
step runs without it, unless the run is strict. Enforcement (a Ray task per step) is the Ray runtime's job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.devices import gpu_count

GPU = "nvidia.com/gpu"
_SUFFIX = {
    "": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([A-Za-z]*)$")


@dataclass(frozen=True)
class Capacity:
    """What this machine offers: CPU cores, NVIDIA GPUs, memory in bytes."""

    cpu: float
    gpu: int
    memory: int


def local_capacity() -> Capacity:
    """Cores (affinity-aware), visible NVIDIA GPUs and total memory of this machine."""
    import psutil

    try:
        cpu = float(len(os.sched_getaffinity(0)))
    except AttributeError:
        cpu = float(os.cpu_count() or 1)
    return Capacity(cpu=cpu, gpu=gpu_count(), memory=int(psutil.virtual_memory().total))


def check_resources(
    steps: Iterable[tuple[str, Mapping[str, str]]], capacity: Capacity, *, strict: bool
) -> list[str]:
    """Warnings for requests this machine cannot meet; with ``strict`` the first one raises instead."""
    warnings: list[str] = []
    for step, resources in steps:
        for resource, quantity in resources.items():
            problem = _shortfall(resource, quantity, capacity)
            if problem is None:
                continue
            if strict:
                raise OperationFailed(
                    f"step '{step}' asks for {resource}: {quantity} but {problem}; run it where the resource "
                    "exists, or drop --strict-resources to run without it"
                )
            warnings.append(
                f"step '{step}' asks for {resource}: {quantity} but {problem}; running without it"
            )
    return warnings


def parse_quantity(resource: str, quantity: str) -> float:
    """Kubernetes-style quantity as a number: ``500m`` CPU = 0.5, ``4Gi`` = 4 * 2**30."""
    match = _QUANTITY.match(quantity.strip())
    if match is None:
        raise InvalidInput(
            f"resource {resource}: quantity {quantity!r} is not a number with an optional unit"
        )
    number, unit = float(match.group(1)), match.group(2)
    if resource == "cpu" and unit == "m":
        return number / 1000
    scale = _SUFFIX.get(unit.lower())
    if scale is None:
        raise InvalidInput(
            f"resource {resource}: unit {unit!r} of {quantity!r} is not one of k, M, G, Ki, Mi, Gi, m"
        )
    return number * scale


def _shortfall(resource: str, quantity: str, capacity: Capacity) -> str | None:
    wanted = parse_quantity(resource, quantity)
    if resource == "cpu":
        have: float = capacity.cpu
        what = f"this machine has {capacity.cpu:g} CPU core(s)"
    elif resource == GPU:
        have = capacity.gpu
        what = f"this machine has {capacity.gpu} NVIDIA GPU(s)"
    elif resource == "memory":
        have = capacity.memory
        what = f"this machine has {capacity.memory / 2**30:.1f} GiB of memory"
    else:
        return f"{resource} cannot be checked on a local run"
    return what if wanted > have else None
