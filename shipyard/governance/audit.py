"""Tamper-evident audit log: an append-only hash chain in the metadata store with signed checkpoints.

Each record's hash covers its sequence number, time, actor, project, action, target, outcome, canonical
JSON payload and the previous record's hash, so an edited, deleted or reordered record breaks the chain at
that record. Every ``checkpoint_every`` records an HMAC-signed checkpoint (key in ``.shipyard/audit.key``,
mode 0600) is written to the store and to ``.shipyard/audit-checkpoints.jsonl``; a log cut short before a
checkpoint no longer reaches it, which is how truncation is caught.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from shipyard.errors import EngineUnavailable, InvalidInput
from shipyard.governance.models import AuditCheckpoint, AuditRecord
from shipyard.store.db import MetadataStore

GENESIS = "0" * 64
KEY_FILENAME = "audit.key"
CHECKPOINTS_FILENAME = "audit-checkpoints.jsonl"
_FIELDS = "seq, ts, actor, project, action, target, outcome, payload, prev_hash, hash"


class AuditUnavailable(EngineUnavailable):
    """The audit record could not be written, so the audited operation is refused (fail closed)."""


@dataclass(frozen=True)
class Entry:
    """One audit record as exported and verified."""

    seq: int
    ts: str
    actor: str
    project: str
    action: str
    target: str
    outcome: str
    payload: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: str
    signature: str


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of ``audit verify``: ``first_bad`` names the first record that fails, if any."""

    ok: bool
    records: int
    checkpoints: int
    first_bad: int | None = None
    problem: str = ""


