"""The churn example: a synthetic subscription business whose customers shop, ask for refunds and open tickets.

The simulation is built so the demo can trust two properties:

* **Signal.** Whether a customer churns in the 30 days after a snapshot depends on a falling activity trend,
  low engagement, dissatisfaction (visible as refunds and support tickets), a month-to-month contract or an
  annual contract due for renewal, the monthly charge and autopay. The snapshot features see these only
  through noisy counts, so a logistic regression reaches an AUC of about 0.8, not 1.0.
* **Stationarity.** Every latent process (engagement, dissatisfaction) is a mean-reverting AR(1) started in
  its stationary distribution, renewal phases are uniform and label months are drawn independently of the
  process. So the distribution of every feature is the same in each monthly snapshot, and the pooled
  training frame matches the latest online values: no drift unless someone shifts the traffic. That is also
  why there is no tenure feature (it grows with time); ``months_to_renewal`` cycles instead. For the same
  reason the outcome does not feed back into the process: a churned customer's later activity is kept.

numpy and pandas are imported inside the functions so ``import shipyard.examples`` stays light.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

PERIOD = timedelta(days=30)
PERIODS = 12  # transactions span 12 periods of 30 days before ``end``
FIRST_SNAPSHOT_PERIOD = 2  # snapshot k sits at the end of period k + 1, so a 60-day window always has data
SNAPSHOTS = PERIODS - FIRST_SNAPSHOT_PERIOD + 1  # 11 monthly snapshots, the last one at ``end``
LABELLED_SNAPSHOTS = SNAPSHOTS - 1  # the last snapshot has no 30-day future yet
FIRST_CUSTOMER_ID = 100_000
DAYS_SINCE_CAP = 60
PLAN_BASE_CHARGE = (19.99, 39.99, 69.99)
# churn log-odds: chosen so a logistic regression on the snapshot features reaches an AUC near 0.8
COEF = {
    "intercept": -3.3,
    "trend": 1.5,
    "engagement": 1.0,
    "dissatisfaction": 0.6,
    "tickets": 0.6,
    "refunds": 0.35,
    "monthly": 0.9,
    "due": 1.0,
    "charge": 0.02,
    "autopay": 0.4,
}

PROFILE_FEATURES = (
    "monthly_charge",
    "plan_tier",
    "contract_annual",
    "months_to_renewal",
    "paperless_billing",
    "autopay",
)
ACTIVITY_FEATURES = (
    "txn_count_30d",
    "txn_count_prev_30d",
    "activity_trend",
    "days_since_last_txn",
    "refunds_30d",
    "refund_rate_60d",
    "support_tickets_30d",
    "spend_30d",
    "avg_order_value_30d",
)


@dataclass(frozen=True)
class ChurnDataSummary:
    """What ``generate_churn_data`` wrote."""

    out_dir: Path
    customers: int
    transactions: int
    support_tickets: int
    snapshots: int
    label_rows: int
    churn_rate: float
    start: datetime
    end: datetime
    duration_s: float
    files: dict[str, Path] = field(default_factory=dict)


def generate_churn_data(
    out_dir: Path, customers: int = 50_000, seed: int = 7, end: datetime | None = None
) -> ChurnDataSummary:
    """Simulate the churn business and write its Parquet tables into ``out_dir``; same seed and end, same data."""
    import numpy as np

    if customers < 10:
        raise InvalidInput(f"customers={customers}: the churn example needs at least 10 customers")
    started = time.perf_counter()
    end = _normalise_end(end)
    start = end - PERIODS * PERIOD
    rng = np.random.default_rng(seed)

    customers_df, latent = _simulate_customers(rng, customers, start)
    transactions = _simulate_transactions(rng, customers_df, latent, start)
    tickets = _simulate_tickets(rng, customers_df, latent, start)
    profile, activity = _snapshot_features(customers_df, transactions, tickets, start)
    labels = _simulate_labels(rng, customers_df, latent, activity, start)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = {
        "customers": customers_df,
        "transactions": transactions,
        "support_tickets": tickets,
        "customer_profile": profile,
        "customer_activity": activity,
        "labels": labels,
    }
    files = {name: _write_parquet(df, out_dir / f"{name}.parquet") for name, df in tables.items()}
    return ChurnDataSummary(
        out_dir=out_dir,
        customers=customers,
        transactions=len(transactions),
        support_tickets=len(tickets),
        snapshots=SNAPSHOTS,
        label_rows=len(labels),
        churn_rate=float(labels["churned"].mean()),
        start=start,
        end=end,
        duration_s=round(time.perf_counter() - started, 3),
        files=files,
    )


def snapshot_times(end: datetime) -> list[datetime]:
    """The event timestamps of the monthly feature snapshots for data that ends at ``end``."""
    end = _normalise_end(end)
    start = end - PERIODS * PERIOD
    return [start + (k + FIRST_SNAPSHOT_PERIOD) * PERIOD for k in range(SNAPSHOTS)]


def locate_examples_dir() -> Path:
    """The ``examples/`` folder: the repository's in an editable install, else the copy inside the wheel."""
    import shipyard

    package_dir = Path(shipyard.__file__).resolve().parent
    for candidate in (package_dir.parent / "examples", package_dir / "_examples"):
        if (candidate / "churn" / "features" / "feature_store.yaml").is_file():
            return candidate
    raise NotFound(
        f"no examples folder next to {package_dir} (looked for ../examples and _examples); "
        "reinstall shipyard (`pip install -e .` from the repository, or the wheel)"
    )


