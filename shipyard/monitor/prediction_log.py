"""The durable prediction log: a background writer of Parquet partitions, indexed in the metadata store.

Layout: ``<log_dir>/<deployment>/<YYYY-MM-DD>/part-<UTC time>-<writer>-<seq>.parquet``, one file per
(deployment, UTC day) per flush, each with a ``PredictionLogPartition`` row whose ``path`` is relative to
``log_dir`` (so a workspace can move). Readers (``log_reader.py``) go through the index, never a listing.

Crash guarantee: ``log()`` only queues; rows reach disk when a batch is flushed (``flush_rows`` rows
queued, ``flush_interval_s`` elapsed since the oldest pending row, ``flush()`` or ``close()``). A process
crash loses at most the rows not yet flushed. A flushed file is fsynced and moved into place atomically
(temp file + ``os.replace``) before its index row is committed, so readers never see a partial file; a
crash between the two leaves an unindexed file that readers ignore. If the index insert fails, the files
of that attempt are removed and the rows stay pending for the next flush, so files and index rows match.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shipyard.errors import EngineUnavailable, InvalidInput, OperationFailed
from shipyard.monitor.records import BASE_COLUMNS, PredictionRecord, check_deployment_name, to_row
from shipyard.store.db import MetadataStore
from shipyard.store.models import PredictionLogPartition

log = logging.getLogger(__name__)

_STOP = object()
_DRAIN_FACTOR = 8  # a size-triggered write takes up to this many flush_rows of backlog


@dataclass
class WriterStats:
    """Counters of one writer: rows accepted, written, dropped (queue full), files written, last error."""

    logged: int = 0
    written: int = 0
    dropped: int = 0
    files: int = 0
    last_error: str = ""


@dataclass
class _Flush:
    done: threading.Event
    error: str = ""


class PredictionLogWriter:
    """Batches prediction rows on a background thread and writes them as indexed Parquet partitions."""

    def __init__(
        self,
        log_dir: Path,
        store: MetadataStore,
        *,
        flush_rows: int = 512,
        flush_interval_s: float = 1.0,
        max_queued_rows: int | None = None,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.store = store
        self.flush_rows = flush_rows
        self.flush_interval_s = flush_interval_s
        # Bounded so a stalled disk costs dropped (counted) log rows, never a blocked or OOM-ing server.
        self.max_queued_rows = max_queued_rows or max(100_000, 100 * flush_rows)
        self.stats = WriterStats()
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued_rows = 0
        self._closed = False
        self._token = uuid.uuid4().hex[:8]
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name="shipyard-prediction-log", daemon=True)
        self._thread.start()
        # The thread is a daemon (it must never hold the interpreter open); flush what is pending at exit.
        self._atexit = _closer(weakref.ref(self))
        atexit.register(self._atexit)

    # -- caller side (never touches the disk) -----------------------------------------------------------
    def log(self, deployment: str, model_version: str, records: Sequence[PredictionRecord]) -> None:
        """Validate and queue ``records``; raises ``InvalidInput`` on a bad record, never waits on I/O."""
        if self._closed:
            raise self._closed_error(deployment)
        check_deployment_name(deployment)
        if (
            not isinstance(model_version, (str, int))
            or isinstance(model_version, bool)
            or model_version == ""
        ):
            raise InvalidInput(f"model_version must be a non-empty string, got {model_version!r}")
        if not isinstance(records, (list, tuple)):
            raise InvalidInput(f"records must be a list of PredictionRecord, got {type(records).__name__}")
        model_version = str(model_version)
        rows = [to_row(r, model_version, i) for i, r in enumerate(records)]
        if not rows:
            return
        with self._lock:
            if self._closed:
                raise self._closed_error(deployment)
            if self._queued_rows + len(rows) > self.max_queued_rows:
                self.stats.dropped += len(rows)
                log.warning(
                    "prediction log queue full (%d rows): dropped %d rows", self._queued_rows, len(rows)
                )
                return
            self._queued_rows += len(rows)
            self.stats.logged += len(rows)
            self._queue.put((deployment, rows))

    @staticmethod
    def _closed_error(deployment: str) -> EngineUnavailable:
        return EngineUnavailable(
            f"the prediction log for {deployment!r} is closed (the workspace was closed); "
            "open the workspace again to log predictions"
        )

    def flush(self, timeout_s: float | None = None) -> None:
        """Write everything queued so far; raises ``OperationFailed`` if that write failed."""
        marker = _Flush(threading.Event())
        with self._lock:
            closed = self._closed
            if not closed:
                self._queue.put(marker)
        if closed:  # close() flushes; wait for it rather than queue behind the stop marker
            self._thread.join(timeout_s)
            return
        self._wait(marker, timeout_s)
        if marker.error:
            raise OperationFailed(f"prediction log flush to {self.log_dir} failed: {marker.error}")

    def close(self) -> None:
        """Flush pending rows and stop the thread; safe to call twice."""
        with self._lock:
            if self._closed:
                already = True
            else:
                already = False
                self._closed = True
                self._queue.put(_STOP)
        if not already:
            atexit.unregister(self._atexit)
        self._thread.join()

    def _wait(self, marker: _Flush, timeout_s: float | None) -> None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not marker.done.wait(0.1):
            if not self._thread.is_alive():
                raise OperationFailed("the prediction log writer thread has stopped; see the log for why")
            if deadline is not None and time.monotonic() > deadline:
                raise OperationFailed(f"prediction log flush did not finish within {timeout_s} s")

    # -- writer thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        pending: list[tuple[str, dict[str, Any]]] = []
        due = 0.0  # when the oldest pending row must be on disk
        failing = False  # after a failed write, retry on the timer only, not on every new row
        while True:
            timeout = None if not pending else max(0.0, due - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                if not pending:
                    due = time.monotonic() + self.flush_interval_s
                self._take(item, pending)
                if failing or len(pending) < self.flush_rows:
                    continue
                # Under load, write what has piled up in one file rather than many small ones.
                item = self._drain(pending)
            error = self._write(pending)
            failing = bool(pending)
            if failing:
                due = time.monotonic() + self.flush_interval_s
                self._drop_excess(pending)
            if isinstance(item, _Flush):
                item.error = error
                item.done.set()
            elif item is _STOP:
                if pending:
                    log.error("prediction log closed with %d unwritten rows: %s", len(pending), error)
                return

    def _take(
        self, item: tuple[str, list[dict[str, Any]]], pending: list[tuple[str, dict[str, Any]]]
    ) -> None:
        deployment, rows = item
        with self._lock:
            self._queued_rows -= len(rows)
        pending.extend((deployment, row) for row in rows)

    def _drain(self, pending: list[tuple[str, dict[str, Any]]]) -> Any:
        """Move queued rows into ``pending`` (up to a cap); return a marker met on the way, or None."""
        while len(pending) < _DRAIN_FACTOR * self.flush_rows:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return None
            if not isinstance(item, tuple):
                return item
            self._take(item, pending)
        return None

    def _drop_excess(self, pending: list[tuple[str, dict[str, Any]]]) -> None:
        excess = len(pending) - self.max_queued_rows
        if excess > 0:
            del pending[:excess]
            self.stats.dropped += excess
            log.error("prediction log cannot write: dropped the %d oldest pending rows", excess)

    def _write(self, pending: list[tuple[str, dict[str, Any]]]) -> str:
        """Write ``pending`` (removing what was written); return an error message or ''."""
        if not pending:
            return ""
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for deployment, row in pending:
            groups.setdefault((deployment, row["ts"].date().isoformat()), []).append(row)
        _yield_gil()
        written: list[Path] = []
        try:
            index_rows = []
            for (deployment, day), rows in groups.items():
                path = self._write_file(deployment, day, rows)
                written.append(path)
                stamps = [r["ts"] for r in rows]
                index_rows.append(
                    PredictionLogPartition(
                        deployment=deployment,
                        day=day,
                        path=path.relative_to(self.log_dir).as_posix(),
                        rows=len(rows),
                        first_ts=min(stamps),
                        last_ts=max(stamps),
                    )
                )
                _yield_gil()
            with self.store.session() as session:
                session.add_all(index_rows)
        except Exception as exc:  # noqa: BLE001 - any failure keeps the rows pending and is reported by flush()
            for path in written:
                path.unlink(missing_ok=True)
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.error("prediction log write failed (rows kept for retry): %s", self.stats.last_error)
            return self.stats.last_error
        self.stats.written += len(pending)
        self.stats.files += len(written)
        pending.clear()
        return ""

    def _write_file(self, deployment: str, day: str, rows: list[dict[str, Any]]) -> Path:
        folder = self.log_dir / deployment / day
        folder.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = folder / f"part-{stamp}-{self._token}-{self._seq:06d}.parquet"
        tmp = folder / f".{path.name}.tmp"
        try:
            with tmp.open("wb") as fh:
                pq.write_table(_table(rows), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(folder)
        return path


def _closer(ref: weakref.ReferenceType[PredictionLogWriter]) -> Any:
    def close() -> None:
        writer = ref()
        if writer is not None:
            writer.close()

    return close


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    names: dict[str, None] = dict.fromkeys(BASE_COLUMNS)
    for row in rows:
        names.update(dict.fromkeys(row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if name == "ts":
            arrays[name] = pa.array(values, type=pa.timestamp("us", tz="UTC"))
        else:
            arrays[name] = _column(values)
        _yield_gil()
    return pa.table(arrays)


def _yield_gil() -> None:
    # The writer is pure Python between I/O calls; a request thread waiting for the GIL would otherwise
    # wait up to sys.getswitchinterval() (5 ms) for it. Giving it up per column bounds that to a few µs.
    time.sleep(0)


def _column(values: list[Any]) -> pa.Array:
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    # Mixed kinds in one batch (an int key next to a string one, a bool next to a float): numbers
    # become float64, anything else strings, so one odd record never loses the batch.
    present = [v for v in values if v is not None]
    if all(isinstance(v, (int, float)) for v in present):
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
