"""PyTorch -> ONNX with torch.onnx: a TorchClassifier's probabilities and labels as two graph outputs."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shipyard.gpu_runtime.torch_model import TorchClassifier

_OPSET = 17


def export_torch(model: TorchClassifier, n_features: int, *, input_name: str) -> Any:
    """The ONNX ModelProto of ``model`` with outputs ``label`` (int64 [N]) and ``probabilities`` ([N, C])."""
    import onnx
    import torch

    probabilities = model.probability_module()
    classes = torch.as_tensor(model.classes_, dtype=torch.int64)

    class _Served(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.probabilities = probabilities

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            probs = self.probabilities(x)
            # The label table is a traced constant: labels come out as the model's own classes_.
            return classes[torch.argmax(probs, dim=1)], probs

    with tempfile.TemporaryDirectory(prefix="shipyard-torch-onnx-") as tmp, warnings.catch_warnings():
        # The TorchScript exporter is deprecated in favour of dynamo, which needs onnxscript (not a dependency);
        # it stays supported in torch 2.x and handles these feed-forward classifiers exactly.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        torch.onnx.export(
            _Served().eval(),
            (torch.zeros(1, n_features),),
            str(Path(tmp) / "model.onnx"),
            input_names=[input_name],
            output_names=["label", "probabilities"],
            dynamic_axes={input_name: {0: "rows"}, "label": {0: "rows"}, "probabilities": {0: "rows"}},
            opset_version=_OPSET,
            dynamo=False,
        )
        return onnx.load(str(Path(tmp) / "model.onnx"))
