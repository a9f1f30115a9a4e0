"""Prometheus metrics of a workspace's serving and monitoring, exposed at ``GET /metrics``.

Fed in-process: ``MonitorService.log_predictions`` counts predictions and observes their latency (every
Shipyard endpoint logs through it), ``MonitorService.run_checks`` sets the drift-breach gauges and counts
alerts. Each workspace has its own ``CollectorRegistry`` (not the global one), so two workspaces in one
process never share series. Counters start at zero when the process starts (Prometheus handles resets).

Series (labels in braces):

* ``shipyard_predictions_total{deployment, model_version}``: predictions logged;
* ``shipyard_prediction_latency_seconds{deployment}``: histogram of per-prediction latency;
* ``shipyard_drift_breached_features{deployment}``: features that drifted in the latest checked window;
* ``shipyard_drift_feature_breached{deployment, feature}``: 1 when the feature drifted in that window;
* ``shipyard_monitor_windows_total{deployment}``: windows checked;
* ``shipyard_alerts_total{deployment, kind}``: alerts fired (drift, latency, performance);
* ``shipyard_prediction_errors_total{deployment, code}``: failed prediction requests (``record_failure``).
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.monitor.alerts import CheckResult
    from shipyard.monitor.records import PredictionRecord

# Serving latencies are milliseconds to seconds; the default buckets start at 5 ms and miss fast models.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class MonitorMetrics:
    """The Prometheus series of one workspace, and the calls that update them."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry

        self._lock = threading.Lock()
        self.predictions: dict[tuple[str, str], float] = {}
        self.latency_buckets: dict[str, list[int]] = {}  # per bucket, +Inf last; not cumulative
        self.latency_sum: dict[str, float] = {}
        self.breached: dict[str, float] = {}
        self.feature_breached: dict[tuple[str, str], float] = {}
        self.windows: dict[str, float] = {}
        self.alerts: dict[tuple[str, str], float] = {}
        self.failures: dict[tuple[str, str], float] = {}
        # Values live in these dicts, read by a custom collector, rather than in prometheus_client metric
        # objects: importing Feast sets PROMETHEUS_MULTIPROC_DIR, which turns every metric object into a
        # per-process mmap shared by name, so two workspaces in one process would add up each other's counts.
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(self))

    def record_predictions(
        self, deployment: str, model_version: str, records: list[PredictionRecord]
    ) -> None:
        """Count ``records`` and observe their latencies (records already validated)."""
        if not records:
            return
        seconds = [float(r.latency_ms) / 1000.0 for r in records]
        with self._lock:
            key = (deployment, model_version)
            self.predictions[key] = self.predictions.get(key, 0.0) + len(records)
            buckets = self.latency_buckets.setdefault(deployment, [0] * (len(LATENCY_BUCKETS) + 1))
            for value in seconds:
                buckets[bisect_left(LATENCY_BUCKETS, value)] += 1  # le: value <= bound
            self.latency_sum[deployment] = self.latency_sum.get(deployment, 0.0) + sum(seconds)

    def record_failure(self, deployment: str, code: str) -> None:
        """Count one failed prediction request of ``deployment`` (``code``: the error code, e.g. not_found)."""
        with self._lock:
            key = (deployment, code)
            self.failures[key] = self.failures.get(key, 0.0) + 1

    def record_checks(self, result: CheckResult) -> None:
        """Drift gauges from the pass's latest window, and its window and alert counts."""
        deployment = result.deployment
        with self._lock:
            if result.windows:
                self.windows[deployment] = self.windows.get(deployment, 0.0) + len(result.windows)
                latest: dict[str, Any] = result.windows[-1]
                self.breached[deployment] = float(len(latest.get("drifted", [])))
                for feature, drift in latest.get("drift", {}).items():
                    self.feature_breached[(deployment, feature)] = 1.0 if drift.get("drifted") else 0.0
            for alert in result.alerts:
                key = (deployment, alert.kind)
                self.alerts[key] = self.alerts.get(key, 0.0) + 1

    def exposition(self) -> tuple[bytes, str]:
        """Every series in the Prometheus text format, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _Collector:
    """Turns a ``MonitorMetrics`` snapshot into metric families at scrape time."""

    def __init__(self, metrics: MonitorMetrics) -> None:
        self._m = metrics

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
        from prometheus_client.utils import floatToGoString

        m = self._m
        with m._lock:
            snap: dict[str, Any] = {
                "predictions": dict(m.predictions),
                "buckets": {d: list(b) for d, b in m.latency_buckets.items()},
                "sum": dict(m.latency_sum),
                "breached": dict(m.breached),
                "feature": dict(m.feature_breached),
                "windows": dict(m.windows),
                "alerts": dict(m.alerts),
                "failures": dict(m.failures),
            }
        predictions = CounterMetricFamily(
            "shipyard_predictions",
            "Predictions logged by Shipyard endpoints",
            labels=["deployment", "model_version"],
        )
        for labels, value in sorted(snap["predictions"].items()):
            predictions.add_metric(list(labels), value)
        yield predictions
        latency = HistogramMetricFamily(
            "shipyard_prediction_latency_seconds",
            "Per-prediction latency as logged by the endpoint",
            labels=["deployment"],
        )
        for deployment, counts in sorted(snap["buckets"].items()):
            cumulative, total = [], 0
            for bound, count in zip([*LATENCY_BUCKETS, float("inf")], counts, strict=True):
                total += count
                cumulative.append((floatToGoString(bound), float(total)))
            latency.add_metric([deployment], cumulative, snap["sum"].get(deployment, 0.0))
        yield latency
        breached = GaugeMetricFamily(
            "shipyard_drift_breached_features",
            "Features that drifted in the latest checked window",
            labels=["deployment"],
        )
        for deployment, value in sorted(snap["breached"].items()):
            breached.add_metric([deployment], value)
        yield breached
        feature = GaugeMetricFamily(
            "shipyard_drift_feature_breached",
            "1 when the feature drifted in the latest checked window, else 0",
            labels=["deployment", "feature"],
        )
        for labels, value in sorted(snap["feature"].items()):
            feature.add_metric(list(labels), value)
        yield feature
        windows = CounterMetricFamily(
            "shipyard_monitor_windows", "Monitoring windows checked", labels=["deployment"]
        )
        for deployment, value in sorted(snap["windows"].items()):
            windows.add_metric([deployment], value)
        yield windows
        alerts = CounterMetricFamily("shipyard_alerts", "Alerts fired", labels=["deployment", "kind"])
        for labels, value in sorted(snap["alerts"].items()):
            alerts.add_metric(list(labels), value)
        yield alerts
        failures = CounterMetricFamily(
            "shipyard_prediction_errors",
            "Prediction requests that failed, by error code (error rate = errors / (errors + predictions))",
            labels=["deployment", "code"],
        )
        for labels, value in sorted(snap["failures"].items()):
            failures.add_metric(list(labels), value)
        yield failures
