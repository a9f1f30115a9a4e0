"""Seeded vs unseeded hyper-parameter search: trials to reach within 1% of the best score.

Four classification datasets bundled with scikit-learn (breast_cancer, wine, iris, digits' first 600 rows),
a random-forest trainer, 8 trials per search on local Ray (2 CPUs). Each dataset is searched once unseeded
(plain random search, Ray Tune's BasicVariantGenerator, fixed seed); those searches form the workspace's
history. Then each dataset is searched again seeded by the *other* datasets' searches (leave-one-out, so a
dataset never seeds itself), same random seed (one per dataset) for the trials after the seeds. Target = best score either search
found on that dataset; reported: trials until a trial is within 1% of it (budget + 1 when never).
Second scenario, retraining: each of three datasets is searched again on a fresh 80% sample, unseeded vs
seeded by the whole history (where its own earlier search is the nearest neighbour).
Side by side: the wall time of one unseeded search through Shipyard (Tune + MLflow child runs) vs raw Ray Tune.
"""

from __future__ import annotations

import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

TRIALS = 8
TRAINER = "random_forest"
RETRAIN = ("breast_cancer", "wine", "iris")
# Wide on purpose: many random configs (huge leaves, one tree, 1% of features) are poor, as in real searches.
SPACE = {
    "n_estimators": {"randint": [1, 40]},
    "max_depth": {"randint": [1, 10]},
    "min_samples_leaf": {"randint": [1, 120]},
    "max_features": {"uniform": [0.01, 1.0]},
}


def datasets() -> dict[str, Any]:
    """name -> frame with a ``target`` column."""
    from sklearn import datasets as ds

    out = {
        name: getattr(ds, f"load_{name}")(as_frame=True).frame for name in ("breast_cancer", "wine", "iris")
    }
    out["digits"] = ds.load_digits(as_frame=True).frame.head(600)
    return out


def run() -> dict[str, Any]:
    """Trials-to-within-1% per dataset, seeded vs unseeded; Shipyard vs raw Ray Tune wall time."""
    from shipyard.gpu_runtime.search_space import validate_space
    from shipyard.gpu_runtime.trainers import fit_and_score
    from shipyard.gpu_runtime.tuning import load_history
    from shipyard.workspace import Workspace
    from shipyard.workspace_init import init_workspace

    space = validate_space(SPACE)
    frames = datasets()
    with tempfile.TemporaryDirectory(prefix="bt", dir="/tmp") as tmp:
        ws = Workspace.open(init_workspace(Path(tmp) / "ws", project="bench").root)
        try:
            ws.training.ensure_ray()
            unseeded: dict[str, Any] = {}
            walls: dict[str, float] = {}
            for i, (name, frame) in enumerate(frames.items()):
                t0 = time.perf_counter()
                unseeded[name] = ws.training.tune_model(
                    frame,
                    "target",
                    trainer=TRAINER,
                    space=SPACE,
                    num_samples=TRIALS,
                    seed_from_history=False,
                    name=f"{name}-unseeded",
                    random_state=i + 1,
                )
                walls[name] = time.perf_counter() - t0
            history = load_history(ws, TRAINER)
            per_dataset: dict[str, Any] = {}
            retrain: dict[str, Any] = {}
            for i, (name, frame) in enumerate(frames.items()):
                # Leave-one-out: seeds only from the other datasets' searches.
                others = [h for h in history if not h.name.startswith(f"{name}-")]
                per_dataset[name] = _compare(ws, frame, unseeded[name], others, space, f"{name}-loo", i + 1)
                if name in RETRAIN:
                    # Retraining on a fresh sample of the same source: its own earlier search is the nearest.
                    fresh = frame.sample(frac=0.8, random_state=100 + i).reset_index(drop=True)
                    base = ws.training.tune(
                        partial(fit_and_score, trainer=TRAINER, target="target", task=_task(fresh)),
                        SPACE,
                        metric="score",
                        mode="max",
                        num_samples=TRIALS,
                        data=fresh,
                        name=f"{name}-fresh-unseeded",
                        random_state=50 + i,
                    )
                    retrain[name] = _compare(ws, fresh, base, history, space, f"{name}-fresh", 50 + i)
            raw_s = _raw_tune_seconds(frames["breast_cancer"], Path(tmp) / "raw")
        finally:
            ws.close()
    return {
        "trials_per_search": TRIALS,
        "trainer": TRAINER,
        "leave_one_out": per_dataset,
        "leave_one_out_mean_trials_to_1pct": _means(per_dataset),
        "retrain_on_fresh_sample": retrain,
        "retrain_mean_trials_to_1pct": _means(retrain),
        "search_wall_s_breast_cancer": {
            "shipyard_tune_with_mlflow": round(walls["breast_cancer"], 2),
            "raw_ray_tune": round(raw_s, 2),
        },
    }


def _compare(
    ws: Any, frame: Any, unseeded: Any, history: list[Any], space: Any, name: str, random_state: int
) -> dict[str, Any]:
    """Search ``frame`` seeded from ``history`` and compare trials-to-1% with the ``unseeded`` search."""
    from shipyard.gpu_runtime.seeding import profile_frame, propose_seeds
    from shipyard.gpu_runtime.trainers import fit_and_score

    profile = profile_frame(frame, "target")
    seeds = propose_seeds(profile, history, space, k=3)
    seeded = ws.training.tune(
        partial(fit_and_score, trainer=TRAINER, target="target", task=profile.task),
        SPACE,
        metric="score",
        mode="max",
        num_samples=TRIALS,
        data=frame,
        seeds=[s.config for s in seeds],
        name=f"{name}-seeded",
        random_state=random_state,
    )
    best = max(unseeded.best_score, seeded.best_score)
    return {
        "task": profile.task,
        "best_score": round(best, 4),
        "unseeded_trials_to_1pct": unseeded.trials_to_within(0.01, best) or TRIALS + 1,
        "seeded_trials_to_1pct": seeded.trials_to_within(0.01, best) or TRIALS + 1,
        "unseeded_best": round(unseeded.best_score, 4),
        "seeded_best": round(seeded.best_score, 4),
        "seeds_from": [f"{s.source_name} (similarity {s.similarity:.2f})" for s in seeds],
    }


def _means(rows: dict[str, Any]) -> dict[str, float]:
    return {
        k: round(sum(r[f"{k}_trials_to_1pct"] for r in rows.values()) / max(len(rows), 1), 2)
        for k in ("unseeded", "seeded")
    }


def _task(frame: Any) -> str:
    from shipyard.gpu_runtime.seeding import profile_frame

    return profile_frame(frame, "target").task


def _raw_tune_seconds(frame: Any, storage: Path) -> float:
    """The same unseeded search with Ray Tune alone (no profile, no MLflow logging)."""
    from ray import tune
    from ray.tune.search.basic_variant import BasicVariantGenerator

    from shipyard.gpu_runtime.search_space import to_tune
    from shipyard.gpu_runtime.trainers import fit_and_score

    def trainable(config: dict[str, Any], data: Any = None) -> None:
        tune.report(fit_and_score(config, data, trainer=TRAINER, target="target", task="binary"))

    t0 = time.perf_counter()
    tune.Tuner(
        tune.with_parameters(trainable, data=frame),
        param_space=to_tune(SPACE),
        tune_config=tune.TuneConfig(
            metric="score",
            mode="max",
            num_samples=TRIALS,
            reuse_actors=True,
            search_alg=BasicVariantGenerator(random_state=0),
        ),
        run_config=tune.RunConfig(storage_path=str(storage.resolve()), verbose=0),
    ).fit()
    return time.perf_counter() - t0


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
