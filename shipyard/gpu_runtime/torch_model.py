"""A trained PyTorch classifier as an sklearn-style estimator, so the registry can log it and Shipyard deploy it."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin


class TorchClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Wraps a ``torch.nn.Module`` mapping float32 [N, n_features] to class logits [N, classes] (or [N, 1])."""

    def __init__(self, module: Any = None, n_features: int = 0, classes: list[int] | None = None) -> None:
        self.module = module
        self.n_features = n_features
        self.classes = classes

    def __sklearn_is_fitted__(self) -> bool:
        return self.module is not None

    @property
    def classes_(self) -> Any:
        """Class labels, in the order of the module's logits (default ``0..classes-1``)."""
        import numpy as np

        if self.classes is not None:
            return np.asarray(self.classes, dtype=np.int64)
        import torch

        with torch.no_grad():
            width = int(self.probability_module()(torch.zeros(1, self.n_features)).shape[1])
        return np.arange(width, dtype=np.int64)

    def fit(self, x: Any, y: Any) -> TorchClassifier:
        """No-op: the module is trained already (kept for the sklearn estimator contract)."""
        return self

    def probability_module(self) -> Any:
        """A module returning class probabilities [N, classes]: softmax of logits, or sigmoid for one logit."""
        import torch

        inner = self.module
        with torch.no_grad():
            # Decided once, outside forward(), so the ONNX trace has no data-dependent branch.
            one_logit = inner(torch.zeros(1, self.n_features)).shape[1] == 1

        class _Probabilities(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                logits = self.inner(x)
                if one_logit:
                    positive = torch.sigmoid(logits)
                    return torch.cat([1.0 - positive, positive], dim=1)
                return torch.softmax(logits, dim=1)

        return _Probabilities().eval()

    def predict_proba(self, x: Any) -> Any:
        """Class probabilities for the rows of ``x`` (array or DataFrame), as float64."""
        import numpy as np
        import torch

        batch = torch.from_numpy(np.asarray(x, dtype=np.float32))
        with torch.no_grad():
            return self.probability_module()(batch).numpy().astype(np.float64)

    def predict(self, x: Any) -> Any:
        """The most probable class label of each row."""
        return self.classes_[self.predict_proba(x).argmax(axis=1)]
