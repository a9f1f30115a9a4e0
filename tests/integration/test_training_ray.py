"""TrainingService on a real local Ray (one per module) with Tune trials logged to a real MLflow."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime.training import ResourceRequest, ray_temp_dir
from shipyard.workspace import Workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ws(
    tmp_path_factory: pytest.TempPathFactory,
    ray_processes: Callable[[Path], list[str]],
    assert_ray_gone: Callable[..., None],
) -> Iterator[Workspace]:
    from shipyard.workspace_init import init_workspace

    root = init_workspace(tmp_path_factory.mktemp("ray") / "ws", project="raytest").root
    w = Workspace.open(root)
    w.training.ensure_ray()
    ray_dir = ray_temp_dir(w.state_dir).resolve()
    assert ray_processes(ray_dir), "local Ray should run under the workspace's Ray folder"
    yield w
    w.close()
    assert_ray_gone(ray_dir)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).frame


def quadratic(config: dict) -> dict:
    return {"loss": (config["x"] - 0.3) ** 2}


def failing(config: dict) -> dict:
    raise ValueError("boom")


def test_run_logs_an_mlflow_run(ws: Workspace) -> None:
    result = ws.training.run(quadratic, {"x": 1.0}, name="quad", resources=ResourceRequest(num_cpus=1))
    assert result.metrics == {"loss": pytest.approx(0.49)} and result.ray_address == "local"
    run = ws.registry.client.get_run(result.run_id)
    assert run.data.metrics["loss"] == pytest.approx(0.49) and run.data.params == {"x": "1.0"}
    with pytest.raises(OperationFailed, match="boom"):
        ws.training.run(failing, {})
    with pytest.raises(OperationFailed, match="dict of metric"):
        ws.training.run(lambda c: 3.0, {})


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"space": {"x": {"uniform": [1, 0]}}}, "low < high"),
        ({"space": {}}, "non-empty"),
        ({"mode": "best"}, "'max' or 'min'"),
        ({"num_samples": 0}, "1 to 1000"),
        ({"name": "../evil"}, "not valid"),
        ({"resources": ResourceRequest(num_gpus=1)}, "GPU"),
        ({"resources": ResourceRequest(num_cpus=64)}, "CPU"),
    ],
)
def test_bad_search_input_is_refused_before_any_trial(ws: Workspace, kwargs: dict, fragment: str) -> None:
    args = {"space": {"x": {"uniform": [0, 1]}}, "metric": "loss", "mode": "min", "num_samples": 2, **kwargs}
    before = len(ws.registry.client.search_runs([ws.registry.experiment_id]))
    with pytest.raises(InvalidInput, match=fragment):
        ws.training.tune(quadratic, args.pop("space"), **args)
    assert len(ws.registry.client.search_runs([ws.registry.experiment_id])) == before


def test_tune_logs_trials_as_child_runs_seed_first(ws: Workspace) -> None:
    report = ws.training.tune(
        quadratic, {"x": {"uniform": [0, 1]}}, metric="loss", mode="min", num_samples=3, seeds=[{"x": 0.3}]
    )
    assert [t.index for t in report.trials] == [1, 2, 3]
    assert report.trials[0].config == {"x": 0.3} and report.trials[0].seeded
    assert report.best_config == {"x": 0.3} and report.trials_to_within(0.01) == 1
    children = ws.registry.client.search_runs(
        [ws.registry.experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{report.parent_run_id}'"
    )
    assert len(children) == 3
    parent = ws.registry.client.get_run(report.parent_run_id)
    assert json.loads(parent.data.tags["shipyard.best_config"]) == {"x": 0.3}


def test_second_search_is_seeded_by_the_first(ws: Workspace, frame: pd.DataFrame) -> None:
    space = {"C": {"loguniform": [0.001, 100.0]}}
    first = ws.training.tune_model(
        frame, "target", trainer="logistic_regression", space=space, num_samples=2, name="bc-first"
    )
    assert first.seeds == [] and first.profile is not None and first.profile.task == "binary"
    second = ws.training.tune_model(
        frame.sample(frac=0.9, random_state=1),
        "target",
        trainer="logistic_regression",
        space=space,
        num_samples=2,
        name="bc-second",
    )
    (seed,) = second.seeds
    assert seed.source_run_id == first.parent_run_id and seed.similarity > 0.9
    assert "bc-first" in seed.why and second.trials[0].seeded
    assert second.trials[0].config["C"] == pytest.approx(first.best_config["C"])


def test_train_cli(ws: Workspace, frame: pd.DataFrame, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from shipyard.cli.train_cmd import register

    app = typer.Typer()
    register(app)
    app.command("noop", hidden=True)(lambda: None)  # a single-command Typer app would drop the name
    data = tmp_path / "bc.parquet"
    frame.to_parquet(data)
    runner = CliRunner()
    ok = runner.invoke(
        app,
        [
            "train",
            str(data),
            "-t",
            "target",
            "--trainer",
            "logistic_regression",
            "-n",
            "2",
            "--space",
            '{"C": {"loguniform": [0.01, 10]}}',
            "-w",
            str(ws.root),
            "--json",
        ],
    )
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["metric"] == "score" and len(doc["trials"]) == 2
    bad = runner.invoke(app, ["train", str(data), "-t", "nope", "-w", str(ws.root), "--json"])
    assert bad.exit_code == 2 and "target 'nope'" in json.loads(bad.stdout)["error"]["message"]
