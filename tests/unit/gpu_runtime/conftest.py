"""Small fitted models shared by the serving unit tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

FEATURES = ["f0", "f1", "f2", "f3"]


@pytest.fixture(scope="session")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.normal(size=(400, len(FEATURES))), columns=FEATURES)
    df["churned"] = ((df["f0"] + 0.5 * df["f1"]) > 0).astype(int)
    return df


@pytest.fixture(scope="session")
def classifier(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[FEATURES], frame["churned"])
