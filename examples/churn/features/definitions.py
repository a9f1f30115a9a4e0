"""Feast definitions of the churn example: one entity, two feature views, one feature service.

The Parquet snapshots live in the workspace's ``data/`` folder, a sibling of this repository; the path is
resolved from this file, not from the working directory, so apply works from anywhere.
"""

from datetime import timedelta
from pathlib import Path

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float32, Int64

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
# Snapshots are monthly; a label may sit up to a month after the snapshot it should see.
SNAPSHOT_TTL = timedelta(days=45)

customer = Entity(
    name="customer",
    join_keys=["customer_id"],
    value_type=ValueType.INT64,
    description="A subscriber of the store (customers.parquet).",
    owner="growth-analytics",
)

customer_profile_source = FileSource(
    name="customer_profile_source",
    path=str(DATA_DIR / "customer_profile.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
    description="Monthly snapshot of each customer's plan, contract and billing settings.",
)

customer_activity_source = FileSource(
    name="customer_activity_source",
    path=str(DATA_DIR / "customer_activity.parquet"),
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
    description="Monthly snapshot of purchases, refunds and support tickets over trailing 30/60-day windows.",
)

customer_profile = FeatureView(
    name="customer_profile",
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=[
        Field(name="monthly_charge", dtype=Float32, description="Plan price plus add-ons, per month."),
        Field(name="plan_tier", dtype=Int64, description="0 basic, 1 standard, 2 premium."),
        Field(name="contract_annual", dtype=Int64, description="1 for an annual contract, 0 month-to-month."),
        Field(name="months_to_renewal", dtype=Int64, description="Months until an annual contract renews."),
        Field(name="paperless_billing", dtype=Int64, description="1 if invoices are e-mailed only."),
        Field(name="autopay", dtype=Int64, description="1 if the customer pays automatically."),
    ],
    source=customer_profile_source,
    online=True,
    owner="growth-analytics",
    # Data-quality gate: checked on the source rows before every materialization (see shipyard.features.quality).
    tags={
        "team": "growth",
        "domain": "billing",
        "quality.monthly_charge": "not_null; range=0..",
        "quality.plan_tier": "not_null; allowed=0|1|2",
        "quality.contract_annual": "allowed=0|1",
    },
    description="Who the customer is and what they pay.",
)

customer_activity = FeatureView(
    name="customer_activity",
    entities=[customer],
    ttl=SNAPSHOT_TTL,
    schema=[
        Field(name="txn_count_30d", dtype=Int64, description="Purchases in the last 30 days."),
        Field(name="txn_count_prev_30d", dtype=Int64, description="Purchases in the 30 days before that."),
        Field(name="activity_trend", dtype=Float32, description="(last 30d + 1) / (previous 30d + 1)."),
        Field(
            name="days_since_last_txn",
            dtype=Int64,
            description="Days since the last purchase (capped at 60).",
        ),
        Field(name="refunds_30d", dtype=Int64, description="Refunded purchases in the last 30 days."),
        Field(
            name="refund_rate_60d", dtype=Float32, description="Share of purchases refunded, last 60 days."
        ),
        Field(
            name="support_tickets_30d", dtype=Int64, description="Support tickets opened in the last 30 days."
        ),
        Field(name="spend_30d", dtype=Float32, description="Spend net of refunds in the last 30 days."),
        Field(name="avg_order_value_30d", dtype=Float32, description="Mean purchase amount, last 30 days."),
    ],
    source=customer_activity_source,
    online=True,
    owner="growth-analytics",
    tags={
        "team": "growth",
        "domain": "engagement",
        "quality.txn_count_30d": "not_null; range=0..",
        "quality.refund_rate_60d": "range=0..1",
    },
    description="How the customer has been using the store lately.",
)

churn_v1 = FeatureService(
    name="churn_v1",
    features=[customer_profile, customer_activity],
    owner="growth-analytics",
    tags={"model": "churn"},
    description="Every feature the churn model uses.",
)
