"""Start the next step's kernel while the current step runs, so a step does not wait ~1 s for ipykernel to boot.

Each step still gets its own fresh kernel (isolation is the point of a pipeline); only the process launch is
moved earlier. A warm kernel is launched without the step's run context, which is set in its ``os.environ``
before papermill runs the first cell. Kernels nobody took are shut down when the run ends.

The modules the pipeline's ``imports`` cells name are loaded in the warm kernel too (``importlib``, so no
name is bound in the step's namespace: a step that forgets an import still fails as it would standalone).
Importing numpy and pandas is ~0.5 s of every step; done early, it overlaps the previous step.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# (run id, kernel name, cwd) -> a launched, not yet used AsyncKernelManager and its preload client (or None)
_WARM: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def launch(
    run_id: str,
    kernel: str,
    cwd: Path,
    env: Mapping[str, str],
    extra: list[str],
    preload: list[str] | None = None,
) -> None:
    """Launch a kernel for the next step of ``run_id`` (no-op when one is already waiting), loading ``preload``."""
    from jupyter_client.manager import AsyncKernelManager

    key = (run_id, kernel, str(cwd))
    with _LOCK:
        if key in _WARM:
            return
    km = AsyncKernelManager(kernel_name=kernel)
    try:
        _sync(km.start_kernel)(extra_arguments=extra, cwd=str(cwd), env=dict(env))
    except Exception:  # noqa: BLE001 - no warm kernel: the step starts its own and reports the real error
        return
    client = _send_preload(km, preload) if preload else None
    with _LOCK:
        _WARM[key] = (km, client)


def take(run_id: str, kernel: str, cwd: Path, environ: Mapping[str, str]) -> Any | None:
    """The warm kernel for this step with ``environ`` applied inside it, or None (papermill starts one)."""
    with _LOCK:
        entry = _WARM.pop((run_id, kernel, str(cwd)), None)
    if entry is None:
        return None
    km, client = entry
    try:
        # Executed in arrival order: when this reply comes, the preload has finished too.
        _sync(_apply_environ)(km, environ)
    except Exception:  # noqa: BLE001 - a warm kernel that died or hung is replaced by a fresh one
        shutdown(km)
        return None
    finally:
        if client is not None:
            client.stop_channels()
    return km


def pid(km: Any) -> int | None:
    """The kernel's process id, for the step's reaper."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    return getattr(process, "pid", None)


def shutdown(km: Any) -> None:
    """Kill the kernel and remove its connection file."""
    try:
        _sync(_shutdown)(km)
    except Exception:  # noqa: BLE001 - already dead; the step's reaper kills what is left
        pass


def release(run_id: str) -> None:
    """Shut down every warm kernel of ``run_id`` that no step took (last step, or a failed run)."""
    with _LOCK:
        keys = [k for k in _WARM if k[0] == run_id]
        entries = [_WARM.pop(k) for k in keys]
    for km, client in entries:
        if client is not None:
            client.stop_channels()
        shutdown(km)


def preload_modules(sources: list[str]) -> list[str]:
    """Absolute module names imported at the top level of ``sources`` (cells that fail to parse are skipped)."""
    import ast

    names: list[str] = []
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:  # IPython magics and the like: the step itself reports real errors
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return list(dict.fromkeys(names))


def _send_preload(km: Any, modules: list[str]) -> Any | None:
    """Queue a silent import of ``modules`` on the kernel's shell channel; the client that sent it."""
    from jupyter_client.blocking import BlockingKernelClient

    code = (
        "def _shipyard_preload(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"_shipyard_preload({modules!r})\n"
        "del _shipyard_preload\n"
    )
    try:
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        client.start_channels(iopub=False, stdin=False, hb=False, control=False)
        client.execute(code, silent=True, store_history=False)
    except Exception:  # noqa: BLE001 - preloading is an optimisation; the step imports what it needs itself
        return None
    return client


async def _apply_environ(km: Any, environ: Mapping[str, str]) -> None:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        code = f"import os as _os; _os.environ.update({dict(environ)!r}); del _os"
        reply = await kc.execute_interactive(code, silent=True, store_history=False, timeout=30)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"warm kernel rejected the run context: {reply['content']}")
    finally:
        kc.stop_channels()


async def _shutdown(km: Any) -> None:
    try:
        await km.shutdown_kernel(now=True)
    finally:
        await km.cleanup_resources()
        # nbclient leaves the client it made on a kernel it does not own open: close its sockets too.
        km.context.destroy(linger=0)


def _sync(fn: Any) -> Any:
    # Like papermill: works with or without a running event loop (e.g. a run started from a notebook).
    from jupyter_core.utils import run_sync

    return run_sync(fn)
