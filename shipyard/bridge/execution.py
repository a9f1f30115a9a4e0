"""Run one step notebook with papermill: the body of every generated Dagster asset.

The same function serves ``shipyard pipeline run`` (in-process ``dagster.materialize``, which passes the
run folder and parameters as run tags) and ``dagster dev -f definitions.py`` (no tags: the Dagster run id
names the run folder and parameters keep their defaults).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from shipyard.bridge.dependencies import RUN_DIR_PARAMETER
from shipyard.bridge.paths import (
    OUTPUT_NOTEBOOK,
    RESULT_FILE,
    find_workspace_root,
    read_spec,
    step_notebook,
    step_run_dir,
)
from shipyard.errors import OperationFailed

TAG_RUN_ID = "shipyard/run_id"
TAG_RUN_DIR = "shipyard/run_dir"
TAG_WORKSPACE = "shipyard/workspace"
TAG_PARAMS = "shipyard/params"
TAG_CACHE = "shipyard/cache"  # JSON {"dir": cache folder, "keys": {step: key}, "force": bool}
TAG_RAY = "shipyard/ray"  # JSON {step: ray.remote options}: present only when steps run as Ray tasks
RUN_CONTEXT_ENV = "SHIPYARD_RUN_CONTEXT"
WORKSPACE_ENV = "SHIPYARD_WORKSPACE"

# The kernel inherits this process's environment and papermill works in it: one step at a time.
_STEP_LOCK = threading.Lock()
# Live progress for in-process runs: run id -> callback(step, status, outcome or None).
ProgressHook = Callable[[str, str, "StepOutcome | None"], None]
_PROGRESS: dict[str, ProgressHook] = {}
# In-process runs: run id -> steps started so far, to launch the next step's kernel early.
_STARTED: dict[str, int] = {}


@contextmanager
def progress_hook(run_id: str, hook: ProgressHook | None) -> Iterator[None]:
    """Call ``hook`` as each step of run ``run_id`` starts and ends (Dagster runs steps in this process)."""
    if hook is not None:
        _PROGRESS[run_id] = hook
    try:
        yield
    finally:
        _PROGRESS.pop(run_id, None)
        _STARTED.pop(run_id, None)
        from shipyard.bridge import warmkernel

        warmkernel.release(run_id)


@dataclass
class StepOutcome:
    """How one step notebook ran; written to ``RUN_DIR/STEP/result.json``."""

    status: str
    duration_s: float
    output_notebook: str
    error: str | None
    started_at: str
    finished_at: str
    cached: bool = False


def execute_step(context: Any, pipeline_dir: str | os.PathLike[str], step: str) -> Any:
    """Run ``step`` of the pipeline in ``pipeline_dir`` for a Dagster asset; a failed notebook fails the asset."""
    import dagster as dg

    pipeline_path = Path(pipeline_dir).resolve()
    tags: Mapping[str, str] = context.run.tags
    root = _workspace_root(tags, pipeline_path)
    from shipyard.config import CONFIG_FILENAME, load_config

    config = load_config(root / CONFIG_FILENAME)
    run_id = tags.get(TAG_RUN_ID) or context.run.run_id
    runs_dir = Path(config.pipelines.runs_dir)
    run_dir = (
        Path(tags[TAG_RUN_DIR])
        if TAG_RUN_DIR in tags
        else (root / runs_dir if not runs_dir.is_absolute() else runs_dir) / run_id
    )
    params = json.loads(tags.get(TAG_PARAMS, "{}"))
    spec = read_spec(pipeline_path)
    hook = _PROGRESS.get(run_id)
    if hook is not None:
        hook(step, "started", None)
    cache = json.loads(tags.get(TAG_CACHE, "{}"))
    outcome = _from_cache(cache, step, run_dir) if cache and not cache.get("force") else None
    ray_requests = json.loads(tags.get(TAG_RAY, "{}"))
    # Early kernel launch only where `run_pipeline` (progress_hook) shuts unused ones down at the end.
    warm = TAG_RUN_ID in tags and not ray_requests
    if warm:
        _STARTED[run_id] = _STARTED.get(run_id, 0) + 1
    if outcome is None:
        more = warm and _STARTED[run_id] < len(spec["steps"])
        run: Callable[..., StepOutcome] = partial(run_step_notebook, prestart_next=more)
        if step in ray_requests:
            from shipyard.bridge.raysteps import run_on_ray

            run = partial(run_on_ray, ray_requests[step])
        outcome = run(
            workspace_root=root,
            pipeline_dir=pipeline_path,
            step=step,
            run_id=run_id,
            run_dir=run_dir,
            params=params,
            kernel=spec.get("kernel") or config.pipelines.kernel,
            timeout_s=int(spec.get("step_timeout_s") or config.pipelines.step_timeout_s),
        )
        if cache and outcome.error is None:
            _remember(cache, step, run_dir)
    if hook is not None:
        hook(step, "failed" if outcome.error else "succeeded", outcome)
    metadata = {
        "output_notebook": dg.MetadataValue.path(outcome.output_notebook),
        "duration_s": dg.MetadataValue.float(outcome.duration_s),
        "shipyard_run_id": dg.MetadataValue.text(run_id),
    }
    if outcome.error is not None:
        raise dg.Failure(description=outcome.error, metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)


def run_step_notebook(
    *,
    workspace_root: Path,
    pipeline_dir: Path,
    step: str,
    run_id: str,
    run_dir: Path,
    params: Mapping[str, Any],
    kernel: str,
    timeout_s: int,
    prestart_next: bool = False,
) -> StepOutcome:
    """Execute the step notebook into ``RUN_DIR/STEP/output.ipynb``; failures are returned, not raised.

    A kernel launched for this run by the previous step is used when there is one; with ``prestart_next``
    the next step's kernel is launched now, so its boot overlaps this step.
    """
    spec = read_spec(pipeline_dir)
    source = spec["source"]
    notebook_path = Path(source["path"])
    if not notebook_path.is_absolute():
        notebook_path = workspace_root / notebook_path
    folder = step_run_dir(run_dir, step)
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / OUTPUT_NOTEBOOK
    context = {
        "pipeline": spec["name"],
        "run_id": run_id,
        "step": step,
        "notebook_path": str(notebook_path),
        "notebook_sha256": source["sha256"],
        "run_dir": str(run_dir),
    }
    cwd = _kernel_cwd(workspace_root, spec)
    started = _now()
    _write_result(folder, StepOutcome("running", 0.0, str(output), None, started, ""))
    error: str | None = None
    from shipyard.bridge import warmkernel

    environ = {WORKSPACE_ENV: str(workspace_root), RUN_CONTEXT_ENV: json.dumps(context)}
    extra = _quiet_kernel_arguments(kernel)
    t0 = time.perf_counter()
    with _STEP_LOCK:
        km = warmkernel.take(run_id, kernel, cwd, environ)
        if prestart_next:
            prestart_kernel(workspace_root, pipeline_dir, step, run_id, kernel)
        with _environ(environ), _reap_kernels(own=warmkernel.pid(km) if km is not None else None):
            try:
                error = _papermill(
                    pipeline_dir,
                    step,
                    output,
                    {**params, RUN_DIR_PARAMETER: str(run_dir)},
                    kernel,
                    timeout_s=timeout_s,
                    cwd=cwd,
                    extra=extra,
                    km=km,
                )
            finally:
                if km is not None:
                    warmkernel.shutdown(km)
    outcome = StepOutcome(
        status="failed" if error else "succeeded",
        duration_s=round(time.perf_counter() - t0, 3),
        output_notebook=str(output),
        error=error,
        started_at=started,
        finished_at=_now(),
    )
    _write_result(folder, outcome)
    return outcome


def prestart_kernel(workspace_root: Path, pipeline_dir: Path, step: str, run_id: str, kernel: str) -> None:
    """Launch a warm kernel for run ``run_id`` (see warmkernel.py), preloading ``step``'s shared imports."""
    from shipyard.bridge import warmkernel

    base = {k: v for k, v in os.environ.items() if k != RUN_CONTEXT_ENV}
    warmkernel.launch(
        run_id,
        kernel,
        _kernel_cwd(workspace_root, read_spec(pipeline_dir)),
        {**base, WORKSPACE_ENV: str(workspace_root)},
        _quiet_kernel_arguments(kernel),
        preload=_shared_imports(step_notebook(pipeline_dir, step)),
    )


