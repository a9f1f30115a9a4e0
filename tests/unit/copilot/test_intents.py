"""Which questions the structured layer takes (the queries themselves run in integration tests)."""

from __future__ import annotations

import pytest

from shipyard.copilot.intents import BEST_APPROACH, BEST_RUN, DRIFT


@pytest.mark.parametrize(
    ("question", "groups"),
    [
        ("Which run had the highest AUC in experiment churn-v2?", ("highest", "AUC", "churn-v2")),
        ("what run has the lowest rmse in the experiment 'demand'", ("lowest", "rmse", "demand")),
    ],
)
def test_best_run_pattern(question: str, groups: tuple[str, ...]) -> None:
    m = BEST_RUN.search(question)
    assert m is not None and m.groups() == groups


def test_other_patterns_and_fallthrough() -> None:
    m = BEST_APPROACH.search("best feature engineering approach on the last three churn projects by f1")
    assert m is not None and m.groups() == ("three", "churn", "f1")
    d = DRIFT.search("drift for models deployed in project retail in the last 30 days")
    assert d is not None and d.groups() == ("retail", "30")
    assert BEST_RUN.search("where is the cleaned transaction history?") is None
    assert DRIFT.search("where is the cleaned transaction history?") is None
