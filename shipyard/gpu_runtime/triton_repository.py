"""Triton model repository: ``<repo>/<model>/config.pbtxt`` and ``<repo>/<model>/1/model.onnx``, written atomically.

Two ways to run the ONNX file, chosen by what the server has:

* ``onnxruntime`` - Triton's ONNX Runtime backend (``platform: "onnxruntime_onnx"``); on GPUs with the
  TensorRT execution accelerator.
* ``python`` - Triton's Python backend running ``model.py``, which executes the same ONNX file with ONNX
  Runtime on CPU. This is what the Triton bundled with ``nvidia-pytriton`` offers (it has no other backend).
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from shipyard.errors import InvalidInput
from shipyard.gpu_runtime.batching import DEFAULT_MAX_BATCH_SIZE, DEFAULT_QUEUE_DELAY_US
from shipyard.gpu_runtime.onnx_export import OnnxModel, TensorSpec

Backend = Literal["onnxruntime", "python"]
MODEL_VERSION = "1"
ONNX_FILE = "model.onnx"
PYTHON_MODEL_FILE = "model.py"
CONFIG_FILE = "config.pbtxt"
_PYTHON_MODEL_SOURCE = Path(__file__).with_name("triton_python_model.py")


@dataclass(frozen=True)
class ServingOptions:
    """How the model should execute on the server."""

    backend: Backend = "python"
    gpus: int = 0
    tensorrt: bool = True
    tensorrt_precision: Literal["FP32", "FP16"] = "FP32"
    instances: int = 1
    intra_op_threads: int = 1
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_queue_delay_us: int = DEFAULT_QUEUE_DELAY_US


def validate_triton_name(name: str) -> str:
    """A Triton model name that is also a safe directory name, or ``InvalidInput``."""
    ok = bool(name) and len(name) <= 200 and all(c.isalnum() or c in "_-." for c in name)
    if not ok or name[0] in ".-":
        raise InvalidInput(
            f"Triton model name {name!r} must be letters, digits, '_', '-' or '.', not starting with '.'/'-'"
        )
    return name


def render_config(name: str, exported: OnnxModel, options: ServingOptions) -> str:
    """The ``config.pbtxt`` for ``exported`` served as ``name``."""
    validate_triton_name(name)
    lines = [f'name: "{name}"']
    if options.backend == "onnxruntime":
        lines.append('platform: "onnxruntime_onnx"')
        lines.append(f'default_model_filename: "{ONNX_FILE}"')
    else:
        lines.append('backend: "python"')
    batched = options.max_batch_size > 0
    # Batched, Triton owns the first dimension: dims leave it out and requests of up to max_batch_size rows
    # are stacked into one execution. Unbatched (0), dims carry it and each request runs alone.
    lines.append(f"max_batch_size: {options.max_batch_size if batched else 0}")
    reshape = batched and options.backend == "onnxruntime"
    lines.append("input [\n" + ",\n".join(_tensor(t, batched, reshape) for t in exported.inputs) + "\n]")
    lines.append("output [\n" + ",\n".join(_tensor(t, batched, reshape) for t in exported.outputs) + "\n]")
    if batched:
        lines.append(f"dynamic_batching {{ max_queue_delay_microseconds: {options.max_queue_delay_us} }}")
    on_gpu = options.backend == "onnxruntime" and options.gpus > 0
    kind = "KIND_GPU" if on_gpu else "KIND_CPU"
    lines.append(f"instance_group [ {{ kind: {kind} count: {options.instances} }} ]")
    if on_gpu and options.tensorrt:
        lines.append(_tensorrt_block(options.tensorrt_precision))
    if options.backend == "python":
        lines.append(_parameter("onnx_file", ONNX_FILE))
        lines.append(_parameter("intra_op_threads", str(options.intra_op_threads)))
    else:
        lines.append(_parameter("intra_op_thread_count", str(options.intra_op_threads)))
    return "\n".join(lines) + "\n"


def write_model(repo: Path, name: str, exported: OnnxModel, options: ServingOptions) -> Path:
    """Write (or replace) model ``name`` in ``repo`` so Triton never sees a half-written model."""
    validate_triton_name(name)
    repo.mkdir(parents=True, exist_ok=True)
    final = repo / name
    staging = repo / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        version_dir = staging / MODEL_VERSION
        version_dir.mkdir(parents=True)
        (version_dir / ONNX_FILE).write_bytes(exported.onnx)
        if options.backend == "python":
            shutil.copyfile(_PYTHON_MODEL_SOURCE, version_dir / PYTHON_MODEL_FILE)
        (staging / CONFIG_FILE).write_text(render_config(name, exported, options), encoding="utf-8")
        _fsync_tree(staging)
        _swap_in(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final


def remove_model(repo: Path, name: str) -> None:
    """Delete model ``name`` from ``repo`` if it is there."""
    target = repo / validate_triton_name(name)
    if not target.exists():
        return
    trash = repo / f".{name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(target, trash)
    shutil.rmtree(trash, ignore_errors=True)


def remove_leftovers(repo: Path, name: str) -> list[Path]:
    """Delete the staging and retired copies of model ``name`` a killed writer left in ``repo``."""
    validate_triton_name(name)
    found = [*repo.glob(f".{name}.tmp-*"), *repo.glob(f".{name}.old-*")] if repo.is_dir() else []
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def _swap_in(staging: Path, final: Path) -> None:
    # A directory cannot be os.replace()d over a non-empty one: move the old one aside first.
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(final, old)
    os.rename(staging, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())


def _tensor(spec: TensorSpec, batched: bool, reshape: bool) -> str:
    dims = spec.dims[1:] if batched else spec.dims
    extra = ""
    if not dims:
        # A per-row scalar (the label, [rows] in ONNX) is declared [1]: Triton needs at least one dim.
        # ONNX Runtime's backend maps it back with reshape; model.py returns [rows, 1] itself.
        dims = [1]
        extra = " reshape: { shape: [ ] }" if reshape else ""
    text = ", ".join(str(d) for d in dims)
    return f'  {{ name: "{spec.name}" data_type: {spec.dtype} dims: [ {text} ]{extra} }}'


def _parameter(key: str, value: str) -> str:
    return f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}'


def _tensorrt_block(precision: str) -> str:
    return (
        "optimization { execution_accelerators {\n"
        "  gpu_execution_accelerator : [ {\n"
        '    name : "tensorrt"\n'
        f'    parameters {{ key: "precision_mode" value: "{precision}" }}\n'
        '    parameters { key: "max_workspace_size_bytes" value: "1073741824" }\n'
        "  } ]\n"
        "} }"
    )