def canonical(payload: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(
    seq: int,
    ts: str,
    actor: str,
    project: str,
    action: str,
    target: str,
    outcome: str,
    payload: str,
    prev: str,
) -> str:
    """The chain hash of one record (a JSON array keeps field boundaries unambiguous)."""
    body = json.dumps([seq, ts, actor, project, action, target, outcome, payload, prev], ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def load_key(state_dir: Path) -> bytes:
    """The workspace's checkpoint key, created 0600 on first use; a key others can read is refused."""
    path = state_dir / KEY_FILENAME
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InvalidInput(f"{path} is readable by others (mode {mode:o}); run `chmod 600 {path}`")
    return bytes.fromhex(path.read_text().strip())


def sign(key: bytes, seq: int, hash_: str, ts: str) -> str:
    """HMAC-SHA256 over a checkpoint's fields."""
    return hmac.new(key, f"{seq}:{hash_}:{ts}".encode(), hashlib.sha256).hexdigest()


@dataclass
class _Pending:
    """An append waiting for its batch: (actor, project, action, target, outcome, payload) in, entry out."""

    fields: tuple[str, str, str, str, str, str]
    entry: Entry | None = None
    error: BaseException | None = None


class AuditLog:
    """Append, checkpoint, export and verify the workspace's audit chain."""

    def __init__(self, store: MetadataStore, state_dir: Path, checkpoint_every: int = 100) -> None:
        self._store = store
        self._state_dir = state_dir
        self.checkpoint_every = checkpoint_every
        self._lock = threading.Lock()  # held by the one thread writing a batch
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []

    def append(
        self,
        actor: str,
        project: str,
        action: str,
        target: str = "",
        outcome: str = "ok",
        payload: Any = None,
    ) -> Entry:
        """Append one record (committed and fsynced before returning) or raise ``AuditUnavailable``.

        Group commit: appends that arrive while a batch is being written queue up and go to disk together in
        the next transaction (one fsync), so concurrent requests do not each pay a full fsync.
        """
        pending = _Pending(
            (actor, project, action, target, outcome, canonical(payload if payload is not None else {}))
        )
        with self._queue_lock:
            self._queue.append(pending)
        with self._lock:
            if pending.entry is None and pending.error is None:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._write(batch)
        if pending.error is not None or pending.entry is None:
            exc = pending.error
            raise AuditUnavailable(
                f"audit log could not be written ({type(exc).__name__}: {exc}); the operation was refused"
            ) from exc
        return pending.entry

    def _write(self, batch: list[_Pending]) -> None:
        error: BaseException | None = None
        for _attempt in range(50):
            try:
                entries, checkpoints = self._append_batch(batch)
                for cp in checkpoints:
                    self._mirror(cp)
            except (IntegrityError, OperationalError) as exc:
                # Another process took these sequence numbers (or holds the write lock): read again, retry.
                error = exc
                continue
            except (SQLAlchemyError, OSError, InvalidInput) as exc:
                error = exc
                break
            for item, entry in zip(batch, entries, strict=True):
                item.entry = entry
            return
        for item in batch:
            item.error = error

    def _append_batch(self, batch: list[_Pending]) -> tuple[list[Entry], list[Checkpoint]]:
        entries: list[Entry] = []
        checkpoints: list[Checkpoint] = []
        with self._store.engine.begin() as conn:
            last = conn.execute(
                select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
            ).first()
            seq, prev = (last.seq, last.hash) if last is not None else (0, GENESIS)
            for item in batch:
                seq += 1
                ts = datetime.now(UTC).isoformat(timespec="microseconds")
                digest = record_hash(seq, ts, *item.fields, prev)
                entries.append(Entry(seq, ts, *item.fields, prev, digest))
                prev = digest
            conn.execute(insert(AuditRecord), [asdict(e) for e in entries])
            for e in entries:
                if e.seq % self.checkpoint_every == 0:
                    checkpoints.append(self._checkpoint(conn, e.seq, e.hash))
        return entries, checkpoints

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now (export does this); None for an empty log."""
        with self._lock, self._store.engine.begin() as conn:
            last = conn.execute(
                select(AuditRecord.seq, AuditRecord.hash).order_by(AuditRecord.seq.desc()).limit(1)
            ).first()
            if last is None:
                return None
            done = conn.execute(select(AuditCheckpoint.seq).where(AuditCheckpoint.seq == last.seq)).first()
            if done is not None:
                return next(c for c in self.checkpoints() if c.seq == last.seq)
            cp = self._checkpoint(conn, last.seq, last.hash)
        self._mirror(cp)
        return cp

    def _checkpoint(self, conn: Any, seq: int, digest: str) -> Checkpoint:
        ts = datetime.now(UTC).isoformat(timespec="microseconds")
        cp = Checkpoint(seq, digest, ts, sign(load_key(self._state_dir), seq, digest, ts))
        conn.execute(insert(AuditCheckpoint).values(**asdict(cp)))
        return cp

    def _mirror(self, cp: Checkpoint) -> None:
        # A second copy outside the database: deleting checkpoint rows does not hide a truncation.
        path = self._state_dir / CHECKPOINTS_FILENAME
        with open(path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            torn = False
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                torn = fh.read(1) != b"\n"  # a crash mid-write left half a line: start a fresh one
            fh.write((("\n" if torn else "") + json.dumps(asdict(cp)) + "\n").encode())
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self, batch: int = 20_000) -> Iterator[Entry]:
        """Every record in sequence order, streamed."""
        with self._store.engine.connect() as conn:
            result = conn.execution_options(yield_per=batch).execute(
                text(f"SELECT {_FIELDS} FROM audit_log ORDER BY seq")  # noqa: S608 - constant columns
            )
            for row in result:
                yield Entry(*row)

    def tail(self, limit: int = 20) -> list[Entry]:
        """The newest ``limit`` records, oldest first."""
        query = select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(limit)
        with self._store.session() as s:
            rows = s.scalars(query).all()
            return [Entry(*(getattr(r, f) for f in _FIELDS.split(", "))) for r in reversed(rows)]

    def checkpoints(self) -> list[Checkpoint]:
        """Signed checkpoints from the store and the checkpoint file, by sequence."""
        found: dict[tuple[int, str], Checkpoint] = {}
        with self._store.engine.connect() as conn:
            for row in conn.execute(
                select(
                    AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.ts, AuditCheckpoint.signature
                )
            ):
                found[(row.seq, row.signature)] = Checkpoint(*row)
        path = self._state_dir / CHECKPOINTS_FILENAME
        if path.exists():
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    cp = Checkpoint(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a line torn by a crash vouches for nothing; the store keeps its own copy
                found[(cp.seq, cp.signature)] = cp
        return sorted(found.values(), key=lambda c: c.seq)

    def verify(self) -> VerifyReport:
        """Check the chain and every checkpoint; the report names the first bad record."""
        return verify_chain(self.entries(), self.checkpoints(), load_key(self._state_dir))

    def export(self, out: Path) -> int:
        """Write records and signed checkpoints as JSON Lines to ``out`` (temp file, then rename)."""
        if self._store.read_only is None:  # a store in safe mode is exported as it stands
            self.checkpoint()
        tmp = out.with_name(out.name + ".tmp")
        count = 0
        with open(tmp, "w", encoding="utf-8") as fh:
            for entry in self.entries():
                fh.write(json.dumps({"type": "record", **asdict(entry)}, ensure_ascii=False) + "\n")
                count += 1
            for cp in self.checkpoints():
                fh.write(json.dumps({"type": "checkpoint", **asdict(cp)}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        return count


def read_export(path: Path) -> tuple[list[Entry], list[Checkpoint]]:
    """Records and checkpoints of an exported JSON Lines file."""
    entries: list[Entry] = []
    cps: list[Checkpoint] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            kind = item.pop("type")
            (entries.append(Entry(**item)) if kind == "record" else cps.append(Checkpoint(**item)))
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidInput(f"{path}:{n}: not an audit export line ({exc})") from exc
    return entries, cps


def verify_chain(entries: Iterable[Entry], checkpoints: list[Checkpoint], key: bytes) -> VerifyReport:
    """Walk the chain once; the first broken link, bad signature or missing tail is reported."""
    by_seq = {c.seq: c for c in checkpoints}
    count = 0

    def bad(seq: int, problem: str) -> VerifyReport:
        return VerifyReport(False, count, len(checkpoints), seq, problem)

    for cp in checkpoints:
        if not hmac.compare_digest(cp.signature, sign(key, cp.seq, cp.hash, cp.ts)):
            return bad(cp.seq, f"checkpoint at record {cp.seq} has a bad signature (forged or wrong key)")
    expected, prev = 1, GENESIS
    for e in entries:
        if e.seq != expected:
            what = "missing (deleted?)" if e.seq > expected else "duplicated or out of order"
            return bad(expected, f"record {expected} is {what}; found record {e.seq} in its place")
        if e.prev_hash != prev:
            return bad(e.seq, f"record {e.seq} does not link to record {e.seq - 1} (reordered or replaced)")
        fields = (e.seq, e.ts, e.actor, e.project, e.action, e.target, e.outcome, e.payload, e.prev_hash)
        if record_hash(*fields) != e.hash:
            return bad(e.seq, f"record {e.seq} was edited (its hash does not match its content)")
        signed = by_seq.get(e.seq)
        if signed is not None and signed.hash != e.hash:
            return bad(e.seq, f"record {e.seq} differs from its signed checkpoint")
        prev, expected, count = e.hash, expected + 1, count + 1
    last_signed = max(by_seq, default=0)
    if last_signed >= expected:
        return bad(
            expected,
            f"log truncated: it ends at record {expected - 1} but a signed checkpoint vouches for "
            f"record {last_signed}",
        )
    return VerifyReport(True, count, len(checkpoints))