def create_example_workspace(root: Path, customers: int = 50_000, seed: int = 7) -> Path:
    """Lay out the churn example in ``root``: Feast repo, notebook, generated data and ``shipyard.toml``."""
    from shipyard.config import CONFIG_FILENAME, default_toml

    root = Path(root).expanduser().resolve()
    source = locate_examples_dir() / "churn"
    notebook = source / "train.ipynb"
    targets = [root / "features", root / "data"]
    if notebook.is_file():
        targets.append(root / "notebooks" / "train.ipynb")
    for target in targets:
        if target.exists():
            raise Conflict(f"{target} already exists; choose an empty folder or remove it first")

    root.mkdir(parents=True, exist_ok=True)
    # Build everything in a sibling temp dir, then rename into place, so a failure leaves no half workspace.
    staging = Path(tempfile.mkdtemp(prefix=".shipyard-example-", dir=root))
    try:
        shutil.copytree(
            source / "features", staging / "features", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        generate_churn_data(staging / "data", customers=customers, seed=seed)
        if notebook.is_file():
            (staging / "notebooks").mkdir()
            shutil.copy2(notebook, staging / "notebooks" / "train.ipynb")
        os.replace(staging / "features", root / "features")
        os.replace(staging / "data", root / "data")
        if notebook.is_file():
            (root / "notebooks").mkdir(exist_ok=True)
            os.replace(staging / "notebooks" / "train.ipynb", root / "notebooks" / "train.ipynb")
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    config = root / CONFIG_FILENAME
    if not config.exists():
        _write_text_atomic(config, default_toml("churn"))
    return root


# -- simulation -------------------------------------------------------------------------------------------
def _simulate_customers(
    rng: np.random.Generator, n: int, start: datetime
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    import numpy as np
    import pandas as pd

    plan = rng.choice(3, size=n, p=[0.45, 0.35, 0.20])
    addons = rng.choice([0.0, 5.0, 10.0, 15.0], size=n, p=[0.5, 0.25, 0.15, 0.10])
    charge = (np.asarray(PLAN_BASE_CHARGE)[plan] + addons).round(2)
    annual = rng.random(n) < np.asarray([0.25, 0.40, 0.55])[plan]
    signup_days = 30 + rng.exponential(700.0, size=n).astype(np.int64)
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(FIRST_CUSTOMER_ID, FIRST_CUSTOMER_ID + n, dtype=np.int64),
            "signup_date": (pd.Timestamp(start) - pd.to_timedelta(signup_days, unit="D")).normalize(),
            "region": pd.Categorical.from_codes(
                rng.choice(5, size=n, p=[0.3, 0.2, 0.2, 0.2, 0.1]),
                ["north", "south", "east", "west", "central"],
            ),
            "plan": pd.Categorical.from_codes(plan, ["basic", "standard", "premium"]),
            "plan_tier": plan.astype(np.int64),
            "contract": pd.Categorical.from_codes(annual.astype(np.int8), ["monthly", "annual"]),
            "renewal_month": rng.integers(0, 12, size=n).astype(np.int64),
            "monthly_charge": charge,
            "paperless_billing": rng.random(n) < 0.6,
            "autopay": rng.random(n) < 0.55,
        }
    )
    latent = {
        "engagement": _ar1(rng, n, rho=0.7, sd=0.5),
        # dissatisfaction = a persistent per-customer level + a mean-reverting monthly swing
        "dissatisfaction": rng.normal(0.0, 0.6, size=(n, 1)) + _ar1(rng, n, rho=0.5, sd=0.6),
        "base_rate": np.exp(np.log(4.0) + 0.25 * plan + rng.normal(0.0, 0.5, size=n)),
        "order_value_mu": np.log(35.0) + 0.3 * plan + rng.normal(0.0, 0.35, size=n),
    }
    return customers, latent


