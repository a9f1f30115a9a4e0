"""`catalog register`: JSON Lines validation with line numbers, all-or-nothing vs --partial, idempotent upsert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.errors import InvalidInput
from shipyard.workspace import Workspace

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "churn" / "catalog.jsonl"
GOOD = {"kind": "table", "name": "sales.tx", "description": "cleaned", "columns": [{"name": "refund_flag"}]}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "assets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_example_catalog_registers_and_is_idempotent(workspace: Workspace) -> None:
    first = workspace.catalog.register_file(EXAMPLE)
    assert (first.created, first.updated, first.errors) == (8, 0, [])
    assert first.columns == 48
    again = workspace.catalog.register_file(EXAMPLE)
    assert (again.created, again.updated) == (0, 8)
    email = workspace.catalog.get("column", "crm.customer_contacts.email", project="churn")
    assert email.attributes["sensitive"] is True
    assert len(workspace.catalog.list(kinds=["column"], project="churn")) == 48
    hits = workspace.catalog.search("transaction history refund flag", project="churn")
    assert {h.asset.name for h in hits[:2]} == {
        "sales.transactions_clean",
        "sales.transactions_clean.refund_flag",
    }


BAD_LINES = [
    pytest.param('{"name": "x"}', "missing field 'kind'", id="missing-kind"),
    pytest.param('{"kind": "table"}', "missing field 'name'", id="missing-name"),
    pytest.param('{"kind": "table", "name": 3}', "'name' must be a string", id="name-not-string"),
    pytest.param('{"kind": "table", "name": "t", "tags": "a"}', "'tags' must be a list", id="tags-not-list"),
    pytest.param(
        '{"kind": "table", "name": "t", "columns": {}}', "'columns' must be a list", id="columns-obj"
    ),
    pytest.param(
        '{"kind": "table", "name": "t", "columns": [{"name": "e", "sensitive": "yes"}]}',
        "sensitive must be true or false",
        id="sensitive-not-bool",
    ),
    pytest.param(
        '{"kind": "table", "name": "t", "columns": [{"name": "e"}, {"name": "e"}]}',
        "duplicate column 'e'",
        id="duplicate-column",
    ),
    pytest.param('{"kind": "spreadsheet", "name": "t"}', "unknown kind 'spreadsheet'", id="unknown-kind"),
    pytest.param(
        '{"kind": "table", "name": "t", "colour": 1}', "unknown field(s) colour", id="unknown-field"
    ),
    pytest.param(
        '{"kind": "table", "name": "t", "freshness": "yesterday"}', "not an ISO 8601", id="freshness"
    ),
    pytest.param('{"kind": "table", "name": "  "}', "'name' is empty", id="blank-name"),
    pytest.param('{"kind": "table", "name": "t"', "not valid JSON", id="invalid-json"),
    pytest.param(
        json.dumps({"kind": "table", "name": "t", "owner": "o" * 201}),
        "'owner' is 201 characters",
        id="long-owner",
    ),
    pytest.param(
        '{"kind": "table", "name": "t", "columns": [{"type": "int"}]}',
        "missing field 'name'",
        id="col-no-name",
    ),
    pytest.param(
        '{"kind": "model", "name": "m", "columns": [{"name": "a"}]}', "not a model", id="columns-on-model"
    ),
    pytest.param("[1, 2]", "expected a JSON object", id="not-an-object"),
    pytest.param(
        json.dumps({"kind": "table", "name": "t", "description": "x" * 1_048_576}),
        "1048576 characters; the limit is 65536",
        id="1MB-description",
    ),
    pytest.param(
        '{"kind": "model", "name": "m", "lineage": [{"kind": "table", "name": "t", "relation": "DROP TABLE"}]}',
        "lowercase word",
        id="bad-relation",
    ),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LINES)
def test_a_bad_line_is_named_and_nothing_is_written(
    workspace: Workspace, tmp_path: Path, bad: str, message: str
) -> None:
    path = _write(tmp_path, [json.dumps(GOOD), bad])
    with pytest.raises(InvalidInput) as err:
        workspace.catalog.register_file(path)
    assert "line 2" in err.value.message and message in err.value.message
    assert "--partial" in err.value.message
    assert err.value.detail["errors"][0]["line"] == 2
    assert workspace.catalog.list() == []


@pytest.mark.parametrize(("bad", "message"), BAD_LINES)
def test_partial_registers_the_good_lines_and_lists_the_bad(
    workspace: Workspace, tmp_path: Path, bad: str, message: str
) -> None:
    path = _write(tmp_path, [bad, json.dumps(GOOD)])
    result = workspace.catalog.register_file(path, partial=True)
    assert (result.created, result.columns) == (1, 1)
    assert [e.line for e in result.errors] == [1] and message in result.errors[0].message
    assert {a.name for a in workspace.catalog.list()} == {"sales.tx", "sales.tx.refund_flag"}


def test_duplicate_names_in_one_file_name_both_lines(workspace: Workspace, tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(GOOD), "", json.dumps({**GOOD, "description": "other"})])
    with pytest.raises(InvalidInput, match=r"line 3: duplicate table 'sales.tx' \(first on line 1\)"):
        workspace.catalog.register_file(path)
    other_project = _write(tmp_path, [json.dumps(GOOD), json.dumps({**GOOD, "project": "p2"})])
    assert workspace.catalog.register_file(other_project).created == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "has no assets"), ("\n  \n", "has no assets"), (b"\xff\xfe\x00", "not UTF-8")],
    ids=["empty", "blank-lines", "binary"],
)
def test_empty_or_unreadable_files_are_refused(
    workspace: Workspace, tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidInput, match=message):
        workspace.catalog.register_file(path)
    with pytest.raises(InvalidInput, match="no such file"):
        workspace.catalog.register_file(tmp_path / "missing.jsonl")


def test_register_documents_default_project_and_lineage(workspace: Workspace) -> None:
    docs = [
        {
            "kind": "feature",
            "name": "v:f",
            "lineage": [{"kind": "table", "name": "raw.t", "relation": "derived_from"}],
        },
        {"kind": "table", "name": "raw.t", "freshness": "2024-06-01T12:00:00Z"},
    ]
    result = workspace.catalog.register(docs, project="analytics")
    assert result.created == 2
    table = workspace.catalog.get("table", "raw.t", project="analytics")
    assert table.freshness is not None and table.freshness.isoformat() == "2024-06-01T12:00:00+00:00"
    edges = workspace.catalog.lineage("table", "raw.t", project="analytics", direction="down")
    assert [(e.src_name, e.relation) for e in edges] == [("v:f", "derived_from")]
    assert (
        workspace.catalog.get("feature", "v:f", project="analytics").attributes["lineage"][0]["name"]
        == "raw.t"
    )


def test_bulk_reregister_drops_removed_columns_and_clears_tombstones(
    workspace: Workspace, tmp_path: Path
) -> None:
    def tables(columns_of_t0: list[str]) -> list[str]:
        lines = [
            json.dumps({"kind": "table", "name": f"s.t{i}", "columns": [{"name": "id"}]})
            for i in range(1, 30)
        ]
        cols = [{"name": c} for c in columns_of_t0]
        return [json.dumps({"kind": "table", "name": "s.t0", "columns": cols}), *lines]

    workspace.catalog.register_file(_write(tmp_path, tables(["id", "email", "amount"])))
    assert workspace.catalog.remove("table", "s.t5") is True
    stones = {(t.kind, t.name) for t in workspace.catalog.removed_since(None)}
    assert stones == {("table", "s.t5"), ("column", "s.t5.id")}
    before = {(a.kind, a.name): a.updated_at for a in workspace.catalog.list()}
    result = workspace.catalog.register_file(_write(tmp_path, tables(["id", "amount"])))
    assert (result.created, result.updated) == (1, 29)
    names = {a.name for a in workspace.catalog.list(kinds=["column"])}
    assert "s.t0.email" not in names and {"s.t0.amount", "s.t5.id"} <= names
    assert {(t.kind, t.name) for t in workspace.catalog.removed_since(None)} == {("column", "s.t0.email")}
    after = {(a.kind, a.name): a.updated_at for a in workspace.catalog.list()}
    assert after[("table", "s.t7")] == before[("table", "s.t7")]  # unchanged rows are not rewritten
    edges = workspace.catalog.lineage("table", "s.t0", direction="down")
    assert {e.src_name for e in edges} == {"s.t0.id", "s.t0.amount"}
