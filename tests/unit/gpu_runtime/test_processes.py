"""Process-tree helpers used to prove a server left nothing behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from shipyard.gpu_runtime import processes


def _spawn_tree() -> subprocess.Popen[bytes]:
    # A parent that starts a sleeping child, then sleeps itself.
    code = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    return subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def _wait_for_children(pid: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = processes.descendants(pid)
        if kids:
            return kids
        time.sleep(0.05)
    raise AssertionError("child never appeared")


def test_descendants_snapshot_and_kill() -> None:
    parent = _spawn_tree()
    try:
        kids = _wait_for_children(parent.pid)
        assert all(processes.is_alive(k) for k in kids)
        snap = processes.snapshot([parent.pid, *kids])
        assert set(snap) == {parent.pid, *kids}
        assert processes.kill_and_wait(snap, timeout=5) == []
        parent.wait(timeout=5)
        assert not processes.is_alive(parent.pid)
        assert not any(processes.is_alive(k) for k in kids)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_snapshot_protects_recycled_pids() -> None:
    me = os.getpid()
    fake = {me: (processes.start_time(me) or 0) + 1}  # same pid, different start time: someone else
    assert processes.kill_and_wait(fake, timeout=0.1) == []
    assert processes.is_alive(me)


def test_signal_group_tolerates_missing_groups() -> None:
    proc = subprocess.Popen(["true"], start_new_session=True)
    proc.wait()
    processes.signal_group(proc.pid, 15)  # no error for a group that is gone
    assert processes.start_time(proc.pid) is None


_SPAWN_FROM_A_THREAD = """
import subprocess, sys, threading, time
from shipyard.gpu_runtime.processes import popen_dying_with_parent

def start():
    child = popen_dying_with_parent(["sleep", "120"], stdout=subprocess.DEVNULL)
    print(child.pid, flush=True)

worker = threading.Thread(target=start)  # a request thread that ends right after starting the server
worker.start()
worker.join()
time.sleep(120)
"""


def test_a_child_started_off_the_main_thread_outlives_that_thread_and_dies_with_the_process() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _SPAWN_FROM_A_THREAD], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        time.sleep(0.5)
        assert processes.is_alive(child), "the child died with the thread that asked for it"
        parent.kill()  # SIGKILL: no atexit, no cleanup in the parent
        parent.wait(10)
        deadline = time.monotonic() + 10
        while processes.is_alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not processes.is_alive(child), "the child outlived its SIGKILLed parent"
    finally:
        parent.kill()