def is_cached(cache: Mapping[str, Any], step: str) -> bool:
    """Whether ``step`` would be taken from the cache (same check as ``_from_cache``, nothing copied)."""
    key = cache.get("keys", {}).get(step)
    index = Path(cache.get("dir", "")) / f"{step}.json"
    if cache.get("force") or not key or not index.is_file():
        return False
    entry = json.loads(index.read_text())
    return bool(entry.get("key") == key and (Path(entry.get("folder", "")) / RESULT_FILE).is_file())


def _kernel_cwd(workspace_root: Path, spec: Mapping[str, Any]) -> Path:
    notebook_path = Path(spec["source"]["path"])
    if not notebook_path.is_absolute():
        notebook_path = workspace_root / notebook_path
    return notebook_path.parent if notebook_path.parent.is_dir() else workspace_root


def _shared_imports(notebook: Path) -> list[str]:
    """Modules imported by the step notebook's shared cells (the pipeline's ``imports``), for the warm kernel."""
    from shipyard.bridge import warmkernel

    try:
        cells = json.loads(notebook.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return []
    sources = [
        "".join(c["source"]) if isinstance(c.get("source"), list) else str(c.get("source", ""))
        for c in cells
        if c.get("cell_type") == "code"
        and c.get("metadata", {}).get("shipyard", {}).get("role") in ("shared", "imports")
    ]
    return warmkernel.preload_modules(sources)


def _papermill(
    pipeline_dir: Path,
    step: str,
    output: Path,
    parameters: dict[str, Any],
    kernel: str,
    *,
    timeout_s: int,
    cwd: Path,
    extra: list[str],
    km: Any,
) -> str | None:
    """Run the step notebook in a fresh kernel (``km``, launched early, or one papermill starts); the error."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(step_notebook(pipeline_dir, step)),
            str(output),
            parameters=parameters,
            kernel_name=kernel,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout_s,
            # nbclient starts the kernel in this folder; papermill's own cwd= would chdir this process.
            resources={"metadata": {"path": str(cwd)}},
            extra_arguments=extra,
            **({"km": km} if km is not None else {}),
        )
    except PapermillExecutionError as exc:
        return _describe_cell_error(step, output, exc.ename, exc.evalue)
    except Exception as exc:  # noqa: BLE001 - kernel start, timeout, dead kernel: all end the step
        return _describe_engine_error(step, kernel, exc)
    return None


def _from_cache(cache: Mapping[str, Any], step: str, run_dir: Path) -> StepOutcome | None:
    """Reuse the step folder of an earlier run whose code, parameters and upstream inputs were the same."""
    key = cache.get("keys", {}).get(step)
    index = Path(cache["dir"]) / f"{step}.json"
    if not key or not index.is_file():
        return None
    entry = json.loads(index.read_text())
    previous = Path(entry.get("folder", ""))
    if entry.get("key") != key or not (previous / RESULT_FILE).is_file():
        return None
    folder = step_run_dir(run_dir, step)
    started = _now()
    import shutil

    # Hard links: a cached step costs no copy of its data, and earlier runs stay untouched.
    shutil.copytree(previous, folder, copy_function=_link_or_copy, dirs_exist_ok=True)
    outcome = StepOutcome(
        status="succeeded",
        duration_s=0.0,
        output_notebook=str(folder / OUTPUT_NOTEBOOK),
        error=None,
        started_at=started,
        finished_at=_now(),
        cached=True,
    )
    (folder / RESULT_FILE).unlink()  # a link to the earlier run's file: never write through it
    _write_result(folder, outcome)
    return outcome


def _remember(cache: Mapping[str, Any], step: str, run_dir: Path) -> None:
    folder = Path(cache["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"key": cache["keys"][step], "folder": str(step_run_dir(run_dir, step))}
    tmp = folder / f".{step}.json.tmp"
    tmp.write_text(json.dumps(entry))
    os.replace(tmp, folder / f"{step}.json")


def _link_or_copy(src: str, dst: str) -> None:
    import shutil

    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


@contextmanager
def _reap_kernels(own: int | None = None) -> Iterator[None]:
    """Kill and reap any kernel this step started (or ``own``, its early-launched one) still alive at the end."""
    import psutil

    me = psutil.Process()
    before = {p.pid for p in me.children()} - {own}
    try:
        yield
    finally:
        left: list[psutil.Process] = []
        for proc in me.children():
            try:
                if proc.pid not in before and "kernel" in " ".join(proc.cmdline()):
                    left += [proc, *proc.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        for proc in left:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                continue
        psutil.wait_procs(left, timeout=10)


def read_outcome(run_dir: Path, step: str) -> StepOutcome | None:
    """The recorded outcome of ``step`` in ``run_dir``, or None when it never started."""
    path = step_run_dir(run_dir, step) / RESULT_FILE
    if not path.is_file():
        return None
    return StepOutcome(**json.loads(path.read_text()))


def _quiet_kernel_arguments(kernel: str) -> list[str]:
    # ipykernel warns on stderr that its localhost TCP sockets are unencrypted, once per step.
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except NoSuchKernel:
        return []  # papermill reports the missing kernel with its name
    return ["--IPKernelApp.log_level=ERROR"] if any("ipykernel" in a for a in argv) else []


def _workspace_root(tags: Mapping[str, str], pipeline_dir: Path) -> Path:
    explicit = tags.get(TAG_WORKSPACE) or os.environ.get(WORKSPACE_ENV)
    root = Path(explicit).resolve() if explicit else find_workspace_root(pipeline_dir)
    if root is None:
        raise OperationFailed(
            f"no shipyard.toml at or above {pipeline_dir}; set {WORKSPACE_ENV} to the workspace folder"
        )
    return root


def _describe_cell_error(step: str, output: Path, ename: str, evalue: str) -> str:
    import nbformat

    from shipyard.bridge.stepnotebook import source_cell_of

    where = "a cell"
    try:
        nb = nbformat.read(str(output), as_version=4)
    except (OSError, ValueError):
        nb = None
    if nb is not None:
        for index, cell in enumerate(nb.cells):
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
                number = source_cell_of(nb, index)
                role = cell.get("metadata", {}).get("shipyard", {}).get("role", "")
                where = f"cell {number}" if number is not None else f"the generated {role or 'code'} cell"
                break
    return f"step '{step}' failed in {where}: {ename}: {evalue} (traceback in {output})"


def _describe_engine_error(step: str, kernel: str, exc: Exception) -> str:
    name = type(exc).__name__
    if name == "NoSuchKernel":
        return (
            f"step '{step}': Jupyter kernel '{kernel}' is not installed; run `python -m ipykernel install "
            "--sys-prefix` or set [pipelines] kernel in shipyard.toml"
        )
    if name == "CellTimeoutError":
        return f"step '{step}' timed out: {exc}; raise [pipelines] step_timeout_s in shipyard.toml"
    return f"step '{step}' could not run: {name}: {exc}"


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _write_result(folder: Path, outcome: StepOutcome) -> None:
    tmp = folder / f".{RESULT_FILE}.tmp"
    tmp.write_text(json.dumps(asdict(outcome), indent=2))
    os.replace(tmp, folder / RESULT_FILE)


def _now() -> str:
    return datetime.now(UTC).isoformat()
