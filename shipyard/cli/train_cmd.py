"""``shipyard train``: hyper-parameter search on Ray, seeded by similar past experiments, logged to MLflow."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from shipyard.cli.common import JsonOpt, WorkspaceOpt, emit, handled, log
from shipyard.errors import InvalidInput


def register(app: typer.Typer) -> None:
    """Add ``train`` as a top-level command of ``app``."""
    app.command("train")(train)


def train(
    data: Annotated[Path, typer.Argument(help="Training frame: a .parquet or .csv file.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Target column.")],
    trainer: Annotated[
        str, typer.Option(help="logistic_regression, random_forest or gradient_boosting.")
    ] = "random_forest",
    samples: Annotated[int, typer.Option("--samples", "-n", help="Number of trials.")] = 10,
    space: Annotated[
        str | None, typer.Option(help='Search space as JSON, e.g. \'{"C": {"loguniform": [0.001, 10]}}\'.')
    ] = None,
    seed: Annotated[
        bool, typer.Option("--seed/--no-seed", help="Seed with similar past experiments.")
    ] = True,
    cpus: Annotated[float, typer.Option(help="CPUs per trial.")] = 1.0,
    gpus: Annotated[float, typer.Option(help="GPUs per trial (checked against the Ray cluster).")] = 0.0,
    name: Annotated[str | None, typer.Option(help="Search name (MLflow parent run name).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tune a built-in scikit-learn trainer on Ray; every trial is an MLflow child run."""
    from shipyard.gpu_runtime.training import ResourceRequest
    from shipyard.workspace import Workspace

    with handled(as_json):
        frame = _read_frame(data)
        parsed_space = _parse_space(space) if space is not None else None
        with Workspace.open(workspace) as ws:
            log(f"training on Ray ({ws.training.ray_address}): {samples} trial(s) of {trainer}")
            report = ws.training.tune_model(
                frame,
                target,
                trainer=trainer,
                space=parsed_space,
                num_samples=samples,
                seed_from_history=seed,
                name=name,
                resources=ResourceRequest(num_cpus=cpus, num_gpus=gpus),
            )
        emit(report, as_json, _render)


def _read_frame(path: Path) -> Any:
    import pandas as pd

    if not path.is_file():
        raise InvalidInput(f"training data {path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InvalidInput(f"training data {path}: use a .parquet or .csv file")
    return pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)


def _parse_space(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--space is not valid JSON ({exc.msg} at char {exc.pos})") from exc


def _render(r: Any) -> str:
    lines = [f"search {r.name} (MLflow run {r.parent_run_id}): best {r.metric}={r.best_score:.4f}"]
    lines.append(f"  best config: {json.dumps(r.best_config, sort_keys=True)}")
    for s in r.seeds:
        lines.append(f"  seed: {json.dumps(s.config, sort_keys=True)} <- {s.why}")
    for t in r.trials:
        value = t.metrics.get(r.metric)
        shown = f"{value:.4f}" if value is not None else f"error {t.error[:80]}"
        lines.append(f"  trial {t.index}{' (seeded)' if t.seeded else ''}: {r.metric}={shown}")
    return "\n".join(lines)
