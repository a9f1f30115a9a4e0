"""Concurrent alias promotion over REST by two maintainers: one wins, both are audited, the chain holds."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression

from shipyard.governance.service import governance_for
from shipyard.server.app import create_app
from shipyard.workspace import Workspace
from shipyard.workspace_init import init_workspace

pytestmark = pytest.mark.integration
FEATURES = ["a", "b"]


def _frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(rows, 2)), columns=FEATURES)
    df.insert(0, "customer_id", np.arange(rows))
    df["churned"] = ((df["a"] + df["b"] + rng.normal(scale=0.5, size=rows)) > 0).astype(int)
    return df


def test_two_maintainers_promote_at_once(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", project="own").root
    ws = Workspace.open(root)
    frame = _frame(400, 1)
    versions = []
    for seed in (1, 2, 3):
        model = LogisticRegression(C=1.0 / seed).fit(frame[FEATURES], frame["churned"])
        info = ws.registry.log_model(
            model,
            name="churn",
            training_frame=frame,
            feature_columns=FEATURES,
            target="churned",
            feature_refs=["fv:a", "fv:b"],
            metrics={},
            params={},
            alias="champion" if seed == 1 else None,
        )
        versions.append(info.version)
    gov = governance_for(ws)
    tokens = {}
    for name in ("m1", "m2"):
        gov.access.add_user(name)
        gov.access.bind(name, "own", "maintainer")
        tokens[name] = ws.tokens.create(name, user=name).secret
    gov.access.add_user("viewer")
    gov.access.bind("viewer", "own", "viewer")
    viewer = ws.tokens.create("v", user="viewer").secret
    results: dict[str, Any] = {}
    with TestClient(create_app(ws, close_on_shutdown=False)) as client:
        r = client.post(
            "/api/v1/models/churn/promote",
            json={"version": versions[1], "tolerance": 1.0},
            headers={"Authorization": f"Bearer {viewer}"},
        )
        assert r.status_code == 403

        def promote(who: str, version: str) -> None:
            results[who] = client.post(
                "/api/v1/models/churn/promote",
                json={"version": version, "tolerance": 1.0},
                headers={"Authorization": f"Bearer {tokens[who]}"},
            )

        threads = [
            threading.Thread(target=promote, args=("m1", versions[1])),
            threading.Thread(target=promote, args=("m2", versions[2])),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses in ([200, 200], [200, 409]), {k: v.text for k, v in results.items()}
    holder = ws.registry.alias_version("churn", "champion")
    assert str(holder) in {str(v) for v in versions[1:]}
    entries = list(gov.audit.entries())
    promotes = [(e.actor, e.outcome) for e in entries if e.action == "models.promote"]
    assert sorted(promotes) == [("m1", "allowed"), ("m2", "allowed"), ("viewer", "denied")]
    assert gov.audit.verify().ok
    ws.close()
