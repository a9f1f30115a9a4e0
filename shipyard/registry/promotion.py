"""Promotion gates: a candidate takes an alias only if its metrics clear the gates and the champion's score.

Both models are scored on the same evaluation frame, so the comparison is like for like. The alias move is a
compare-and-set serialised by a write lock on the metadata store: of two concurrent promotions of one alias,
the first wins and the second sees the alias moved under it and gets ``Conflict``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shipyard.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    import pandas as pd

    from shipyard.registry.models import ModelVersionInfo
    from shipyard.registry.service import RegistryService

# metric -> (higher is better, needs class probabilities)
METRICS: dict[str, tuple[bool, bool]] = {
    "auc": (True, True),
    "log_loss": (False, True),
    "brier": (False, True),
    "accuracy": (True, False),
    "f1": (True, False),
    "precision": (True, False),
    "recall": (True, False),
    "rmse": (False, False),
    "mae": (False, False),
    "r2": (True, False),
}
_CLASSIFICATION = {"auc", "log_loss", "brier", "accuracy", "f1", "precision", "recall"}
_GATE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*([-+0-9.eE]+)\s*$")
PROMOTED_EVENT = "model.promoted"


@dataclass(frozen=True)
class PromotionGate:
    """A declared threshold: ``metric op threshold`` must hold on the evaluation frame."""

    metric: str
    threshold: float
    op: str = ">="

    def holds(self, value: float) -> bool:
        """Whether ``value`` clears this gate."""
        return value >= self.threshold if self.op == ">=" else value <= self.threshold


@dataclass(frozen=True)
class GateResult:
    metric: str
    op: str
    threshold: float
    value: float
    passed: bool


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    candidate: float
    champion: float
    higher_is_better: bool
    not_worse: bool


@dataclass(frozen=True)
class PromotionReport:
    """What a promotion decided and why: gate results and the side-by-side comparison with the champion."""

    name: str
    alias: str
    candidate_version: str
    champion_version: str | None
    promoted: bool
    eval_rows: int
    eval_frame_sha256: str
    gates: list[GateResult] = field(default_factory=list)
    comparison: list[MetricComparison] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def parse_gate(text: str) -> PromotionGate:
    """``"auc>=0.8"`` -> ``PromotionGate("auc", 0.8, ">=")``; the message lists the metrics allowed."""
    m = _GATE.match(text) if isinstance(text, str) else None
    if m is None:
        raise InvalidInput(f"gate {text!r} is not valid: write METRIC>=VALUE or METRIC<=VALUE, e.g. auc>=0.8")
    try:
        threshold = float(m.group(3))
    except ValueError as exc:
        raise InvalidInput(f"gate {text!r}: threshold {m.group(3)!r} is not a number") from exc
    return _checked(PromotionGate(m.group(1).lower(), threshold, m.group(2)), text)


def normalize_gates(
    gates: Sequence[PromotionGate | str] | Mapping[str, float] | None,
) -> list[PromotionGate]:
    """Gates from objects, ``"auc>=0.8"`` strings or a ``{metric: threshold}`` map (direction by metric)."""
    if gates is None:
        return []
    if isinstance(gates, Mapping):
        out = []
        for metric, threshold in gates.items():
            name = str(metric).lower()
            _known(name, str(metric))
            if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
                raise InvalidInput(f"gate {metric!r}: threshold {threshold!r} is not a number")
            out.append(PromotionGate(name, float(threshold), ">=" if METRICS[name][0] else "<="))
        return out
    if isinstance(gates, str):
        raise InvalidInput(f"gates {gates!r}: pass a list of gates, e.g. ['auc>=0.8'], not one string")
    return [g if isinstance(g, PromotionGate) and _checked(g, repr(g)) else parse_gate(g) for g in gates]  # type: ignore[arg-type]


def _known(metric: str, shown: str) -> None:
    if metric not in METRICS:
        raise InvalidInput(f"gate metric {shown!r} is unknown; use one of: {', '.join(sorted(METRICS))}")


def _checked(gate: PromotionGate, shown: str) -> PromotionGate:
    _known(gate.metric, shown)
    if gate.op not in (">=", "<="):
        raise InvalidInput(f"gate {shown}: operator {gate.op!r} must be '>=' or '<='")
    if gate.threshold != gate.threshold or gate.threshold in (float("inf"), float("-inf")):
        raise InvalidInput(f"gate {shown}: threshold must be a finite number")
    return gate


def evaluate(
    model: Any, frame: pd.DataFrame, features: list[str], target: str, metrics: set[str]
) -> dict[str, float]:
    """Score ``model`` on ``frame`` for each metric in ``metrics``."""
    import numpy as np
    from sklearn import metrics as skm

    x = frame[features].astype("float64")
    y = frame[target].to_numpy()
    out: dict[str, float] = {}
    pred = model.predict(x)
    proba: Any = None
    if metrics & {"auc", "log_loss", "brier"}:
        if not hasattr(model, "predict_proba"):
            raise InvalidInput(
                f"metrics {sorted(metrics)} need class probabilities; the model has no predict_proba"
            )
        proba = model.predict_proba(x)
    binary = len(getattr(model, "classes_", [])) == 2
    for name in sorted(metrics):
        if name == "auc":
            value = (
                skm.roc_auc_score(y, proba[:, 1])
                if binary
                else skm.roc_auc_score(y, proba, multi_class="ovr")
            )
        elif name == "log_loss":
            value = skm.log_loss(y, proba, labels=list(model.classes_))
        elif name == "brier":
            if not binary:
                raise InvalidInput("metric 'brier' needs a binary classifier")
            value = skm.brier_score_loss(y, proba[:, 1], pos_label=model.classes_[1])
        elif name == "accuracy":
            value = skm.accuracy_score(y, pred)
        elif name in ("f1", "precision", "recall"):
            fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}[name]
            value = fn(y, pred, average="binary" if binary else "macro", zero_division=0)
        elif name == "rmse":
            value = float(np.sqrt(skm.mean_squared_error(y, pred)))
        elif name == "mae":
            value = skm.mean_absolute_error(y, pred)
        else:
            value = skm.r2_score(y, pred)
        out[name] = float(value)
    return out


def default_metric(model: Any) -> str:
    """The metric a champion comparison uses when no gate names one."""
    if hasattr(model, "predict_proba"):
        return "auc" if len(getattr(model, "classes_", [])) == 2 else "accuracy"
    return "rmse"


def frame_sha256(frame: pd.DataFrame) -> str:
    """A content hash of the evaluation frame, so a report names exactly what it was scored on."""
    import pandas as pd

    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


def _check_frame(frame: Any, info: ModelVersionInfo) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise InvalidInput(f"eval_frame must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in [*info.feature_columns, info.target] if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"eval_frame lacks column(s) {missing} needed to score {info.name} v{info.version}; "
            f"it needs features {info.feature_columns} and target {info.target!r}"
        )
    if len(frame) < 2:
        raise InvalidInput(f"eval_frame has {len(frame)} row(s); score a promotion on at least 2 rows")
    if frame[[*info.feature_columns, info.target]].isna().any().any():
        raise InvalidInput(
            "eval_frame has missing values in feature or target columns; drop or fill them first"
        )


def promote(
    registry: RegistryService,
    name: str,
    version: str,
    alias: str,
    gates: Sequence[PromotionGate | str] | Mapping[str, float] | None,
    eval_frame: pd.DataFrame | None,
    tolerance: float,
) -> PromotionReport:
    """Score candidate and champion on one frame, check gates, and move ``alias`` by compare-and-set."""
    parsed = normalize_gates(gates)
    if not tolerance >= 0:
        raise InvalidInput(f"tolerance {tolerance!r} must be a number >= 0")
    candidate = registry.resolve(name, version)
    try:
        champion: ModelVersionInfo | None = registry.resolve(name, alias)
    except NotFound:
        champion = None
    expected = champion.version if champion is not None else None
    frame = eval_frame if eval_frame is not None else registry.load_reference(candidate)
    _check_frame(frame, candidate)
    if champion is not None and champion.version != candidate.version:
        _check_frame(frame, champion)
    cand_model = registry.load_model(candidate)
    wanted = {g.metric for g in parsed} | {default_metric(cand_model)}
    is_classifier = hasattr(cand_model, "predict_proba")
    wrong = wanted - _CLASSIFICATION if is_classifier else wanted & _CLASSIFICATION
    if wrong:
        kind = "classifier" if is_classifier else "regressor"
        raise InvalidInput(
            f"gate metric(s) {sorted(wrong)} do not apply: {name} v{candidate.version} is a {kind}"
        )
    cand_scores = evaluate(cand_model, frame, candidate.feature_columns, candidate.target, wanted)
    results = [
        GateResult(g.metric, g.op, g.threshold, cand_scores[g.metric], g.holds(cand_scores[g.metric]))
        for g in parsed
    ]
    reasons = [
        f"gate {r.metric}{r.op}{r.threshold:g} failed: {r.metric}={r.value:.4f}"
        for r in results
        if not r.passed
    ]
    comparison: list[MetricComparison] = []
    if champion is not None and champion.version != candidate.version:
        champ_scores = evaluate(
            registry.load_model(champion), frame, champion.feature_columns, champion.target, wanted
        )
        for metric in sorted(wanted):
            higher = METRICS[metric][0]
            c, b = cand_scores[metric], champ_scores[metric]
            ok = c >= b - tolerance if higher else c <= b + tolerance
            comparison.append(MetricComparison(metric, c, b, higher, ok))
            if not ok:
                reasons.append(
                    f"{metric} {c:.4f} is worse than champion v{champion.version}'s {b:.4f} on the same frame"
                )
    report = dict(
        name=name,
        alias=alias,
        candidate_version=candidate.version,
        champion_version=expected,
        eval_rows=len(frame),
        eval_frame_sha256=frame_sha256(frame[[*candidate.feature_columns, candidate.target]]),
        gates=results,
        comparison=comparison,
    )
    if reasons:
        return PromotionReport(promoted=False, reasons=reasons, **report)  # type: ignore[arg-type]
    if expected == candidate.version:
        return PromotionReport(promoted=True, reasons=[f"v{expected} already holds {alias!r}"], **report)  # type: ignore[arg-type]
    _compare_and_set(registry, name, alias, expected, candidate.version, report)
    return PromotionReport(promoted=True, **report)  # type: ignore[arg-type]


def _compare_and_set(
    registry: RegistryService, name: str, alias: str, expected: str | None, new: str, report: dict[str, Any]
) -> None:
    from sqlalchemy import text

    from shipyard.store.models import Event

    ws = registry.ws
    with ws.store.session() as s:
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"alias:{name}@{alias}"})
        # Writing the outbox row first takes the store's write lock (SQLite serialises writers), so the
        # re-read below and the alias move happen with no other promotion in between.
        s.add(
            Event(
                project=ws.project,
                kind=PROMOTED_EVENT,
                payload={
                    "model": name,
                    "alias": alias,
                    "from": expected,
                    "to": new,
                    "eval_frame_sha256": report["eval_frame_sha256"],
                },
            )
        )
        s.flush()
        current = registry.alias_version(name, alias)
        if current != expected:
            raise Conflict(
                f"alias {alias!r} of model {name!r} moved from {_v(expected)} to {_v(current)} while v{new} "
                "was being evaluated; re-run the promotion to compare against the new holder"
            )
        registry.client.set_registered_model_alias(name, alias, new)


def _v(version: str | None) -> str:
    return f"v{version}" if version is not None else "no version"
