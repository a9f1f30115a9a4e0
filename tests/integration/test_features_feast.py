"""The feature service on real Feast (file offline store, SQLite online store) over the churn example data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, NotFound
from shipyard.examples.churn import ACTIVITY_FEATURES, PROFILE_FEATURES, create_example_workspace
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration

CUSTOMERS = 2000
FEATURES = [*PROFILE_FEATURES, *ACTIVITY_FEATURES]
KEYS = ["customer_id", "event_timestamp"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = create_example_workspace(tmp_path_factory.mktemp("features") / "ws", customers=CUSTOMERS)
    workspace = Workspace.open(root)
    workspace.features.apply()
    workspace.features.materialize()
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def snapshots(ws: Workspace) -> pd.DataFrame:
    data = ws.root / "data"
    profile = pd.read_parquet(data / "customer_profile.parquet")
    activity = pd.read_parquet(data / "customer_activity.parquet")
    return profile.merge(activity.drop(columns=["created"]), on=KEYS).drop(columns=["created"])


def _snapshot(snapshots: pd.DataFrame, customer_id: int, at: pd.Timestamp) -> pd.Series:
    rows = snapshots[(snapshots["customer_id"] == customer_id) & (snapshots["event_timestamp"] == at)]
    assert len(rows) == 1
    return rows.iloc[0]


# -- registry -------------------------------------------------------------------------------------------------
def test_apply_registers_the_example_and_is_idempotent(ws: Workspace) -> None:
    result = ws.features.apply()
    assert result.entities == ["customer"]
    assert result.feature_views == ["customer_activity", "customer_profile"]
    assert result.feature_services == ["churn_v1"]
    assert (ws.state_dir / "feast" / "registry.db").is_file()
    assert (ws.state_dir / "feast" / "online.db").is_file()


def test_feature_views_are_listed_with_their_features_and_source(ws: Workspace) -> None:
    views = {v.name: v for v in ws.features.list_feature_views()}
    assert list(views) == ["customer_activity", "customer_profile"]
    assert views["customer_profile"].features == list(PROFILE_FEATURES)
    assert views["customer_activity"].entities == ["customer"]
    assert views["customer_activity"].ttl_s == 45 * 86400
    assert views["customer_activity"].source == str(ws.root / "data" / "customer_activity.parquet")


def test_feature_refs_of_the_service_are_ordered_view_feature_pairs(ws: Workspace) -> None:
    refs = ws.features.feature_refs("churn_v1")
    assert refs == [f"customer_profile:{f}" for f in PROFILE_FEATURES] + [
        f"customer_activity:{f}" for f in ACTIVITY_FEATURES
    ]


# -- training frames ------------------------------------------------------------------------------------------
def test_training_frame_for_every_label_keeps_order_and_matches_the_snapshots(
    ws: Workspace, snapshots: pd.DataFrame
) -> None:
    labels = pd.read_parquet(ws.root / "data" / "labels.parquet").sample(frac=1.0, random_state=3)
    frame = ws.features.training_frame(labels, "churn_v1")
    assert list(frame.columns) == ["customer_id", "event_timestamp", "churned", *FEATURES]
    assert frame["customer_id"].tolist() == labels["customer_id"].tolist()
    assert frame["churned"].tolist() == labels["churned"].tolist()
    assert not frame[FEATURES].isna().any().any()
    expected = labels.merge(snapshots, on=KEYS, how="left")
    np.testing.assert_allclose(frame[FEATURES].to_numpy(float), expected[FEATURES].to_numpy(float), rtol=1e-6)


def test_training_frame_is_point_in_time_correct(ws: Workspace, snapshots: pd.DataFrame) -> None:
    times = sorted(snapshots["event_timestamp"].unique())
    cid = int(snapshots["customer_id"].iloc[7])
    entity_df = pd.DataFrame(
        {
            "customer_id": [cid] * 5,
            "event_timestamp": [
                times[3],  # exactly at a snapshot: sees it
                times[3] - timedelta(seconds=1),  # a moment before: sees the previous one only
                times[3] + timedelta(days=29),  # within the month: still that snapshot
                times[0] - timedelta(seconds=1),  # before any data: nothing
                times[-1] + timedelta(days=46),  # past the 45-day TTL of the last snapshot: nothing
            ],
        }
    )
    frame = ws.features.training_frame(entity_df, "churn_v1")
    at3, at2 = _snapshot(snapshots, cid, times[3]), _snapshot(snapshots, cid, times[2])
    assert frame.loc[0, "spend_30d"] == pytest.approx(at3["spend_30d"])
    assert frame.loc[1, "spend_30d"] == pytest.approx(at2["spend_30d"])
    assert frame.loc[1, "txn_count_30d"] == at2["txn_count_30d"]
    assert frame.loc[2, "spend_30d"] == pytest.approx(at3["spend_30d"])
    assert frame.loc[3, FEATURES].isna().all()
    assert frame.loc[4, FEATURES].isna().all()


def test_training_frame_answers_repeated_and_unanswerable_rows_too(
    ws: Workspace, snapshots: pd.DataFrame
) -> None:
    times = sorted(snapshots["event_timestamp"].unique())
    cid = int(snapshots["customer_id"].iloc[0])
    entity_df = pd.DataFrame(
        {
            "customer_id": [cid, -5, cid],
            "event_timestamp": [times[5], times[5], times[5]],
            "note": ["a", "b", "c"],
        }
    )
    frame = ws.features.training_frame(entity_df, "churn_v1")
    assert frame["note"].tolist() == ["a", "b", "c"]
    assert frame.loc[0, FEATURES].tolist() == frame.loc[2, FEATURES].tolist()
    assert frame.loc[0, "spend_30d"] == pytest.approx(_snapshot(snapshots, cid, times[5])["spend_30d"])
    assert frame.loc[1, FEATURES].isna().all()


@pytest.mark.parametrize("zone", [None, "UTC", "America/New_York"])
def test_training_frame_takes_any_time_zone_and_leaves_the_input_and_store_as_they_were(
    ws: Workspace, snapshots: pd.DataFrame, zone: str | None
) -> None:
    labels = pd.read_parquet(ws.root / "data" / "labels.parquet").head(300)
    stamps = labels["event_timestamp"]
    labels["event_timestamp"] = stamps.dt.tz_convert(zone) if zone else stamps.dt.tz_localize(None)
    before = labels.copy()
    frame = ws.features.training_frame(labels, "churn_v1")
    pd.testing.assert_frame_equal(labels, before)  # the caller's frame, zone included, is untouched
    assert ws.features.store.config.coerce_tz_aware is True  # Feast's own setting is restored after the call
    assert str(frame["event_timestamp"].dtype) == "datetime64[ns, UTC]"
    expected = labels.assign(event_timestamp=stamps).merge(snapshots, on=KEYS, how="left")
    np.testing.assert_allclose(frame[FEATURES].to_numpy(float), expected[FEATURES].to_numpy(float), rtol=1e-6)


@pytest.mark.parametrize("days_later", [0, 400], ids=["all answered", "some past the TTL"])
def test_training_frame_has_the_values_of_raw_feast(ws: Workspace, days_later: int) -> None:
    labels = pd.read_parquet(ws.root / "data" / "labels.parquet").sample(n=500, random_state=5)
    later = labels.index[::2]  # every other row: past the last snapshot's 45-day TTL when days_later > 45
    labels.loc[later, "event_timestamp"] += pd.Timedelta(days=days_later)
    refs = ws.features.feature_refs("churn_v1")
    raw = ws.features.store.get_historical_features(entity_df=labels, features=refs).to_df()
    frame = ws.features.training_frame(labels, "churn_v1")
    assert frame["customer_id"].tolist() == labels["customer_id"].tolist()
    expected = labels.merge(raw, on=[*KEYS, "churned"], how="left")
    assert frame[FEATURES].isna().any().any() == (days_later > 0)
    pd.testing.assert_frame_equal(frame[FEATURES], expected[FEATURES], check_dtype=False)


# -- online ---------------------------------------------------------------------------------------------------
def test_online_values_are_the_latest_snapshot_in_request_order(
    ws: Workspace, snapshots: pd.DataFrame
) -> None:
    latest = snapshots[snapshots["event_timestamp"] == snapshots["event_timestamp"].max()]
    ids = [int(x) for x in latest["customer_id"].iloc[[11, 3, 42]]]
    refs = ws.features.feature_refs("churn_v1")
    rows = [{"customer_id": ids[0]}, {"customer_id": -1}, {"customer_id": ids[1]}, {"customer_id": ids[2]}]
    frame = ws.features.online_features(rows, refs)
    assert list(frame.columns) == ["customer_id", *FEATURES]
    assert frame["customer_id"].tolist() == [ids[0], -1, ids[1], ids[2]]
    assert frame.loc[1, FEATURES].isna().all()
    expected = latest.set_index("customer_id").loc[[ids[0], ids[1], ids[2]], FEATURES]
    np.testing.assert_allclose(
        frame.loc[[0, 2, 3], FEATURES].to_numpy(float), expected.to_numpy(float), rtol=1e-6
    )
    assert all(frame[f].dtype == np.float64 for f in FEATURES)


def test_online_features_accept_any_subset_in_any_order(ws: Workspace) -> None:
    refs = ["customer_activity:spend_30d", "customer_profile:plan_tier"]
    frame = ws.features.online_features([{"customer_id": 100_001}], refs)
    assert list(frame.columns) == ["customer_id", "spend_30d", "plan_tier"]
    as_text = ws.features.online_features([{"customer_id": "100001"}], refs)  # e.g. from a query string
    pd.testing.assert_frame_equal(as_text, frame)
    assert ws.features.online_features([], refs).empty


def test_write_online_changes_the_value_and_incremental_materialize_keeps_it(ws: Workspace) -> None:
    refs = [f"customer_activity:{f}" for f in ACTIVITY_FEATURES]
    rows = [{"customer_id": 100_010}, {"customer_id": 100_011}]
    before = ws.features.online_features(rows, refs)
    shifted = before.copy()
    shifted["spend_30d"] = shifted["spend_30d"] * 10 + 1
    shifted["event_timestamp"] = datetime.now(UTC)
    assert ws.features.write_online("customer_activity", shifted.iloc[[0]]) == 1
    ws.features.materialize()
    after = ws.features.online_features(rows, refs)
    assert after.loc[0, "spend_30d"] == pytest.approx(shifted.loc[0, "spend_30d"], rel=1e-6)
    assert after.loc[1, "spend_30d"] == before.loc[1, "spend_30d"]
    assert after.loc[0, "txn_count_30d"] == before.loc[0, "txn_count_30d"]


def test_feast_progress_never_reaches_stdout(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws.features.apply()
    ws.features.materialize()
    assert capsys.readouterr().out == ""


# -- bad input ------------------------------------------------------------------------------------------------
def _labels(ws: Workspace) -> pd.DataFrame:
    return pd.read_parquet(ws.root / "data" / "labels.parquet").head(5)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda ws: ws.features.feature_refs("churn_v9"), NotFound, "feature service 'churn_v9'.*churn_v1"),
        (lambda ws: ws.features.training_frame(_labels(ws), "churn_v9"), NotFound, "churn_v9"),
        (
            lambda ws: ws.features.training_frame(_labels(ws).drop(columns=["customer_id"]), "churn_v1"),
            InvalidInput,
            "missing column 'customer_id'",
        ),
        (
            lambda ws: ws.features.training_frame(_labels(ws).drop(columns=["event_timestamp"]), "churn_v1"),
            InvalidInput,
            "missing column 'event_timestamp'",
        ),
        (
            lambda ws: ws.features.training_frame(_labels(ws).assign(spend_30d=1.0), "churn_v1"),
            InvalidInput,
            "spend_30d clash with features",
        ),
        (
            lambda ws: ws.features.online_features([{"customer_id": 1}], ["customer_stats:ltv_90d"]),
            NotFound,
            "no feature view 'customer_stats'",
        ),
        (
            lambda ws: ws.features.online_features([{"customer_id": 1}], ["ltv_90d"]),
            InvalidInput,
            "'view:feature'",
        ),
        (
            lambda ws: ws.features.online_features([{"id": 1}], ["customer_profile:plan_tier"]),
            InvalidInput,
            "entity row 0 is missing 'customer_id'",
        ),
        (
            lambda ws: ws.features.write_online("customer_stats", pd.DataFrame({"customer_id": [1]})),
            NotFound,
            "feature view 'customer_stats'",
        ),
        (
            lambda ws: ws.features.write_online(
                "customer_profile", pd.DataFrame({"customer_id": [1], "event_timestamp": [datetime.now(UTC)]})
            ),
            InvalidInput,
            r"missing column\(s\) monthly_charge",
        ),
        (
            lambda ws: ws.features.materialize(
                datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
            ),
            InvalidInput,
            "is after end",
        ),
    ],
    ids=[
        "unknown-service-refs",
        "unknown-service-frame",
        "entity-df-no-key",
        "entity-df-no-timestamp",
        "entity-df-feature-clash",
        "unknown-view",
        "ref-without-view",
        "row-without-key",
        "write-unknown-view",
        "write-missing-features",
        "materialize-backwards",
    ],
)
def test_bad_input_is_rejected_with_a_message_that_names_it(
    ws: Workspace, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(ws)


def test_a_fresh_workspace_must_apply_before_materializing(tmp_path: Path) -> None:
    root = create_example_workspace(tmp_path / "ws", customers=50)
    with Workspace.open(root) as fresh:
        with pytest.raises(NotFound, match="apply"):
            fresh.features.materialize()


def test_apply_names_a_missing_data_file(tmp_path: Path) -> None:
    root = create_example_workspace(tmp_path / "ws", customers=50)
    (root / "data" / "customer_activity.parquet").unlink()
    with Workspace.open(root) as broken:
        with pytest.raises(
            InvalidInput, match=r"customer_activity.*customer_activity\.parquet does not exist"
        ):
            broken.features.apply()


def test_a_workspace_without_a_feature_repo_says_where_it_looked(tmp_path: Path) -> None:
    root = create_example_workspace(tmp_path / "ws", customers=50)
    (root / "features" / "feature_store.yaml").unlink()
    with Workspace.open(root) as broken:
        with pytest.raises(NotFound, match=f"no feature_store.yaml in {root / 'features'}"):
            broken.features.apply()


def test_apply_deletes_what_the_repo_no_longer_defines(tmp_path: Path) -> None:
    root = create_example_workspace(tmp_path / "ws", customers=50)
    with Workspace.open(root) as edited:
        assert edited.features.apply().feature_services == ["churn_v1"]
        definitions = root / "features" / "definitions.py"
        source = definitions.read_text()
        definitions.write_text(source[: source.index("churn_v1 = FeatureService(")])
        assert edited.features.apply().feature_services == []
        with pytest.raises(NotFound, match="churn_v1"):
            edited.features.feature_refs("churn_v1")


def _feast_dict(ws: Workspace, rows: list[dict[str, Any]], refs: list[str]) -> dict[str, list[Any]]:
    answer = ws.features.store.get_online_features(features=refs, entity_rows=rows).to_dict()
    return {ref.split(":", 1)[1]: answer[ref.split(":", 1)[1]] for ref in refs}


def test_direct_online_read_matches_feast_get_online_features(ws: Workspace) -> None:
    from shipyard.features.online_read import read_online

    refs = ws.features.feature_refs("churn_v1")
    assert len({r.split(":")[0] for r in refs}) == 2  # two views: one read each, merged per row
    # Known, unknown and repeated customers, out of order.
    rows = [{"customer_id": c} for c in (100_007, 5, 100_001, 100_007, 100_000 + CUSTOMERS + 50, 100_002)]
    views = {v.name: v for v in ws.features.store.list_feature_views()}
    direct = read_online(ws.features.store, views, refs, rows)
    assert direct == _feast_dict(ws, rows, refs)
    assert any(v is not None for v in direct[refs[0].split(":")[1]])
    assert all(direct[name][1] is None for name in direct)  # customer 5 does not exist
