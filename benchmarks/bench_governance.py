"""Governance: authorization + masking overhead on the online feature route, audit append rate, verify speed.

* ``POST /api/v1/features/online`` through ``create_app`` (route policy dependency, user token resolved to
  role bindings, body cap, masking plan with 10 sensitive columns and no grant) vs the same Feast read behind
  only the old token check (the route as it was before governance), in-process ASGI, interleaved with the
  order rotated, p50/p95 over ``samples`` (400) each; a third column runs the governed app with the decision
  cache off (round 4's token + role + grant queries per request), and ``decision_in_process`` times the
  governance work alone (authenticate, authorize, masking plan) against the old token check, without HTTP;
* audit appends (committed and fsynced before ``append`` returns, hash-chained; concurrent appends share a
  transaction by group commit), one thread and eight, vs raw ``sqlite3`` INSERT + COMMIT per row on the same
  file settings (the disk's fsync ceiling for one writer);
* ``AuditLog.verify`` over a generated 1,000,000-record chain vs a raw ``SELECT`` walk of the same rows.
Timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from benchmarks.stats import summarize

VERIFY_RECORDS = 1_000_000


class OnlineBody(BaseModel):
    """The online route's body, for the token-only baseline (module level so FastAPI resolves it)."""

    entities: list[dict[str, Any]]
    features: list[str]


APPENDS = 2_000


