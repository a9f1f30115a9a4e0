"""Linux process-tree helpers for supervising servers: descendants, liveness, group signals."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

_PROC = Path("/proc")
_PR_SET_PDEATHSIG = 1


def in_main_thread() -> bool:
    """Whether the caller runs on the interpreter's main thread."""
    return threading.current_thread() is threading.main_thread()


def die_with_parent() -> None:
    """In a forked child: ask the kernel to SIGTERM us when the parent dies (even by SIGKILL).

    The signal fires when the *thread* that forked exits, so only a thread that lives as long as the process
    may fork such a child: the main thread, or the spawner thread of ``popen_dying_with_parent``.
    """
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_spawner: ThreadPoolExecutor | None = None
_spawner_lock = threading.Lock()


def popen_dying_with_parent(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` whose child gets SIGTERM when this process dies, even by SIGKILL.

    A server started from a request or restart thread would otherwise outlive a killed parent (that thread
    may be gone long before), so off the main thread the fork happens on one spawner thread that lives until
    interpreter shutdown (a ThreadPoolExecutor worker never exits while idle).
    """
    global _spawner
    if in_main_thread():
        return subprocess.Popen(args, preexec_fn=die_with_parent, **kwargs)
    with _spawner_lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shipyard-spawner")
        spawner = _spawner

    def spawn() -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, preexec_fn=die_with_parent, **kwargs)

    try:
        future = spawner.submit(spawn)
    except RuntimeError:  # the interpreter is shutting down: no thread outlives this call anyway
        return subprocess.Popen(args, **kwargs)
    return future.result()


def _stat(pid: int) -> list[str] | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields start after the last ')'.
    return stat[stat.rindex(")") + 2 :].split()


def _parent_and_state(pid: int) -> tuple[int, str] | None:
    fields = _stat(pid)
    return (int(fields[1]), fields[0]) if fields else None


def start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot): with the pid, a unique identity."""
    fields = _stat(pid)
    return int(fields[19]) if fields else None


def is_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    info = _parent_and_state(pid)
    return info is not None and info[1] not in ("Z", "X")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid``, depth first."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        info = _parent_and_state(int(entry.name))
        if info is not None:
            children.setdefault(info[0], []).append(int(entry.name))
    out: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        child = stack.pop()
        out.append(child)
        stack.extend(children.get(child, []))
    return out


def signal_group(pgid: int, sig: int) -> None:
    """Send ``sig`` to process group ``pgid``; a group that is already gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return


def snapshot(pids: list[int]) -> dict[int, int]:
    """``{pid: start_time}`` for the live ``pids``, so a later kill cannot hit a recycled pid."""
    out = {}
    for pid in pids:
        started = start_time(pid)
        if started is not None:
            out[pid] = started
    return out


def kill_and_wait(procs: dict[int, int], *, timeout: float) -> list[int]:
    """SIGKILL each process of a ``snapshot`` still alive and wait; returns pids alive after ``timeout``."""
    pids = [pid for pid, started in procs.items() if start_time(pid) == started and is_alive(pid)]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout
    remaining = [p for p in pids if is_alive(p)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = [p for p in remaining if is_alive(p)]
    return remaining
