"""``shipyard models list|show|promote``: the MLflow model registry of the workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled

app = typer.Typer(help="Registered models (MLflow).", no_args_is_help=True)


@app.command("list")
def list_models(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """Registered models with their latest version and aliases."""
    from shipyard.workspace import Workspace

    with handled(as_json):
        models = Workspace.open(workspace).registry.list_models()
        emit(
            models,
            as_json,
            lambda ms: "\n".join(
                f"{m.name} v{m.version}  aliases={','.join(m.aliases) or '-'}  run={m.run_id}" for m in ms
            ),
        )


@app.command("show")
def show(
    model: Annotated[str, typer.Argument(help="NAME@ALIAS or NAME@VERSION, e.g. churn@champion.")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One model version with its lineage tags and metrics."""
    from shipyard.cli.deploy_cmd import split_model_ref
    from shipyard.workspace import Workspace

    with handled(as_json):
        name, ref = split_model_ref(model)
        emit(Workspace.open(workspace).registry.resolve(name, ref), as_json, None)


@app.command("promote")
def promote(
    model: Annotated[str, typer.Argument(help="NAME@VERSION of the candidate, e.g. churn@3.")],
    alias: Annotated[str, typer.Option(help="Alias to move to the candidate.")] = "champion",
    gate: Annotated[
        list[str] | None, typer.Option("--gate", "-g", help="Metric gate, e.g. 'auc>=0.8' (repeat).")
    ] = None,
    eval_frame: Annotated[
        Path | None,
        typer.Option(help="Parquet/CSV evaluation frame (default: the candidate's reference sample)."),
    ] = None,
    tolerance: Annotated[float, typer.Option(help="How much worse than the champion still passes.")] = 0.0,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move ALIAS to a version only if its gates hold and it is not worse than the current holder."""
    from shipyard.cli.deploy_cmd import split_model_ref
    from shipyard.workspace import Workspace

    with handled(as_json):
        name, ref = split_model_ref(model)
        frame = _read_frame(eval_frame) if eval_frame is not None else None
        with Workspace.open(workspace) as ws:
            report = ws.registry.promote(name, ref, alias, gate or None, frame, tolerance)
        emit(report, as_json, _render_promotion)
    if not report.promoted:
        raise typer.Exit(1)


def _read_frame(path: Path) -> Any:
    import pandas as pd

    from shipyard.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"--eval-frame {path}: no such file")
    if path.suffix.lower() not in (".parquet", ".csv"):
        raise InvalidInput(f"--eval-frame {path}: use a .parquet or .csv file")
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def _render_promotion(r: Any) -> str:
    holder = f"v{r.champion_version}" if r.champion_version else "nobody"
    lines = [
        f"{r.name} v{r.candidate_version} -> {r.alias}: {'PROMOTED' if r.promoted else 'REFUSED'} "
        f"(was {holder}; scored on {r.eval_rows} rows)"
    ]
    lines += [
        f"  gate {g.metric}{g.op}{g.threshold:g}: {g.value:.4f} {'ok' if g.passed else 'FAILED'}"
        for g in r.gates
    ]
    lines += [
        f"  {c.metric}: candidate {c.candidate:.4f} vs {holder} {c.champion:.4f} "
        f"{'ok' if c.not_worse else 'WORSE'}"
        for c in r.comparison
    ]
    lines += [f"  {reason}" for reason in r.reasons]
    return "\n".join(lines)
