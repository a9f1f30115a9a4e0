"""YAML feature specs: a valid spec renders Feast objects; every bad spec names its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.features.define import cell_contents
from shipyard.features.spec import parse_spec, render_spec

SPEC = """\
name: spend
entities:
  - name: customer
    join_key: customer_id
    value_type: int64
    owner: alice
feature_views:
  - name: spend
    entities: [customer]
    source:
      path: data/spend.parquet
      timestamp_field: event_timestamp
    ttl: 45d
    owner: alice
    description: Net spend.
    tags: {team: ml}
    quality:
      amount: not_null; range=0..
      freshness: 60d
    features:
      - name: amount
        dtype: float32
        description: Net spend, 30 days.
      - name: orders
        dtype: int64
feature_services:
  - name: spend_v1
    feature_views: [spend]
    owner: alice
"""


def _render(text: str, known: dict[str, tuple[str, str]] | None = None) -> str:
    return render_spec(parse_spec(text), known or {})


def test_a_valid_spec_becomes_feast_objects(tmp_path: Path) -> None:
    contents = cell_contents(_render(SPEC), tmp_path, "YAML spec")
    (view,) = contents.feature_views
    assert view.name == "spend" and view.owner == "alice" and view.ttl.days == 45
    assert [(f.name, str(f.dtype)) for f in view.features] == [("amount", "Float32"), ("orders", "Int64")]
    assert view.tags == {
        "team": "ml",
        "quality.amount": "not_null; range=0..",
        "quality.freshness": "60d",
    }
    assert view.batch_source.path == str(tmp_path.resolve() / "data/spend.parquet")
    assert [e.join_key for e in contents.entities] == ["customer_id"]
    assert [s.name for s in contents.feature_services] == ["spend_v1"]


def test_an_entity_defined_elsewhere_in_the_repo_is_used_not_redefined(tmp_path: Path) -> None:
    text = SPEC.split("feature_views:")[1].split("feature_services:")[0]
    contents = cell_contents(
        _render("feature_views:" + text, {"customer": ("customer_id", "int64")}), tmp_path, "YAML spec"
    )
    assert contents.entities == [] and contents.feature_views[0].entities == ["customer"]


BAD = [
    ("feature_views: [unclosed\n", "line 2: invalid YAML"),
    ("feature_views:\n  - name: x\n   bad: indent\n", "line 3: invalid YAML"),
    ("- a\n- b\n", "expected a mapping"),
    ("", "is empty"),
    ("name: x\n", "defines no entities"),
    ("views: []\n", "unknown field"),
    (SPEC.replace("dtype: int64", "dtype: integer"), "line 25: .*feature 'orders' dtype: unknown 'integer'"),
    (SPEC.replace("dtype: float32", "dtype: 3"), "feature 'amount' dtype: unknown 3"),
    (SPEC.replace("value_type: int64", "value_type: uuid"), "line 5: entity 'customer' value_type"),
    (SPEC.replace("- name: orders", "- name: select"), "reserved word"),
    (SPEC.replace("name: spend\n    entities", "name: spend;drop\n    entities"), "line 8: .*not allowed"),
    (SPEC.replace("ttl: 45d", "ttl: soon"), "line 13: feature view 'spend' ttl: 'soon' is not a duration"),
    (SPEC.replace("entities: [customer]", "entities: [vendor]"), "entity 'vendor'.*known: customer"),
    (SPEC.replace("      path: data/spend.parquet\n", ""), "source.path: required"),
    (SPEC.replace("amount: not_null", "amunt: not_null"), "has no feature 'amunt'"),
    (SPEC.replace("range=0..", "range=zero.."), "quality.amount"),
    (SPEC.replace("feature_views: [spend]", "feature_views: [other]"), "includes other, not defined"),
    (
        SPEC.replace("    owner: alice\n    description", "    colour: red\n    description"),
        "unknown field.*colour",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_specs_name_the_line_and_field(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _render(text)
