"""``%feature`` / ``%%feature`` driven through a real IPython shell on a small churn workspace (real Feast)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from IPython.core.interactiveshell import InteractiveShell

from shipyard.errors import InvalidInput, NotFound
from shipyard.examples.churn import create_example_workspace
from shipyard.jupyter_ext.magics.features import Table
from shipyard.workspace import Workspace

CELL = """
from datetime import timedelta
from feast import FeatureView, Field, FileSource
from feast.types import Float32
from definitions import DATA_DIR, customer

trend = FeatureView(
    name="trend_copy",
    entities=[customer],
    ttl=timedelta(days=45),
    schema=[Field(name="activity_trend", dtype=Float32)],
    source=FileSource(name="trend_src", path=str(DATA_DIR / "customer_activity.parquet"),
                      timestamp_field="event_timestamp"),
    owner="bob",
)
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:

    path = create_example_workspace(tmp_path_factory.mktemp("magics") / "ws", customers=80)
    ws = Workspace.open(path)
    ws.features.apply()
    ws.features.materialize()
    ws.close()
    return path


@pytest.fixture()
def magic_workspace(root: Path) -> Path:
    return root


def test_search_and_show_render_html_and_text(shell: InteractiveShell, root: Path) -> None:
    found = shell.run_line_magic("feature", "search refund")
    assert isinstance(found, Table)
    assert "customer_activity:refund_rate_60d" in found._repr_html_()
    assert "customer_activity:refund_rate_60d" in repr(found)
    shown = shell.run_line_magic("feature", "show customer_profile")
    assert "growth-analytics" in repr(shown) and "monthly_charge" in shown._repr_html_()
    rows = len(pd.read_parquet(root / "data" / "customer_profile.parquet"))
    assert f"count {rows}, nulls 0" in repr(shown)
    one = shell.run_line_magic("feature", "show customer_profile:plan_tier")
    assert [r[0] for r in one.rows] == ["customer_profile:plan_tier"]


def test_get_returns_online_values(shell: InteractiveShell) -> None:
    table = shell.run_line_magic(
        "feature",
        "get customer_profile:plan_tier customer_activity:spend_30d --entity customer_id=100000 --entity customer_id=100001",
    )
    assert table.headers == ["customer_id", "plan_tier", "spend_30d"]
    assert [r[0] for r in table.rows] == ["100000", "100001"]


def test_frame_assigns_the_training_frame_into_the_namespace(shell: InteractiveShell, root: Path) -> None:
    shell.user_ns["labels"] = pd.read_parquet(root / "data" / "labels.parquet").head(30)
    frame = shell.run_line_magic("feature", "frame labels customer_activity:spend_30d --as train")
    assert shell.user_ns["train"] is frame
    assert len(frame) == 30 and "spend_30d" in frame.columns
    by_service = shell.run_line_magic("feature", "frame labels --service churn_v1")
    assert shell.user_ns["training_frame"] is by_service and by_service.shape[1] > 15


def test_define_cell_plans_then_applies(shell: InteractiveShell, root: Path) -> None:
    planned = shell.run_cell_magic("feature", "define --plan", CELL)
    assert "+ feature view trend_copy" in planned.note and "not applied" in planned.title
    assert not (root / "features" / "cells" / "trend_copy.py").exists()
    applied = shell.run_cell_magic("feature", "define", CELL)
    assert applied.rows[1] == ["feature views", "trend_copy"]
    assert "trend_copy:activity_trend" in repr(shell.run_line_magic("feature", "search trend_copy"))
    (root / "features" / "cells" / "trend_copy.py").unlink()
    shell.run_line_magic("shipyard_workspace", str(root))


YAML_CELL = """
feature_views:
  - name: trend_yaml
    entities: [customer]
    source: {path: ../data/customer_activity.parquet, timestamp_field: event_timestamp}
    ttl: 45d
    owner: bob
    features:
      - {name: activity_trend, dtype: float32, description: Trend from YAML.}
"""


def test_define_yaml_cell_plans_then_applies(shell: InteractiveShell, root: Path) -> None:
    planned = shell.run_cell_magic("feature", "define --yaml --plan", YAML_CELL)
    assert "+ feature view trend_yaml" in planned.note and "not applied" in planned.title
    assert not (root / "features" / "cells" / "trend_yaml.py").exists()
    applied = shell.run_cell_magic("feature", "define --yaml", YAML_CELL)
    assert applied.rows[1] == ["feature views", "trend_yaml"]
    (root / "features" / "cells" / "trend_yaml.py").unlink()
    shell.run_line_magic("shipyard_workspace", str(root))


