"""kill -9 of a process in the middle of audit appends: after restart the chain verifies and keeps growing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shipyard.governance.service import governance_for
from shipyard.workspace import Workspace

WRITER = """
import sys
from shipyard.governance.service import governance_for
from shipyard.workspace import Workspace
gov = governance_for(Workspace.open(sys.argv[1]))
gov.settings.audit_checkpoint_every = 7
i = 0
while True:
    gov.audit.append("bot", "test", "pipelines.run", f"run-{i}", "allowed", {"i": i})
    i += 1
    if i == 50:
        print("ready", flush=True)
"""


def test_kill_9_mid_append_leaves_a_valid_chain(workspace_dir: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(workspace_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    with Workspace.open(workspace_dir) as ws:
        audit = governance_for(ws).audit
        before = audit.verify()
        assert before.ok and before.records >= 50, before
        audit.append("alice", "test", "deployments.deploy", "after-restart")
        after = audit.verify()
        assert after.ok and after.records == before.records + 1
