"""The demo's closed monitoring loop: rules -> monitoring pass -> alert -> webhook on 127.0.0.1 -> retraining
run -> candidate through the promotion gates.

Everything here calls the monitor service (``ws.monitor.configure`` / ``run_checks``) exactly as
``shipyard monitor configure`` and ``shipyard monitor run`` do; the demo only adds the webhook receiver a
team's chat tool would be, and the retraining notebook it promotes to a pipeline.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

RETRAIN_PIPELINE = "churn_retrain"
# Mirrors the training notebook's own bar (min_auc); the candidate must also not be worse than the champion.
PROMOTE_GATES = ["auc>=0.65"]

# Refit the champion's recipe (same estimator, same features) on every label known now, and register the
# result WITHOUT an alias: the monitor's retraining action puts it through the registry's promotion gates.
_RETRAIN_CELLS: list[tuple[str, str]] = [
    ("parameters", 'model_name = "churn"\nfeature_service = "churn_v1"\nreason = ""'),
    (
        "step:retrain",
        """import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

import shipyard

ws = shipyard.open_workspace()
champion = ws.registry.resolve(model_name, "champion")
cols, target = champion.feature_columns, champion.target
labels = pd.read_parquet(ws.root / "data" / "labels.parquet")
frame = ws.features.training_frame(labels, feature_service).dropna(subset=cols).reset_index(drop=True)
model = clone(ws.registry.load_model(champion)).fit(frame[cols].astype("float32"), frame[target])
auc = roc_auc_score(frame[target], model.predict_proba(frame[cols].astype("float32"))[:, 1])
candidate = ws.registry.log_model(
    model,
    name=model_name,
    training_frame=frame,
    feature_columns=cols,
    target=target,
    feature_refs=champion.feature_refs,
    metrics={"train_auc": float(auc)},
    params={"retrained_because": reason or "manual", "from_version": champion.version},
    alias=None,
)
print(f"registered candidate {model_name} v{candidate.version} (train AUC {auc:.3f})")""",
    ),
]


@dataclass
class LoopOutcome:
    """What the loop did: the pass's windows and alerts, what the webhook got, the retraining and its gate."""

    windows: int
    alerts: list[dict[str, Any]]
    webhook_url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    retrain: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the demo's summary)."""
        return {
            "windows": self.windows,
            "alerts": self.alerts,
            "webhook_url": self.webhook_url,
            "webhook_received": [{"text": r.get("text", "")} for r in self.received],
            "retrain": self.retrain,
        }


class WebhookReceiver:
    """A Slack-shaped webhook endpoint on a free 127.0.0.1 port, keeping every JSON body it is sent."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    received.append(json.loads(body))
                except ValueError:
                    received.append({"text": body.decode(errors="replace")})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass  # keep the demo's output to its own step lines

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="shipyard-demo-webhook", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/slack"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def write_retrain_notebook(path: Path) -> Path:
    """The retraining notebook (one ``step:retrain`` cell plus parameters) at ``path``."""
    import nbformat
    from nbformat import v4

    cells = [v4.new_code_cell(src, metadata={"tags": [tag]}) for tag, src in _RETRAIN_CELLS]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(v4.new_notebook(cells=cells), str(path))
    return path


def run_monitor_loop(
    ws: Any, deployment: str, retrain_notebook: Path, window_rows: int, receiver: WebhookReceiver
) -> LoopOutcome:
    """Configure rules (webhook, k-of-n breach, retraining, gates), then one pass over the logged traffic."""
    from shipyard.monitor.alerts import MonitorRules

    ws.pipelines.promote(write_retrain_notebook(retrain_notebook), RETRAIN_PIPELINE)
    ws.monitor.configure(
        deployment,
        MonitorRules(
            window_rows=window_rows,
            breach_k=2,
            breach_n=3,
            retrain_pipeline=RETRAIN_PIPELINE,
            retrain_params={"reason": "drift alert"},
            retrain_on=["drift"],
            promote_gates=PROMOTE_GATES,
            # The receiver is on loopback, which webhooks refuse unless told: this one is ours.
            webhooks=[{"url": receiver.url, "format": "slack", "allow_private": True}],
        ),
    )
    result = ws.monitor.run_checks(deployment)
    return LoopOutcome(
        windows=len(result.windows),
        alerts=[{"kind": a.kind, "subject": a.subject, "message": a.message} for a in result.alerts],
        webhook_url=receiver.url,
        received=list(receiver.received),
        retrain=result.retrain,
    )


def loop_detail(outcome: LoopOutcome) -> str:
    """One line for the demo's step list."""
    if not outcome.alerts:
        return f"{outcome.windows} windows checked, no sustained breach, no alert"
    alerts = ", ".join(f"{a['kind']} on {a['subject']}" for a in outcome.alerts)
    parts = [
        f"{outcome.windows} windows -> alert: {alerts}",
        f"webhook got {len(outcome.received)} message(s)",
    ]
    retrain = outcome.retrain
    if retrain is not None:
        parts.append(f"retrain run {retrain.get('run_id') or '-'} {retrain['status']}")
        candidate = retrain.get("candidate")
        parts.append(f"gate: {candidate['summary']}" if candidate else "gate: no candidate registered")
    return "; ".join(parts)