@pytest.mark.parametrize(
    ("line", "cell", "error", "message"),
    [
        ("define --yaml", "feature_views: [x\n", InvalidInput, "YAML spec, line 2: invalid YAML"),
        ("define --yaml", YAML_CELL.replace("float32", "floot"), InvalidInput, "activity_trend' dtype"),
        ("", None, InvalidInput, "needs a subcommand"),
        ("fly", None, InvalidInput, "unknown %feature subcommand"),
        ("define", None, InvalidInput, "cell magic"),
        ("search x", "body", InvalidInput, "only `define` takes a cell body"),
        ("get customer_profile:plan_tier", None, InvalidInput, "at least one --entity"),
        ("get customer_profile:plan_tier --entity customer_id", None, InvalidInput, "KEY=VALUE"),
        ("get customer_profile:plan_tier --entity customer_id=abc", None, InvalidInput, "not an integer"),
        ("get nope:x --entity customer_id=1", None, NotFound, "no feature view 'nope'"),
        ("show nope", None, NotFound, "no feature view 'nope'"),
        ("frame missing_df customer_profile:plan_tier", None, InvalidInput, "no variable 'missing_df'"),
        ("define", "x = (\n", InvalidInput, "cell, line 1: syntax error"),
        ("get --bogus", None, InvalidInput, "%feature get"),
    ],
)
def test_bad_input_raises_a_clear_error(
    shell: InteractiveShell, line: str, cell: str | None, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        if cell is None:
            shell.run_line_magic("feature", line)
        else:
            shell.run_cell_magic("feature", line, cell)


def test_table_escapes_html() -> None:
    table = Table("<b>t</b>", ["<h>"], [["<script>alert(1)</script>"]], note="a & b")
    rendered = table._repr_html_()
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered and "a &amp; b" in rendered


def test_online_read_survives_ipython_registering_its_timestamp_converter(shell: InteractiveShell) -> None:
    import sqlite3
    from datetime import datetime

    # What IPython's history does on first use; it used to break Feast's SQLite online read.
    sqlite3.register_converter("timestamp", lambda v: datetime.fromisoformat(v.decode()))
    table = shell.run_line_magic("feature", "get customer_profile:plan_tier --entity customer_id=100000")
    assert table.rows[0][0] == "100000" and table.rows[0][1] != ""


def test_materialize_shows_progress_per_view(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result = shell.run_line_magic("feature", "materialize")
    assert isinstance(result, Table)
    views = result.rows[0][0].split(", ")
    assert "customer_activity" in views and "customer_profile" in views
    # A terminal IPython prints each update of the progress display as a line of text: 0/n, then one per view.
    # (Feast's own output goes to stderr during materialize; in a terminal the lines land there too.)
    captured = capsys.readouterr()
    # The final "[done]" line comes after materialize returned, so on stdout: stderr's lines come first.
    lines = [ln for ln in (captured.err + captured.out).splitlines() if ln.startswith("materializing")]
    n = len(views)
    last = sorted(views)[-1]
    assert lines == [f"materializing feature views: 0/{n}"] + [
        f"materializing feature views: {i}/{n} {view}" for i, view in enumerate(sorted(views), start=1)
    ] + [f"materializing feature views: {n}/{n} {last} [done]"]


def test_progress_bar_html_is_escaped_and_bounded() -> None:
    from shipyard.jupyter_ext.progress_display import ProgressBar

    bar = ProgressBar("<b>t</b>", 3)
    bar.update(5, "<img src=x onerror=alert(1)>")
    assert bar.done == 3
    assert "<img" not in bar._repr_html_() and "&lt;img" in bar._repr_html_()
    assert repr(bar) == "<b>t</b>: 3/3 <img src=x onerror=alert(1)>"


def test_get_and_frame_mask_sensitive_columns_without_a_grant(shell: InteractiveShell, root: Path) -> None:
    from dataclasses import asdict

    from shipyard.governance import masking
    from shipyard.governance.service import governance_for

    ws = Workspace.open(root)  # the same store the magics' workspace reads
    original = ws.catalog.get("feature_view", "customer_profile")
    fields = {k: v for k, v in asdict(original).items() if k not in ("kind", "name", "id", "updated_at")}
    fields["columns"] = [{"name": "monthly_charge", "type": "float", "sensitive": True}]
    ws.catalog.upsert("feature_view", "customer_profile", **fields)
    masking.invalidate()
    try:
        got = shell.run_line_magic(
            "feature",
            "get customer_profile:monthly_charge customer_profile:plan_tier --entity customer_id=100001",
        )
        row = dict(zip(got.headers, got.rows[0], strict=True))
        assert row["monthly_charge"] == "" and row["plan_tier"] != ""  # None renders empty
        shell.user_ns["ents"] = pd.DataFrame(
            {"customer_id": [100_001], "event_timestamp": [pd.Timestamp.now(tz="UTC")]}
        )
        frame = shell.run_line_magic("feature", "frame ents customer_profile:monthly_charge")
        assert frame["monthly_charge"].isna().all()
        # With a grant to this OS user the value comes back, and the sensitive read is audited.
        gov = governance_for(ws)
        gov.access.grant(masking.local_user(), ws.project, "customer_profile", "monthly_charge")
        masking.invalidate()
        frame = shell.run_line_magic("feature", "frame ents customer_profile:monthly_charge")
        assert frame["monthly_charge"].notna().all()
        assert any(e.action == "features.read_sensitive" for e in gov.audit.entries())
    finally:
        ws.catalog.upsert("feature_view", "customer_profile", **{**fields, "columns": original.columns})
        masking.invalidate()
        ws.close()
