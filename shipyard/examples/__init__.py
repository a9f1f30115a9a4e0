"""Example workspaces shipped with Shipyard (``shipyard init --example churn``)."""

from __future__ import annotations

from shipyard.examples.churn import (
    ChurnDataSummary,
    create_example_workspace,
    generate_churn_data,
    locate_examples_dir,
)

__all__ = ["ChurnDataSummary", "create_example_workspace", "generate_churn_data", "locate_examples_dir"]
