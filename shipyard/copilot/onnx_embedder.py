"""The same sentence-transformers model run by onnxruntime: exported once with torch.onnx, cached on disk.

Only models that are a plain transformer + mean pooling (+ normalisation) are exported, so the ONNX
graph computes exactly what sentence-transformers computes (cosine to the reference >= 0.9999, checked
on every export). Tokenisation uses the model's own ``tokenizer.json``. Quantised (int8) graphs are
available as ``onnx-int8``; benchmarks/bench_copilot.py reports their ranking quality next to fp32.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.errors import EngineUnavailable

if TYPE_CHECKING:
    import numpy as np

_log = logging.getLogger(__name__)
BATCH = 32
# Bumped when the exported graph changes shape, so stale caches are not reused.
EXPORT_VERSION = "2"
_PROBE = ["where is the cleaned transaction history?", "table sales.orders_clean. Validated orders."]


def cache_root() -> Path:
    """Where exported graphs live: ``$SHIPYARD_CACHE_DIR`` or ``~/.cache/shipyard``, under ``onnx/``."""
    base = os.environ.get("SHIPYARD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shipyard"
    )
    return Path(base) / "onnx"


def exportable(folder: Path) -> bool:
    """Whether ``folder`` holds a transformer + mean pooling (+ normalise) model with a fast tokenizer."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = folder / str(modules[1].get("path", "1_Pooling")) / "config.json"
    try:
        mode = json.loads(pooling.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    only_mean = mode.get("pooling_mode_mean_tokens") and not any(
        v for k, v in mode.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    return bool(only_mean) and (folder / "tokenizer.json").exists()


def _fingerprint(folder: Path, quantize: bool) -> str:
    import onnxruntime
    import torch

    parts = [str(folder.resolve()), EXPORT_VERSION, torch.__version__, onnxruntime.__version__, str(quantize)]
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{int(st.st_mtime)}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


def _export(folder: Path, target: Path, reference: Any) -> None:
    """Trace model + mean pooling + L2 normalisation into ``target`` (written atomically)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    import numpy as np
    import onnxruntime as ort

    enc = reference(_PROBE)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    pooled = Pooled(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about constants that do not apply here
            # The reference is computed first: tracing leaves the eager module in a changed state.
            expected = pooled(*(torch.from_numpy(enc[n]) for n in names)).numpy()
            torch.onnx.export(
                pooled,
                tuple(torch.from_numpy(enc[n]) for n in names),
                tmp,
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        got = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"]).run(None, enc)[0]
        agreement = float(np.min(np.sum(expected * got, axis=1)))
        if agreement < 0.9999:
            raise ValueError(f"exported graph disagrees with the model (cosine {agreement:.5f})")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _quantize(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        # Per-channel weights on the MatMuls only: cosine to fp32 ~0.99 instead of ~0.95 per tensor.
        quantize_dynamic(
            str(source), tmp, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
        )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OnnxEmbedder:
    """A mean-pooling sentence-transformers model executed by onnxruntime on CPU."""

    def __init__(self, name: str, folder: Path, max_seq_length: int, *, quantize: bool = False) -> None:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._np = np
        self.name = name
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        self._tokenizer.no_padding()
        where = cache_root() / _fingerprint(folder, quantize)
        graph = where / ("model.int8.onnx" if quantize else "model.onnx")
        plain = where / "model.onnx"
        try:
            if not plain.exists():
                _export(folder, plain, self._features)
            if quantize and not graph.exists():
                _quantize(plain, graph)
        except Exception as exc:  # tracing failures come in many types; all mean "use torch instead"
            raise EngineUnavailable(f"could not export {name!r} to ONNX ({exc})") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        options.inter_op_num_threads = 1
        # Busy-waiting worker threads steal the CPU from other work on a shared machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.dimension = int(self._run(self._features(["x"])).shape[1])

    def _features(self, texts: list[str]) -> dict[str, np.ndarray]:
        return self._pack(self._tokenizer.encode_batch(texts))

    def _pack(self, encodings: list[Any]) -> dict[str, np.ndarray]:
        import numpy as np

        width = max(len(e.ids) for e in encodings)
        names = ("input_ids", "attention_mask", "token_type_ids")
        out = {n: np.zeros((len(encodings), width), dtype=np.int64) for n in names}
        for i, e in enumerate(encodings):
            n = len(e.ids)
            out["input_ids"][i, :n] = e.ids
            out["attention_mask"][i, :n] = 1
            out["token_type_ids"][i, :n] = e.type_ids
        return out

    def _run(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, features)[0]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 embeddings; batches group texts of similar length to avoid padding."""
        np = self._np
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        if len(texts) == 1:
            return np.asarray(self._run(self._pack(encodings)), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._run(self._pack([encodings[i] for i in chunk]))
        return out
