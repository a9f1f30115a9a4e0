"""Variables that cross step boundaries, saved under the run folder by type and loaded by the next step.

Runs inside the step's kernel (the generated load/save cells call it). pandas DataFrames -> Parquet,
numpy arrays -> .npy, anything else -> cloudpickle. A ``manifest.json`` per step says which file holds
which variable, so the loading side never guesses a format.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import OperationFailed

MANIFEST = "manifest.json"
METRICS_FILE = "metrics.json"


def step_data_dir(run_dir: str | os.PathLike[str], step: str) -> Path:
    """Where ``step`` of the run in ``run_dir`` keeps the variables it hands on."""
    return Path(run_dir) / step / "data"


def save_outputs(
    run_dir: str | None,
    step: str,
    namespace: Mapping[str, Any],
    outputs: Iterable[str],
    metrics: Iterable[str] = (),
) -> dict[str, str]:
    """Save ``outputs`` from ``namespace`` (the kernel's globals); returns variable -> file written."""
    if not run_dir:
        return {}  # the step notebook was run by hand, outside a pipeline run: nothing to hand on
    folder = step_data_dir(run_dir, step)
    folder.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    for name in outputs:
        if name not in namespace:
            raise OperationFailed(
                f"step '{step}' did not define variable '{name}', which a later step reads; "
                "make sure every branch of the step assigns it"
            )
        manifest[name] = _save(folder, name, namespace[name], step)
    _write_json(folder / MANIFEST, manifest)
    values = {m: _metric(namespace, m, step) for m in metrics}
    if values:
        _write_json(Path(run_dir) / step / METRICS_FILE, values)
    return {name: entry["file"] for name, entry in manifest.items()}


def load_inputs(run_dir: str | None, inputs: Mapping[str, str]) -> dict[str, Any]:
    """Load each variable from the step that provides it (``inputs``: variable -> step)."""
    if not inputs:
        return {}
    if not run_dir:
        raise OperationFailed(
            "this step notebook reads variables from earlier steps of a pipeline run; run it with "
            "`shipyard pipeline run NAME`, or pass _shipyard_run_dir of an existing run as a parameter"
        )
    manifests: dict[str, dict[str, dict[str, str]]] = {}
    values: dict[str, Any] = {}
    for name, step in inputs.items():
        folder = step_data_dir(run_dir, step)
        if step not in manifests:
            path = folder / MANIFEST
            if not path.is_file():
                raise OperationFailed(f"step '{step}' left no outputs in {folder}; did it run in this run?")
            manifests[step] = json.loads(path.read_text())
        entry = manifests[step].get(name)
        if entry is None:
            raise OperationFailed(f"step '{step}' did not save variable '{name}' in {folder}")
        values[name] = _load(folder / entry["file"], entry["format"])
    return values


def _save(folder: Path, name: str, value: Any, step: str) -> dict[str, str]:
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if _is_dataframe(value):
        try:
            _atomic(folder / f"{name}.parquet", lambda p: value.to_parquet(p))
            return {"file": f"{name}.parquet", "format": "parquet", "type": kind}
        except (ValueError, TypeError, ImportError) as exc:  # e.g. mixed-type object columns
            parquet_error: Exception | None = exc
    else:
        parquet_error = None
    if _is_plain_ndarray(value):
        import numpy as np

        _atomic(folder / f"{name}.npy", lambda p: np.save(p, value, allow_pickle=False))
        return {"file": f"{name}.npy", "format": "npy", "type": kind}
    import cloudpickle

    try:
        blob = cloudpickle.dumps(value)
    except Exception as exc:  # noqa: BLE001 - pickling raises anything a __reduce__ raises
        extra = f" (Parquet failed too: {parquet_error})" if parquet_error else ""
        raise OperationFailed(
            f"step '{step}': variable '{name}' ({kind}) cannot be passed to later steps: {exc}{extra}. "
            "Create it in the imports or functions cell (they run in every step), or in each step that uses it"
        ) from exc
    _atomic(folder / f"{name}.pkl", lambda p: Path(p).write_bytes(blob))
    return {"file": f"{name}.pkl", "format": "cloudpickle", "type": kind}


def _load(path: Path, fmt: str) -> Any:
    if fmt == "parquet":
        import pandas as pd

        return pd.read_parquet(path)
    if fmt == "npy":
        import numpy as np

        return np.load(path, allow_pickle=False)
    import cloudpickle

    with path.open("rb") as fh:
        return cloudpickle.load(fh)


def _is_dataframe(value: Any) -> bool:
    pd = _loaded("pandas")
    return pd is not None and isinstance(value, pd.DataFrame)


def _is_plain_ndarray(value: Any) -> bool:
    np = _loaded("numpy")
    return np is not None and type(value) is np.ndarray and not value.dtype.hasobject


def _loaded(module: str) -> Any:
    import sys

    # A value can only be a DataFrame if pandas is already imported; never import it just to check.
    return sys.modules.get(module)


def _metric(namespace: Mapping[str, Any], name: str, step: str) -> Any:
    if name not in namespace:
        raise OperationFailed(f"step '{step}' did not define metric '{name}'")
    value = namespace[name]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    return number if math.isfinite(number) else repr(number)


def _atomic(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_json(path: Path, data: Any) -> None:
    _atomic(path, lambda p: Path(p).write_text(json.dumps(data, indent=2, sort_keys=True)))
