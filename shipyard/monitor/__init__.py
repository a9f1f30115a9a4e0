"""Monitoring: the durable prediction log and drift statistics (``ws.monitor`` is the service)."""

from shipyard.monitor.records import PredictionRecord

__all__ = ["PredictionRecord"]
