"""The churn example data: shape, time span, stationarity, label signal, and the example workspace layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import Conflict, InvalidInput
from shipyard.examples.churn import (
    ACTIVITY_FEATURES,
    PROFILE_FEATURES,
    create_example_workspace,
    generate_churn_data,
    locate_examples_dir,
    snapshot_times,
)

END = datetime(2025, 6, 1, tzinfo=UTC)
N = 4000
FEATURES = [*PROFILE_FEATURES, *ACTIVITY_FEATURES]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("churn") / "data"
    generate_churn_data(out, customers=N, seed=7, end=END)
    return out


@pytest.fixture(scope="module")
def snapshots(data_dir: Path) -> pd.DataFrame:
    """Both feature views side by side, one row per customer and snapshot."""
    return _read(data_dir, "customer_profile").merge(
        _read(data_dir, "customer_activity"), on=["customer_id", "event_timestamp", "created"]
    )


def _read(data_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(data_dir / f"{name}.parquet")


def _label_frame(data_dir: Path) -> pd.DataFrame:
    keys = ["customer_id", "event_timestamp"]
    return (
        _read(data_dir, "labels")
        .merge(_read(data_dir, "customer_profile"), on=keys)
        .merge(_read(data_dir, "customer_activity"), on=keys)
    )


def test_tables_have_the_documented_shape(data_dir: Path) -> None:
    customers = _read(data_dir, "customers")
    assert len(customers) == N and customers["customer_id"].is_unique
    assert customers["customer_id"].dtype == np.int64
    snapshots = len(snapshot_times(END))
    for view, features in (("customer_profile", PROFILE_FEATURES), ("customer_activity", ACTIVITY_FEATURES)):
        frame = _read(data_dir, view)
        assert list(frame.columns) == ["customer_id", "event_timestamp", "created", *features]
        assert len(frame) == N * snapshots
        assert not frame.isna().any().any()
        for name in features:
            assert frame[name].dtype in (np.int64, np.float32), name
    labels = _read(data_dir, "labels")
    assert list(labels.columns) == ["customer_id", "event_timestamp", "churned"]
    assert len(labels) == N and labels["customer_id"].is_unique
    assert str(labels["event_timestamp"].dtype) == "datetime64[ns, UTC]"
    assert set(labels["churned"].unique()) == {0, 1}
    assert labels["churned"].dtype == np.int64
    assert 0.05 < labels["churned"].mean() < 0.25
    transactions = _read(data_dir, "transactions")
    assert {"transaction_id", "customer_id", "ts", "amount", "refund_flag"} <= set(transactions.columns)
    assert transactions["refund_flag"].dtype == bool and 0 < transactions["refund_flag"].mean() < 0.2
    assert (transactions["amount"] > 0).all()
    assert set(transactions["customer_id"]) <= set(customers["customer_id"])


def test_time_span_is_twelve_months_of_monthly_snapshots(data_dir: Path) -> None:
    transactions = _read(data_dir, "transactions")
    assert transactions["ts"].min() >= END - timedelta(days=360)
    assert transactions["ts"].max() < END
    assert transactions["ts"].max() - transactions["ts"].min() > timedelta(days=355)
    times = sorted(_read(data_dir, "customer_activity")["event_timestamp"].unique())
    assert times[-1] == END
    assert {b - a for a, b in zip(times, times[1:], strict=False)} == {timedelta(days=30)}
    labels = _read(data_dir, "labels")
    # every label has a full 30-day outcome window before the data ends
    assert labels["event_timestamp"].max() <= END - timedelta(days=30)
    assert set(labels["event_timestamp"]) <= set(times)


def test_snapshot_features_are_computed_from_the_transactions(data_dir: Path) -> None:
    transactions = _read(data_dir, "transactions")
    activity = _read(data_dir, "customer_activity")
    at = activity["event_timestamp"].max() - timedelta(days=90)
    window = transactions[(transactions["ts"] >= at - timedelta(days=30)) & (transactions["ts"] < at)]
    expected = window.groupby("customer_id").size()
    got = activity[activity["event_timestamp"] == at].set_index("customer_id")["txn_count_30d"]
    assert got.loc[expected.index].tolist() == expected.tolist()
    assert (got.drop(expected.index) == 0).all()
    refunds = window[window["refund_flag"]].groupby("customer_id").size()
    got_refunds = activity[activity["event_timestamp"] == at].set_index("customer_id")["refunds_30d"]
    assert got_refunds.loc[refunds.index].tolist() == refunds.tolist()


@pytest.mark.parametrize("feature", FEATURES)
def test_feature_means_do_not_move_from_month_to_month(snapshots: pd.DataFrame, feature: str) -> None:
    frame = snapshots
    monthly = frame.groupby("event_timestamp")[feature].mean()
    sd = float(frame[feature].std()) or 1.0
    # month means are means of N draws from one distribution: within 5 standard errors of the pooled mean
    assert (monthly - frame[feature].mean()).abs().max() <= 5 * sd / np.sqrt(N) + 1e-6
    slope = np.polyfit(np.arange(len(monthly)), monthly.to_numpy(dtype=float), 1)[0]
    assert abs(slope) * len(monthly) <= 5 * sd / np.sqrt(N) + 1e-6


@pytest.mark.parametrize("feature", FEATURES)
def test_pooled_training_rows_match_the_latest_snapshot(
    data_dir: Path, snapshots: pd.DataFrame, feature: str
) -> None:
    from scipy.stats import ks_2samp

    pooled = _label_frame(data_dir)[feature]
    latest = snapshots[snapshots["event_timestamp"] == END][feature]
    assert ks_2samp(pooled, latest).pvalue > 0.001


def test_labels_carry_signal_a_logistic_regression_can_find(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    generate_churn_data(tmp_path, customers=12_000, seed=3, end=END)
    frame = _label_frame(tmp_path)
    x, y = frame[FEATURES].to_numpy(dtype=float), frame["churned"].to_numpy()
    half = len(frame) // 2
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x[:half], y[:half])
    auc = roc_auc_score(y[half:], model.predict_proba(x[half:])[:, 1])
    assert 0.74 <= auc <= 0.88


def test_same_inputs_same_data_and_a_new_seed_changes_it(tmp_path: Path) -> None:
    first = generate_churn_data(tmp_path / "a", customers=300, seed=1, end=END)
    second = generate_churn_data(tmp_path / "b", customers=300, seed=1, end=END)
    third = generate_churn_data(tmp_path / "c", customers=300, seed=2, end=END)
    for name in first.files:
        pd.testing.assert_frame_equal(_read(first.out_dir, name), _read(second.out_dir, name))
    assert not _read(first.out_dir, "labels").equals(_read(third.out_dir, "labels"))


def test_end_defaults_to_today_and_naive_end_means_utc(tmp_path: Path) -> None:
    summary = generate_churn_data(tmp_path / "a", customers=50)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert summary.end in (today, today - timedelta(days=1))  # a run across midnight
    naive = generate_churn_data(tmp_path / "b", customers=50, end=datetime(2025, 6, 1, 15, 30))
    assert naive.end == END and naive.start == END - timedelta(days=360)


def test_summary_counts_match_the_files(tmp_path: Path) -> None:
    summary = generate_churn_data(tmp_path, customers=200, end=END)
    assert summary.customers == 200 and summary.label_rows == 200
    assert summary.transactions == len(_read(tmp_path, "transactions"))
    assert summary.support_tickets == len(_read(tmp_path, "support_tickets"))
    assert summary.snapshots == len(snapshot_times(END))
    assert set(summary.files) == {
        "customers",
        "transactions",
        "support_tickets",
        "customer_profile",
        "customer_activity",
        "labels",
    }
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("customers", [-5, 0, 9])
def test_too_few_customers_is_bad_input(tmp_path: Path, customers: int) -> None:
    with pytest.raises(InvalidInput, match="customers"):
        generate_churn_data(tmp_path, customers=customers)
    assert not (tmp_path / "labels.parquet").exists()


def test_examples_dir_is_the_repository_folder_in_an_editable_install() -> None:
    import shipyard

    found = locate_examples_dir()
    assert (found / "churn" / "features" / "feature_store.yaml").is_file()
    assert found == Path(shipyard.__file__).resolve().parents[1] / "examples"


def test_example_workspace_layout(tmp_path: Path) -> None:
    root = create_example_workspace(tmp_path / "ws", customers=100)
    assert (root / "features" / "feature_store.yaml").is_file()
    assert (root / "features" / "definitions.py").is_file()
    assert not list((root / "features").rglob("__pycache__"))
    assert (root / "data" / "labels.parquet").is_file()
    assert 'name = "churn"' in (root / "shipyard.toml").read_text()
    if (locate_examples_dir() / "churn" / "train.ipynb").is_file():
        assert (root / "notebooks" / "train.ipynb").is_file()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".shipyard-example")) == []


def test_example_workspace_keeps_an_existing_config(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "shipyard.toml").write_text('[project]\nname = "mine"\n')
    create_example_workspace(root, customers=50)
    assert (root / "shipyard.toml").read_text() == '[project]\nname = "mine"\n'


@pytest.mark.parametrize("existing", ["features", "data"])
def test_example_workspace_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    root = tmp_path / "ws"
    (root / existing).mkdir(parents=True)
    with pytest.raises(Conflict, match=existing):
        create_example_workspace(root, customers=50)
    assert sorted(p.name for p in root.iterdir()) == [existing]
