"""`shipyard catalog ...` through its own Typer app: JSON on stdout, exit codes 0/1/2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.catalog_cmd import app
from shipyard.workspace import Workspace

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "churn" / "catalog.jsonl"
MANIFEST = Path(__file__).parent / "fixtures" / "dbt_manifest.json"
runner = CliRunner()


def _run(workspace_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--workspace", str(workspace_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_register_search_show_lineage_enrich_accept(workspace_dir: Path) -> None:
    code, out, _ = _run(workspace_dir, "register", str(EXAMPLE), "--project", "test", "--json")
    assert code == 0 and json.loads(out)["created"] == 8
    code, out, _ = _run(workspace_dir, "search", "refund", "--kind", "table", "--project", "churn", "--json")
    assert code == 0 and json.loads(out)["assets"][0]["name"] == "sales.transactions_clean"
    code, out, _ = _run(workspace_dir, "show", "table", "crm.customer_contacts", "--project", "churn")
    assert code == 0 and "[sensitive]" in out and "part_of" in out
    code, out, _ = _run(
        workspace_dir,
        "lineage",
        "dataset",
        "churn.training_frame",
        "--project",
        "churn",
        "--direction",
        "up",
        "--json",
    )
    assert code == 0 and {e["dst_name"] for e in json.loads(out)["edges"]} >= {
        "churn.labels",
        "customer_profile",
    }
    code, out, _ = _run(workspace_dir, "import-dbt", str(MANIFEST), "--json")
    assert code == 0 and json.loads(out)["created"] == 5
    Workspace.open(workspace_dir).catalog.upsert("model", "churn")
    code, out, _ = _run(workspace_dir, "enrich", "--kind", "model", "--json")
    assert code == 0 and json.loads(out)["drafted"][0]["name"] == "churn"
    code, out, _ = _run(workspace_dir, "accept", "model", "churn", "--json")
    assert code == 0 and json.loads(out)["description_status"] == "accepted"
    code, out, _ = _run(workspace_dir, "sync", "--source", "deployments", "--json")
    assert code == 0 and json.loads(out)["ok"] is True


@pytest.mark.parametrize(
    ("lines", "partial", "code", "stderr_has"),
    [
        (['{"kind": "table", "name": "a"}', '{"kind": "table"}'], False, 2, "line 2: missing field 'name'"),
        (['{"kind": "table", "name": "a"}', '{"kind": "table"}'], True, 0, "skipped line 2"),
        (['{"kind": "table", "name": "a"}', "{oops"], False, 2, "line 2: not valid JSON"),
        ([], False, 2, "has no assets"),
    ],
    ids=["missing-field", "partial", "invalid-json", "empty"],
)
def test_register_bad_files(
    workspace_dir: Path, tmp_path: Path, lines: list[str], partial: bool, code: int, stderr_has: str
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(lines))
    args = ["register", str(path), "--json", *(["--partial"] if partial else [])]
    got, out, err = _run(workspace_dir, *args)
    assert got == code and stderr_has in err
    doc = json.loads(out)
    if code == 2:
        assert doc["error"]["code"] == "invalid_input"
        assert Workspace.open(workspace_dir).catalog.list() == []
    else:
        assert doc["created"] == 1 and doc["errors"][0]["line"] == 2


def test_sync_exits_1_when_a_source_fails(workspace_dir: Path) -> None:
    broken = workspace_dir / "pipelines" / "p"
    broken.mkdir(parents=True)
    (broken / "pipeline.json").write_text("[")
    code, out, _ = _run(workspace_dir, "sync", "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_show_missing_and_sql_unreachable(workspace_dir: Path) -> None:
    code, out, err = _run(workspace_dir, "show", "table", "nope", "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "not_found"
    code, out, err = _run(workspace_dir, "import-sql", "sqlite:////no/such/dir/w.db", "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "engine_unavailable"