class _NoCache:
    """A decision cache that never hits (round 4's per-request queries), for the side-by-side figure."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def get(self, key: tuple[str, ...], compute: Any) -> Any:
        return compute()[0]


def _interleaved(n: int, *calls: Any) -> list[list[float]]:
    """``n`` timed calls of each, rotating which goes first, so drift in machine load hits all alike."""
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(5):
        for fn in calls:
            fn()  # warm
    order = list(range(len(calls)))
    for i in range(n):
        for k in order[i % len(calls) :] + order[: i % len(calls)]:
            t = time.perf_counter()
            calls[k]()
            times[k].append((time.perf_counter() - t) * 1000)
    return times


def _online_overhead(tmp: Path, samples: int) -> dict[str, Any]:
    from fastapi import Depends, FastAPI
    from fastapi.responses import JSONResponse
    from fastapi.testclient import TestClient

    from benchmarks.bench_features import FEATURES, _workspace
    from shipyard.governance.service import governance_for
    from shipyard.server.app import create_app
    from shipyard.server.auth import require_token
    from shipyard.server.errors import install_error_handlers
    from shipyard.workspace import Workspace

    root = tmp / "ws"
    token = _workspace(root)
    ws = Workspace.open(root)
    ws.features.apply()
    ws.features.materialize()
    gov = governance_for(ws)
    gov.access.add_user("ann")
    gov.access.bind("ann", ws.project, "viewer")
    user_token = ws.tokens.create("ann", user="ann").secret
    columns = [{"name": f"f{i:02d}", "type": "float", "sensitive": i < 10} for i in range(FEATURES)]
    ws.catalog.upsert("feature_view", "wide_online", columns=columns)

    baseline = FastAPI()
    install_error_handlers(baseline)

    @baseline.post("/api/v1/features/online", dependencies=[Depends(require_token)])
    def online(body: OnlineBody) -> Any:
        return JSONResponse({"rows": ws.features.online_records(body.entities, body.features)})

    baseline.state.workspace = ws
    # Round 4's path for comparison: the same app on a second Workspace whose decision cache never hits, so
    # every request queries the token, role-binding and grant tables.
    uncached_ws = Workspace.open(root)
    governance_for(uncached_ws).__dict__["decisions"] = _NoCache(uncached_ws.store)
    refs50 = [f"wide_online:f{i:02d}" for i in range(FEATURES)]
    cases = {
        "1x10": ([{"item_id": 7}], refs50[:10]),
        "100x50": ([{"item_id": i} for i in range(0, 2000, 20)], refs50),
    }
    out: dict[str, Any] = {}
    with (
        TestClient(create_app(ws, close_on_shutdown=False)) as governed,
        TestClient(create_app(uncached_ws, close_on_shutdown=False)) as uncached,
        TestClient(baseline) as plain,
    ):
        for name, (rows, refs) in cases.items():
            payload = {"entities": rows, "features": refs}
            g_head = {"Authorization": f"Bearer {user_token}"}
            p_head = {"Authorization": f"Bearer {token}"}
            answer = governed.post("/api/v1/features/online", json=payload, headers=g_head)
            assert answer.status_code == 200, answer.text
            assert answer.json()["rows"][0]["f00"] is None  # masked
            plain_answer = plain.post("/api/v1/features/online", json=payload, headers=p_head)
            assert plain_answer.status_code == 200, plain_answer.text
            assert plain_answer.json()["rows"][0]["f00"] is not None
            gov_ms, old_ms, base_ms = _interleaved(
                samples,
                lambda payload=payload, h=g_head: governed.post(
                    "/api/v1/features/online", json=payload, headers=h
                ),
                lambda payload=payload, h=g_head: uncached.post(
                    "/api/v1/features/online", json=payload, headers=h
                ),
                lambda payload=payload, h=p_head: plain.post(
                    "/api/v1/features/online", json=payload, headers=h
                ),
            )
            g, o, b = summarize(gov_ms), summarize(old_ms), summarize(base_ms)
            out[name] = {
                "governed": g,
                "governed_uncached": o,
                "token_only": b,
                "p50_overhead_pct": round(100 * (g["p50_ms"] / b["p50_ms"] - 1), 1),
                "p95_overhead_pct": round(100 * (g["p95_ms"] / b["p95_ms"] - 1), 1),
                "uncached_p95_overhead_pct": round(100 * (o["p95_ms"] / b["p95_ms"] - 1), 1),
            }
    out["decision_in_process"] = _decision_cost(ws, gov, user_token, token, refs50[:10], samples)
    uncached_ws.close()
    ws.close()
    return out


def _decision_cost(ws: Any, gov: Any, user_token: str, token: str, refs: list[str], n: int) -> dict[str, Any]:
    """The governance work of one online request (authenticate + authorize + masking plan), without HTTP,
    vs the token check the ungoverned route did: the part of the request governance adds or replaces."""
    from shipyard.governance.masking import plan
    from shipyard.governance.route_policy import policy_for

    def governed() -> None:
        policy = policy_for("POST", "/api/v1/features/online")
        assert policy is not None
        principal = gov.principal_for_token(user_token)
        gov.check(principal, policy.action, ws.project, "/api/v1/features/online")
        plan(ws, principal.name, ws.project, refs)

    g_ms, b_ms = _interleaved(n, governed, lambda: ws.tokens.verify(token))
    g, b = summarize(g_ms), summarize(b_ms)
    return {"governed_authz_masking": g, "token_verify_only": b}


def _appends(tmp: Path) -> dict[str, Any]:
    from shipyard.governance.audit import AuditLog
    from shipyard.store.db import MetadataStore

    store = MetadataStore.connect(f"sqlite:///{tmp / 'audit.db'}")
    with store.engine.connect() as conn:
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    log = AuditLog(store, tmp / "append-state", checkpoint_every=100)

    def appends(n: int, tag: str) -> None:
        for i in range(n):
            log.append("ann", "p", "features.read_sensitive", f"{tag}{i}", "allowed", {"i": i})

    t = time.perf_counter()
    appends(APPENDS, "s")
    shipyard_s = time.perf_counter() - t
    # Eight request threads appending at once (a busy server): group commit shares each fsync.
    threads = [threading.Thread(target=appends, args=(APPENDS // 8, f"c{k}-")) for k in range(8)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    concurrent_s = time.perf_counter() - t
    assert log.verify().ok
    store.dispose()

    raw = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute(f"PRAGMA synchronous={synchronous}")
    raw.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")
    t = time.perf_counter()
    for i in range(APPENDS):
        raw.execute("BEGIN")
        raw.execute("INSERT INTO t (seq, body) VALUES (?, ?)", (i, f'{{"i":{i}}}'))
        raw.execute("COMMIT")
    raw_s = time.perf_counter() - t
    raw.close()
    return {
        "appends": APPENDS,
        "sqlite_synchronous": synchronous,
        "shipyard_sequential_per_s": round(APPENDS / shipyard_s),
        "shipyard_8_threads_per_s": round(APPENDS / concurrent_s),
        "raw_sqlite_per_s": round(APPENDS / raw_s),
    }


def _generate_chain(db: Path, n: int) -> None:
    from shipyard.governance.audit import GENESIS, canonical, record_hash
    from shipyard.store.db import MetadataStore

    MetadataStore.connect(f"sqlite:///{db}").dispose()
    conn = sqlite3.connect(db)
    prev, batch = GENESIS, []
    for seq in range(1, n + 1):
        ts = f"2026-11-23T20:00:{seq % 60:02d}.{seq % 1000000:06d}+00:00"
        payload = canonical({"i": seq})
        h = record_hash(seq, ts, "ann", "p", "features.read", f"v{seq % 97}", "allowed", payload, prev)
        batch.append((seq, ts, "ann", "p", "features.read", f"v{seq % 97}", "allowed", payload, prev, h))
        prev = h
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
            batch = []
    conn.executemany("INSERT INTO audit_log VALUES (?,?,?,?,?,?,?,?,?,?)", batch)
    conn.commit()
    conn.close()


def _verify(tmp: Path) -> dict[str, Any]:
    from shipyard.governance.audit import AuditLog
    from shipyard.store.db import MetadataStore

    db = tmp / "chain.db"
    t = time.perf_counter()
    _generate_chain(db, VERIFY_RECORDS)
    generate_s = time.perf_counter() - t
    store = MetadataStore.connect(f"sqlite:///{db}")
    log = AuditLog(store, tmp / "verify-state")  # its own key and checkpoint file
    t = time.perf_counter()
    report = log.verify()
    verify_s = time.perf_counter() - t
    assert report.ok and report.records == VERIFY_RECORDS, report
    store.dispose()
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    rows = sum(1 for _ in conn.execute("SELECT * FROM audit_log ORDER BY seq"))
    raw_s = time.perf_counter() - t
    conn.close()
    return {
        "records": rows,
        "generate_s": round(generate_s, 2),
        "shipyard_verify_s": round(verify_s, 2),
        "raw_select_walk_s": round(raw_s, 2),
    }


def run(samples: int = 400) -> dict[str, Any]:
    """All three measurements in one temp folder; returns one JSON-able dict."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_governance_"))
    try:
        return {
            "benchmark": "governance",
            "online_authz_masking": _online_overhead(tmp, samples),
            "audit_appends": _appends(tmp),
            "audit_verify": _verify(tmp),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
