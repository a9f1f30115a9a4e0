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
