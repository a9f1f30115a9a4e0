"""Built-in scikit-learn trainers: one trial = fit on a split of the frame and score the held-out part.

They live in an importable module (not a closure) so Ray workers on any node can unpickle them by reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_SPACES: dict[str, dict[str, dict[str, list[Any]]]] = {
    "logistic_regression": {"C": {"loguniform": [1e-3, 100.0]}},
    "random_forest": {
        "n_estimators": {"randint": [10, 120]},
        "max_depth": {"randint": [2, 16]},
        "min_samples_leaf": {"randint": [1, 20]},
        "max_features": {"uniform": [0.1, 1.0]},
    },
    "gradient_boosting": {
        "learning_rate": {"loguniform": [0.01, 0.5]},
        "max_depth": {"randint": [1, 6]},
        "max_iter": {"randint": [20, 200]},
    },
}
# The metric every built-in trainer reports as "score": higher is better for all tasks.
SCORE_BY_TASK = {"binary": "auc", "multiclass": "accuracy", "regression": "r2"}


def validate_trainer(name: object) -> str:
    """A built-in trainer name, or ``InvalidInput`` listing them."""
    if name not in DEFAULT_SPACES:
        raise InvalidInput(f"trainer {name!r} is unknown; use one of: {', '.join(DEFAULT_SPACES)}")
    return str(name)


def build_estimator(trainer: str, task: str, config: dict[str, Any], seed: int = 0) -> Any:
    """An unfitted estimator for ``trainer`` on ``task`` with hyper-parameters ``config``."""
    from sklearn import ensemble, linear_model, pipeline, preprocessing

    regression = task == "regression"
    if trainer == "logistic_regression":
        if regression:
            model: Any = linear_model.Ridge(alpha=1.0 / float(config.get("C", 1.0)))
        else:
            model = linear_model.LogisticRegression(C=float(config.get("C", 1.0)), max_iter=2000)
        return pipeline.make_pipeline(preprocessing.StandardScaler(), model)
    if trainer == "random_forest":
        cls = ensemble.RandomForestRegressor if regression else ensemble.RandomForestClassifier
        return cls(
            n_estimators=int(config.get("n_estimators", 100)),
            max_depth=int(config.get("max_depth", 8)),
            min_samples_leaf=int(config.get("min_samples_leaf", 1)),
            max_features=float(config.get("max_features", 1.0)),
            random_state=seed,
            n_jobs=1,
        )
    cls = ensemble.HistGradientBoostingRegressor if regression else ensemble.HistGradientBoostingClassifier
    return cls(
        learning_rate=float(config.get("learning_rate", 0.1)),
        max_depth=int(config.get("max_depth", 3)),
        max_iter=int(config.get("max_iter", 100)),
        random_state=seed,
    )


def fit_and_score(
    config: dict[str, Any], data: pd.DataFrame, *, trainer: str, target: str, task: str, seed: int = 0
) -> dict[str, float]:
    """Fit on 75% of ``data`` and report ``score`` (AUC, accuracy or R²) on the other 25%."""
    from sklearn import metrics
    from sklearn.model_selection import train_test_split

    x = data.drop(columns=[target]).select_dtypes("number").astype("float64")
    y = data[target]
    stratify = y if task != "regression" else None
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=seed, stratify=stratify)
    model = build_estimator(trainer, task, config, seed).fit(x_tr, y_tr)
    if task == "binary":
        score = metrics.roc_auc_score(y_te, model.predict_proba(x_te)[:, 1])
    elif task == "multiclass":
        score = metrics.accuracy_score(y_te, model.predict(x_te))
    else:
        score = metrics.r2_score(y_te, model.predict(x_te))
    return {"score": float(score), SCORE_BY_TASK[task]: float(score)}
