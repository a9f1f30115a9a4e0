"""The audit chain: appends link, checkpoints are signed, verify names the first bad record."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.governance.audit import (
    CHECKPOINTS_FILENAME,
    KEY_FILENAME,
    AuditLog,
    AuditUnavailable,
    load_key,
    read_export,
    verify_chain,
)
from shipyard.store.db import MetadataStore


@pytest.fixture()
def log(tmp_path: Path) -> AuditLog:
    store = MetadataStore.connect(f"sqlite:///{tmp_path / 'm.db'}")
    return AuditLog(store, tmp_path / "state", checkpoint_every=10)


def fill(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append("alice", "p", "features.define", f"view{i}", "allowed", {"i": i, "ü": "ß"})


def test_appends_link_and_verify(log: AuditLog) -> None:
    fill(log, 25)
    report = log.verify()
    assert report.ok and report.records == 25 and report.checkpoints == 2
    entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(1, 26))
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:], strict=False))
    assert entries[0].payload == '{"i":0,"ü":"ß"}'  # canonical JSON


def test_key_is_private(log: AuditLog, tmp_path: Path) -> None:
    fill(log, 10)
    key = tmp_path / "state" / KEY_FILENAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    os.chmod(key, 0o644)
    with pytest.raises(InvalidInput, match="chmod 600"):
        load_key(tmp_path / "state")


def _exec(log: AuditLog, sql: str) -> None:
    with log._store.engine.begin() as conn:
        for statement in sql.split(";"):
            conn.exec_driver_sql(statement)


@pytest.mark.parametrize(
    ("tamper", "first_bad", "needle"),
    [
        ("UPDATE audit_log SET outcome='denied' WHERE seq=7", 7, "edited"),
        ("UPDATE audit_log SET payload='{\"i\":99}' WHERE seq=3", 3, "edited"),
        ("DELETE FROM audit_log WHERE seq=5", 5, "missing"),
        # Reorder: records 4 and 6 swap places (each keeps its content, takes the other's number).
        (
            "UPDATE audit_log SET seq=-1 WHERE seq=4; UPDATE audit_log SET seq=4 WHERE seq=6;"
            " UPDATE audit_log SET seq=6 WHERE seq=-1",
            4,
            "does not link",
        ),
        ("DELETE FROM audit_log WHERE seq > 15", 16, "truncated"),
    ],
    ids=["edited-outcome", "edited-payload", "deleted", "reordered", "truncated"],
)
def test_verify_catches_tampering(log: AuditLog, tamper: str, first_bad: int, needle: str) -> None:
    fill(log, 25)
    _exec(log, tamper)
    report = log.verify()
    assert not report.ok
    assert report.first_bad == first_bad
    assert needle in report.problem


def test_rehashing_an_edit_still_breaks_the_next_link(log: AuditLog) -> None:
    from shipyard.governance.audit import record_hash

    fill(log, 5)
    e = next(x for x in log.entries() if x.seq == 3)
    forged = record_hash(3, e.ts, "mallory", e.project, e.action, e.target, e.outcome, e.payload, e.prev_hash)
    _exec(log, f"UPDATE audit_log SET actor='mallory', hash='{forged}' WHERE seq=3")
    report = log.verify()
    assert report.first_bad == 4 and "does not link" in report.problem


def test_truncation_is_caught_even_when_checkpoint_rows_are_deleted(log: AuditLog) -> None:
    fill(log, 25)
    _exec(log, "DELETE FROM audit_checkpoints")
    _exec(log, "DELETE FROM audit_log WHERE seq > 12")
    report = log.verify()
    assert not report.ok and "truncated" in report.problem  # the checkpoint file still vouches for 20


def test_forged_checkpoint_signature_is_caught(log: AuditLog, tmp_path: Path) -> None:
    fill(log, 10)
    path = tmp_path / "state" / CHECKPOINTS_FILENAME
    path.write_text(path.read_text().replace('"signature": "', '"signature": "00'))
    report = log.verify()
    assert not report.ok and "bad signature" in report.problem


def test_export_round_trips_and_verifies(log: AuditLog, tmp_path: Path) -> None:
    fill(log, 13)
    out = tmp_path / "audit.jsonl"
    assert log.export(out) == 13
    entries, cps = read_export(out)
    assert [c.seq for c in cps] == [10, 13]  # export signs the head
    assert verify_chain(entries, cps, load_key(tmp_path / "state")).ok
    lines = out.read_text().splitlines()
    out.write_text("\n".join(lines[:5] + lines[6:]))  # drop record 6 from the export
    entries, cps = read_export(out)
    bad = verify_chain(entries, cps, load_key(tmp_path / "state"))
    assert bad.first_bad == 6


def test_append_fails_closed_when_the_store_cannot_write(log: AuditLog) -> None:
    _exec(log, "DROP TABLE audit_log")
    with pytest.raises(AuditUnavailable, match="operation was refused"):
        log.append("alice", "p", "deployments.deploy")


def test_concurrent_appends_keep_one_chain(log: AuditLog) -> None:
    import threading

    threads = [threading.Thread(target=fill, args=(log, 20)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = log.verify()
    assert report.ok and report.records == 80


def test_a_checkpoint_line_torn_by_a_crash_is_skipped_and_the_next_starts_clean(
    log: AuditLog, tmp_path: Path
) -> None:
    fill(log, 10)
    path = tmp_path / "state" / CHECKPOINTS_FILENAME
    with open(path, "a") as fh:
        fh.write('{"seq": 20, "hash": "ab')  # the process died here
    fill(log, 10)
    lines = path.read_text().splitlines()
    assert lines[1].endswith('"ab') and '"seq": 20' in lines[2]
    report = log.verify()
    assert report.ok and report.checkpoints == 2