def _ar1(rng: np.random.Generator, n: int, *, rho: float, sd: float) -> np.ndarray:
    """``n`` AR(1) paths over PERIODS months, started in the stationary distribution (stationary sd ``sd``)."""
    import numpy as np

    innovation_sd = sd * np.sqrt(1.0 - rho**2)
    out = np.empty((n, PERIODS))
    out[:, 0] = rng.normal(0.0, sd, size=n)
    for p in range(1, PERIODS):
        out[:, p] = rho * out[:, p - 1] + rng.normal(0.0, innovation_sd, size=n)
    return out


def _expand_events(rng: np.random.Generator, counts: np.ndarray, start: datetime) -> tuple[np.ndarray, ...]:
    """Turn per-(customer, period) counts into one row per event with a uniform timestamp in its period."""
    import numpy as np

    cell = np.repeat(np.arange(counts.size), counts.ravel())
    row, period = np.divmod(cell, PERIODS)
    period_ns = PERIOD // timedelta(microseconds=1) * 1000
    start_ns = int(start.timestamp()) * 1_000_000_000
    ts = start_ns + period * period_ns + rng.integers(0, period_ns, size=cell.size)
    order = np.argsort(ts, kind="stable")
    return row[order], period[order], ts[order]


def _simulate_transactions(
    rng: np.random.Generator, customers: pd.DataFrame, latent: dict[str, np.ndarray], start: datetime
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    engagement = latent["engagement"]
    rate = latent["base_rate"][:, None] * np.exp(engagement - engagement.var() / 2)
    row, period, ts = _expand_events(rng, rng.poisson(rate), start)
    amount = np.exp(latent["order_value_mu"][row] + rng.normal(0.0, 0.55, size=row.size)).round(2)
    refund_p = 1.0 / (1.0 + np.exp(3.0 - 0.7 * latent["dissatisfaction"][row, period]))
    return pd.DataFrame(
        {
            "transaction_id": np.arange(1, row.size + 1, dtype=np.int64),
            "customer_id": customers["customer_id"].to_numpy()[row],
            "ts": pd.to_datetime(ts, unit="ns", utc=True),
            "amount": amount,
            "refund_flag": rng.random(row.size) < refund_p,
            "channel": pd.Categorical.from_codes(
                rng.choice(3, size=row.size, p=[0.5, 0.4, 0.1]), ["web", "app", "store"]
            ),
        }
    )


def _simulate_tickets(
    rng: np.random.Generator, customers: pd.DataFrame, latent: dict[str, np.ndarray], start: datetime
) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rate = 0.2 * np.exp(0.8 * latent["dissatisfaction"])
    row, _, ts = _expand_events(rng, rng.poisson(rate), start)
    return pd.DataFrame(
        {
            "ticket_id": np.arange(1, row.size + 1, dtype=np.int64),
            "customer_id": customers["customer_id"].to_numpy()[row],
            "opened_at": pd.to_datetime(ts, unit="ns", utc=True),
            "category": pd.Categorical.from_codes(
                rng.choice(4, size=row.size, p=[0.35, 0.3, 0.2, 0.15]),
                ["billing", "delivery", "product", "account"],
            ),
        }
    )


def _per_period(
    customers: pd.DataFrame, ids: pd.Series, ts: pd.Series, start: datetime
) -> tuple[np.ndarray, ...]:
    """Row index into ``customers`` and the 30-day period of each event, and the flat (row, period) cell."""
    import numpy as np
    import pandas as pd

    row = np.searchsorted(customers["customer_id"].to_numpy(), ids.to_numpy())
    period_ns = PERIOD // timedelta(microseconds=1) * 1000
    ts_ns = pd.DatetimeIndex(ts).as_unit("ns").asi8
    period = (ts_ns - int(start.timestamp()) * 1_000_000_000) // period_ns
    return row, period, row * PERIODS + period, ts_ns


def _snapshot_features(
    customers: pd.DataFrame, transactions: pd.DataFrame, tickets: pd.DataFrame, start: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute both feature views at every snapshot from the raw tables (not from the latent state)."""
    import numpy as np
    import pandas as pd

    n, cells = len(customers), len(customers) * PERIODS
    _, _, cell, ts_ns = _per_period(customers, transactions["customer_id"], transactions["ts"], start)
    refund = transactions["refund_flag"].to_numpy()
    amount = transactions["amount"].to_numpy()
    count = np.bincount(cell, minlength=cells).reshape(n, PERIODS)
    gross = np.bincount(cell, weights=amount, minlength=cells).reshape(n, PERIODS)
    net = np.bincount(cell, weights=np.where(refund, 0.0, amount), minlength=cells).reshape(n, PERIODS)
    refunds = np.bincount(cell, weights=refund, minlength=cells).reshape(n, PERIODS).astype(np.int64)
    last_flat = np.full(cells, -1, dtype=np.int64)
    np.maximum.at(last_flat, cell, ts_ns)
    last_ns = last_flat.reshape(n, PERIODS)
    _, _, ticket_cell, _ = _per_period(customers, tickets["customer_id"], tickets["opened_at"], start)
    ticket_count = np.bincount(ticket_cell, minlength=cells).reshape(n, PERIODS)

    k = np.arange(SNAPSHOTS)
    # ``cur`` is the period of the 30 days before each snapshot, ``prev`` the 30 days before that
    cur, prev = k + FIRST_SNAPSHOT_PERIOD - 1, k + FIRST_SNAPSHOT_PERIOD - 2
    at = pd.DatetimeIndex(snapshot_times(start + PERIODS * PERIOD))
    at_ns = at.as_unit("ns").asi8
    c30, cprev = count[:, cur], count[:, prev]
    last = np.maximum(last_ns[:, cur], last_ns[:, prev])
    days_since = np.where(last < 0, DAYS_SINCE_CAP, (at_ns[None, :] - last) // 86_400_000_000_000)

    def frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
        # snapshot-major order: all customers at snapshot 0, then snapshot 1, ...
        base = {
            "customer_id": np.tile(customers["customer_id"].to_numpy(), SNAPSHOTS),
            "event_timestamp": np.repeat(at, n),
            "created": np.repeat(at, n),
        }
        return pd.DataFrame(base | {name: values.T.ravel() for name, values in columns.items()})

    annual = (customers["contract"] == "annual").to_numpy()
    renewal = customers["renewal_month"].to_numpy()
    months_to_renewal = np.where(
        annual[:, None], (renewal[:, None] - (k[None, :] + FIRST_SNAPSHOT_PERIOD)) % 12, 0
    )
    ones = np.ones((1, SNAPSHOTS))
    profile = frame(
        {
            "monthly_charge": (customers["monthly_charge"].to_numpy()[:, None] * ones).astype(np.float32),
            "plan_tier": (customers["plan_tier"].to_numpy()[:, None] * ones).astype(np.int64),
            "contract_annual": (annual[:, None] * ones).astype(np.int64),
            "months_to_renewal": months_to_renewal.astype(np.int64),
            "paperless_billing": (customers["paperless_billing"].to_numpy()[:, None] * ones).astype(np.int64),
            "autopay": (customers["autopay"].to_numpy()[:, None] * ones).astype(np.int64),
        }
    )
    window_count = count[:, prev] + count[:, cur]
    window_refund_rate = (refunds[:, prev] + refunds[:, cur]) / np.maximum(window_count, 1)
    order_value = np.where(c30 > 0, gross[:, cur] / np.maximum(c30, 1), 0.0)
    activity = frame(
        {
            "txn_count_30d": c30.astype(np.int64),
            "txn_count_prev_30d": cprev.astype(np.int64),
            "activity_trend": ((c30 + 1) / (cprev + 1)).astype(np.float32),
            "days_since_last_txn": np.minimum(days_since, DAYS_SINCE_CAP).astype(np.int64),
            "refunds_30d": refunds[:, cur],
            "refund_rate_60d": window_refund_rate.astype(np.float32),
            "support_tickets_30d": ticket_count[:, cur].astype(np.int64),
            "spend_30d": net[:, cur].round(2).astype(np.float32),
            "avg_order_value_30d": order_value.astype(np.float32),
        }
    )
    return profile, activity


def _simulate_labels(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    latent: dict[str, np.ndarray],
    activity: pd.DataFrame,
    start: datetime,
) -> pd.DataFrame:
    """One label per customer at a random snapshot: did they churn in the 30 days after it?"""
    import numpy as np
    import pandas as pd

    n = len(customers)
    idx = np.arange(n)
    k = rng.integers(0, LABELLED_SNAPSHOTS, size=n)
    seen = activity.iloc[k * n + idx]  # what the customer lived through in the 30 days before the snapshot
    annual = (customers["contract"] == "annual").to_numpy()
    due = annual & ((customers["renewal_month"].to_numpy() - (k + FIRST_SNAPSHOT_PERIOD)) % 12 == 0)
    # Experiences (tickets, refunds, a drop in use) drive churn on top of hidden engagement and mood.
    logit = (
        COEF["intercept"]
        - COEF["trend"] * np.log(seen["activity_trend"].to_numpy())
        - COEF["engagement"] * latent["engagement"][idx, k + FIRST_SNAPSHOT_PERIOD - 1]
        + COEF["dissatisfaction"] * latent["dissatisfaction"][idx, k + FIRST_SNAPSHOT_PERIOD - 1]
        + COEF["tickets"] * seen["support_tickets_30d"].to_numpy()
        + COEF["refunds"] * seen["refunds_30d"].to_numpy()
        + COEF["monthly"] * ~annual
        + COEF["due"] * due
        + COEF["charge"] * (customers["monthly_charge"].to_numpy() - 40.0)
        - COEF["autopay"] * customers["autopay"].to_numpy()
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    at = pd.DatetimeIndex(snapshot_times(start + PERIODS * PERIOD))
    labels = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "event_timestamp": at[k],
            "churned": churned.astype(np.int64),
        }
    )
    return labels.sort_values(["event_timestamp", "customer_id"], ignore_index=True)


# -- files ----------------------------------------------------------------------------------------------------
def _normalise_end(end: datetime | None) -> datetime:
    """``end`` as an aware UTC datetime at midnight (default: today), so snapshots land on whole days."""
    if end is None:
        end = datetime.now(UTC)
    elif end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    return end.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _write_parquet(df: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
