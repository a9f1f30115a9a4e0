"""Pure parts of Ray training: resource checks (GPU faked), Ray folder, search spaces, seeding, trainers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shipyard.errors import InvalidInput, OperationFailed
from shipyard.gpu_runtime import training
from shipyard.gpu_runtime.search_space import fit_to_space, validate_space
from shipyard.gpu_runtime.seeding import (
    DatasetProfile,
    PastExperiment,
    profile_frame,
    propose_seeds,
    similarity,
)
from shipyard.gpu_runtime.trainers import fit_and_score, validate_trainer
from shipyard.gpu_runtime.tuning import TrialResult, TuneReport, clean_metrics


def test_fake_gpu_request_is_granted_when_the_cluster_has_one() -> None:
    req = training.ResourceRequest(num_cpus=1, num_gpus=1)
    assert training.check_resources(req, {"CPU": 2.0, "GPU": 1.0}) == req


@pytest.mark.parametrize(
    "request_, available, fragment",
    [
        (training.ResourceRequest(num_gpus=1), {"CPU": 2.0}, "0 GPU"),
        (training.ResourceRequest(num_gpus=2), {"CPU": 2.0, "GPU": 1.0}, "1 GPU"),
        (training.ResourceRequest(num_cpus=4), {"CPU": 2.0}, "2 CPU"),
        (training.ResourceRequest(num_cpus=-1), {"CPU": 2.0}, "negative"),
    ],
)
def test_unsatisfiable_requests_are_refused(
    request_: training.ResourceRequest, available: dict, fragment: str
) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        training.check_resources(request_, available)


def test_fake_gpu_machine_gives_local_ray_its_gpus(tmp_path: Path) -> None:
    kwargs = training.local_init_kwargs(tmp_path, gpus=1)
    assert kwargs["num_gpus"] == 1 and kwargs["num_cpus"] == 2 and kwargs["include_dashboard"] is False
    assert kwargs["object_store_memory"] <= 200 * 1024 * 1024


def test_ray_dir_stays_short_for_unix_sockets(tmp_path: Path) -> None:
    short = Path("/tmp/w/.shipyard")
    assert training.ray_temp_dir(short) == short / "ray"
    deep = tmp_path / ("x" * 80) / ".shipyard"
    assert len(str(training.ray_temp_dir(deep))) <= 48


def test_bad_ray_address_is_refused(tmp_path: Path) -> None:
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    ws = Workspace.open(init_workspace(tmp_path / "ws", project="t").root)
    svc = training.TrainingService(ws)
    svc.address = "http://head:8265"
    with pytest.raises(InvalidInput, match="ray://"):
        svc.ensure_ray()
    assert svc.ray_address == "http://head:8265"
    ws.close()


@pytest.mark.parametrize(
    "space, fragment",
    [
        ({}, "non-empty"),
        ([("x", 1)], "non-empty mapping"),
        ({"x": {"uniform": [1, 0]}}, "low < high"),
        ({"x": {"loguniform": [0, 1]}}, "low > 0"),
        ({"x": {"randint": [1.5, 3]}}, "integer bounds"),
        ({"x": {"normal": [0, 1]}}, "unknown"),
        ({"x": {"choice": []}}, "list of arguments"),
        ({"x": {"uniform": [0, 1], "choice": [1]}}, "exactly one"),
        ({"x": 3}, "exactly one"),
    ],
)
def test_bad_search_spaces_are_refused(space: object, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        validate_space(space)


def test_fit_to_space_clips_and_drops() -> None:
    space = validate_space(
        {"d": {"randint": [2, 8]}, "lr": {"uniform": [0.1, 0.5]}, "c": {"choice": ["a", "b"]}}
    )
    assert fit_to_space({"d": 20.4, "lr": 0.01, "c": "z", "other": 1}, space) == {"d": 8, "lr": 0.1}


def _binary(rows: int, minority: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(rows, 4)), columns=list("abcd"))
    df["y"] = (rng.random(rows) < minority).astype(int)
    return df


def test_profile_reads_task_balance_and_types() -> None:
    df = _binary(500, 0.2).assign(kind="x")
    p = profile_frame(df, "y")
    assert (p.rows, p.columns, p.numeric_columns, p.categorical_columns, p.task) == (500, 5, 4, 1, "binary")
    assert 0.1 < p.minority_fraction < 0.3
    reg = profile_frame(df.assign(y=df["a"] * 2.5), "y")
    assert reg.task == "regression" and reg.n_classes == 1
    assert profile_frame(df.assign(y=np.arange(500) % 3), "y").task == "multiclass"


@pytest.mark.parametrize(
    "frame, target, fragment",
    [
        (pd.DataFrame(), "y", "non-empty"),
        (pd.DataFrame({"a": [1, 2]}), "y", "not a column"),
        (pd.DataFrame({"y": [1, 0]}), "y", "no feature columns"),
        (pd.DataFrame({"a": [1, 2], "y": [None, None]}), "y", "no values"),
    ],
)
def test_bad_frames_are_refused(frame: pd.DataFrame, target: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        profile_frame(frame, target)


def test_seeds_come_from_the_nearest_comparable_runs() -> None:
    near = profile_frame(_binary(520, 0.25), "y")
    far = profile_frame(_binary(50_000, 0.02), "y")
    reg = DatasetProfile(500, 4, 4, 0, "regression", 1, 0.0, 0.0)
    target = profile_frame(_binary(500, 0.25), "y")
    assert similarity(target, near) > similarity(target, far) > 0 and similarity(target, reg) == 0.0
    space = validate_space({"C": {"loguniform": [0.01, 10]}})
    history = [
        PastExperiment("r-far", "far", far, {"C": 5.0}, 0.7),
        PastExperiment("r-near", "near", near, {"C": 0.5}, 0.9),
        PastExperiment("r-reg", "reg", reg, {"C": 1.0}, 0.99),
        PastExperiment("r-dup", "dup", near, {"C": 0.5}, 0.9),
    ]
    seeds = propose_seeds(target, history, space, k=3)
    assert [s.source_run_id for s in seeds] == ["r-near", "r-far"]
    assert "near" in seeds[0].why and "similarity" in seeds[0].why


def test_profile_json_round_trip() -> None:
    p = profile_frame(_binary(100, 0.5), "y")
    assert DatasetProfile.from_json(p.to_json()) == p and DatasetProfile.from_json("{bad") is None


def test_builtin_trainers_score_each_task() -> None:
    df = _binary(300, 0.4).assign(y=lambda d: (d["a"] > 0).astype(int))
    assert (
        fit_and_score({"C": 1.0}, df, trainer="logistic_regression", target="y", task="binary")["auc"] > 0.9
    )
    reg = df.assign(y=df["a"] * 3 + df["b"])
    assert (
        fit_and_score({"max_depth": 4}, reg, trainer="random_forest", target="y", task="regression")["r2"]
        > 0.5
    )
    with pytest.raises(InvalidInput, match="unknown"):
        validate_trainer("svm")


def test_trials_to_within_counts_launch_order() -> None:
    trials = [TrialResult(i, {}, {"s": v}, f"r{i}", False) for i, v in enumerate([0.5, 0.8, 0.995, 1.0], 1)]
    report = TuneReport("n", "p", "s", "max", {}, 1.0, trials)
    assert report.trials_to_within(0.01) == 3 and report.trials_to_within(0.0) == 4
    assert report.trials_to_within(0.01, target=0.8) == 2


@pytest.mark.parametrize("value", [3.0, {"a": "x"}, {"a": float("nan")}, {"a": True}])
def test_bad_metrics_from_a_training_function(value: object) -> None:
    with pytest.raises(OperationFailed):
        clean_metrics(value, "fn")
