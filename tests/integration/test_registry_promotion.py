"""Promotion gates and concurrent alias moves against a real MLflow registry and metadata store."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from shipyard.config import default_toml
from shipyard.errors import Conflict, InvalidInput
from shipyard.registry import promotion
from shipyard.registry.models import ModelVersionInfo
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

FEATURES = ["a", "b", "noise"]
REFS = ["fv:a", "fv:b", "fv:noise"]


def make_frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.normal(size=(rows, 3)), columns=FEATURES)
    df.insert(0, "customer_id", np.arange(rows))
    df["churned"] = ((df["a"] + df["b"] + rng.normal(scale=0.5, size=rows)) > 0).astype(int)
    return df


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("promo-ws")
    (root / "shipyard.toml").write_text(default_toml("promo"))
    w = Workspace.open(root)
    yield w
    w.close()


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame(800, 1)


@pytest.fixture(scope="module")
def eval_frame() -> pd.DataFrame:
    return make_frame(400, 2)


def log(ws: Workspace, frame: pd.DataFrame, columns: list[str], alias: str | None = None) -> ModelVersionInfo:
    # A model blind to some features scores worse; zeroing them keeps the signature identical.
    x = frame[FEATURES].copy()
    for c in FEATURES:
        if c not in columns:
            x[c] = 0.0
    model = LogisticRegression().fit(x, frame["churned"])
    return ws.registry.log_model(
        model,
        name="churn",
        training_frame=frame,
        feature_columns=FEATURES,
        target="churned",
        feature_refs=REFS,
        metrics={},
        params={"uses": ",".join(columns)},
        alias=alias,
    )


def test_gates_and_champion_comparison(ws: Workspace, frame: pd.DataFrame, eval_frame: pd.DataFrame) -> None:
    weak = log(ws, frame, ["noise"], alias="champion")
    strong = log(ws, frame, ["a", "b"])
    weaker = log(ws, frame, ["noise"])

    blocked = ws.registry.promote("churn", strong.version, gates=["auc>=0.999"], eval_frame=eval_frame)
    assert not blocked.promoted and "gate auc>=0.999 failed" in blocked.reasons[0]
    assert ws.registry.alias_version("churn", "champion") == weak.version

    report = ws.registry.promote("churn", strong.version, gates={"auc": 0.8}, eval_frame=eval_frame)
    assert report.promoted and report.champion_version == weak.version and report.eval_rows == 400
    (cmp,) = report.comparison
    assert cmp.metric == "auc" and cmp.candidate > cmp.champion and cmp.not_worse
    assert ws.registry.alias_version("churn", "champion") == strong.version

    worse = ws.registry.promote("churn", weaker.version, eval_frame=eval_frame)
    assert not worse.promoted and "worse than champion" in worse.reasons[0]
    assert ws.registry.alias_version("churn", "champion") == strong.version

    again = ws.registry.promote("churn", strong.version, eval_frame=eval_frame)
    assert again.promoted and "already holds" in again.reasons[0]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"alias": "latest"}, "reserved"),
        ({"gates": ["auc=0.8"]}, "METRIC>=VALUE"),
        ({"eval_frame": pd.DataFrame({"a": [1.0, 2.0]})}, "lacks column"),
        ({"tolerance": -1.0}, "tolerance"),
        ({"gates": ["rmse<=1"]}, "is a classifier"),
    ],
)
def test_bad_promotion_input_changes_nothing(
    ws: Workspace, frame: pd.DataFrame, kwargs: dict, fragment: str
) -> None:
    cand = log(ws, frame, ["a"])
    before = ws.registry.alias_version("churn", "champion")
    with pytest.raises(InvalidInput, match=fragment):
        ws.registry.promote("churn", cand.version, **kwargs)
    assert ws.registry.alias_version("churn", "champion") == before


def test_concurrent_promotions_one_wins_one_conflicts(
    ws: Workspace, frame: pd.DataFrame, eval_frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import func, select

    from shipyard.store.models import Event

    ws.registry.client.set_registered_model_alias("churn", "contest", log(ws, frame, ["noise"]).version)
    start = ws.registry.alias_version("churn", "contest")
    c1, c2 = log(ws, frame, ["a", "b"]), log(ws, frame, ["a", "b", "noise"])
    barrier = threading.Barrier(2, timeout=60)
    real_evaluate = promotion.evaluate

    def evaluate_then_meet(*args: object, **kw: object) -> dict[str, float]:
        out = real_evaluate(*args, **kw)  # type: ignore[arg-type]
        if threading.current_thread().name.startswith("promote-"):
            try:
                barrier.wait()  # both have read the holder before either moves the alias
            except threading.BrokenBarrierError:
                pass
        return out

    monkeypatch.setattr(promotion, "evaluate", evaluate_then_meet)
    outcomes: dict[str, object] = {}

    def run(version: str) -> None:
        try:
            outcomes[version] = ws.registry.promote("churn", version, alias="contest", eval_frame=eval_frame)
        except Conflict as exc:
            outcomes[version] = exc

    with ws.store.session() as s:
        events_before = s.scalar(
            select(func.count()).select_from(Event).where(Event.kind == "model.promoted")
        )
    threads = [threading.Thread(target=run, args=(v,), name=f"promote-{v}") for v in (c1.version, c2.version)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    wins = [v for v, o in outcomes.items() if isinstance(o, promotion.PromotionReport) and o.promoted]
    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, outcomes
    assert "moved from" in conflicts[0].message and f"v{start}" in conflicts[0].message
    assert ws.registry.alias_version("churn", "contest") == wins[0]
    with ws.store.session() as s:
        events_after = s.scalar(select(func.count()).select_from(Event).where(Event.kind == "model.promoted"))
    assert events_after == events_before + 1


def test_cli_and_rest_promote(ws: Workspace, frame: pd.DataFrame) -> None:
    import json

    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from shipyard.cli.models_cmd import app
    from shipyard.governance.tokens import TokenService
    from shipyard.server.app import create_app

    ws.registry.client.set_registered_model_alias("churn", "cli", log(ws, frame, ["noise"]).version)
    cand = log(ws, frame, ["a", "b"])
    runner = CliRunner()
    refused = runner.invoke(
        app, ["promote", f"churn@{cand.version}", "--alias", "cli", "-g", "auc>=0.9999", "-w", str(ws.root)]
    )
    assert refused.exit_code == 1 and "REFUSED" in refused.output
    bad = runner.invoke(
        app, ["promote", f"churn@{cand.version}", "-g", "auc=1", "-w", str(ws.root), "--json"]
    )
    assert bad.exit_code == 2 and json.loads(bad.stdout)["error"]["code"] == "invalid_input"
    ok = runner.invoke(
        app, ["promote", f"churn@{cand.version}", "--alias", "cli", "-w", str(ws.root), "--json"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["promoted"] is True

    token = TokenService(ws.store).create("promo-admin").secret
    with TestClient(create_app(ws)) as client:
        r = client.post(
            "/api/v1/models/churn/promote",
            json={"version": cand.version, "alias": "cli", "gates": ["bogus>=1"]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 422 and "unknown" in r.json()["error"]["message"]
        auth = {"Authorization": f"Bearer {token}"}
        for method, path in [
            ("delete", "/api/v1/deployments/nope"),
            ("post", "/api/v1/deployments/nope/rollback"),
        ]:
            r = client.request(method, path, headers=auth)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
