"""Triton Python-backend model that executes an ONNX file with ONNX Runtime on CPU.

Shipyard copies this file into a Triton model repository as ``<model>/1/model.py``; it runs inside Triton's
backend stub, never inside Shipyard, and is written by ``triton_repository.write_model``. Do not import it.
"""

import json
import os
import sys

SYS_PATH_ENV = "SHIPYARD_TRITON_SYS_PATH"


def _extend_sys_path() -> None:
    # The backend stub embeds an isolated interpreter that ignores PYTHONPATH, so the supervisor passes the
    # serving environment's import path in its own variable.
    for entry in os.environ.get(SYS_PATH_ENV, "").split(os.pathsep):
        if entry and entry not in sys.path:
            sys.path.append(entry)


_extend_sys_path()

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

_default_unraisable_hook = sys.unraisablehook


def _unraisable_hook(unraisable: "sys.UnraisableHookArgs") -> None:
    # The stub renames DLPack capsules it consumed to "used_dlpack" (numpy expects "used_dltensor"), so
    # numpy's capsule destructor reports a harmless error for every response tensor.
    exc = unraisable.exc_value
    if isinstance(exc, ValueError) and "PyCapsule_GetPointer" in str(exc):
        return
    _default_unraisable_hook(unraisable)


sys.unraisablehook = _unraisable_hook


class TritonPythonModel:
    """Runs ``<version>/<onnx_file>``; with dynamic batching, the queued requests run as one ONNX call."""

    def initialize(self, args: dict) -> None:
        config = json.loads(args["model_config"])
        params = {k: v.get("string_value", "") for k, v in config.get("parameters", {}).items()}
        path = os.path.join(
            args["model_repository"], args["model_version"], params.get("onnx_file", "model.onnx")
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(params.get("intra_op_threads", "1"))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.input_name = config["input"][0]["name"]
        self.output_names = [o["name"] for o in config["output"]]
        self.batched = int(config.get("max_batch_size", 0)) > 0

    def execute(self, requests: list) -> list:
        features: list = []
        failed: dict = {}
        for i, request in enumerate(requests):
            try:
                features.append(self._features(request))
            except Exception as exc:  # noqa: BLE001 - returned to the client as the request's error
                failed[i] = self._error(exc)
                features.append(None)
        good = [f for f in features if f is not None]
        if len(good) > 1 and self.batched:
            try:
                stacked = self.session.run(self.output_names, {self.input_name: np.concatenate(good)})
            except Exception:  # noqa: BLE001 - one bad request must not fail the others: run them apart
                stacked = None
            if stacked is not None:
                return self._split(stacked, features, failed)
        responses = []
        for i, rows in enumerate(features):
            if rows is None:
                responses.append(failed[i])
                continue
            try:
                responses.append(self._response(self.session.run(self.output_names, {self.input_name: rows})))
            except Exception as exc:  # noqa: BLE001 - returned to the client as the request's error
                responses.append(self._error(exc))
        return responses

    def _features(self, request: object) -> np.ndarray:
        # DLPack, not as_numpy()/Tensor(): the bundled stub's pybind11 predates numpy 2's dtype
        # layout and reads every numpy array as zero bytes long.
        tensor = pb_utils.get_input_tensor_by_name(request, self.input_name)
        return np.ascontiguousarray(np.from_dlpack(tensor), dtype=np.float32)

    def _split(self, stacked: list, features: list, failed: dict) -> list:
        responses, start = [], 0
        for i, rows in enumerate(features):
            if rows is None:
                responses.append(failed[i])
                continue
            end = start + len(rows)
            responses.append(self._response([value[start:end] for value in stacked]))
            start = end
        return responses

    def _response(self, values: list) -> object:
        outputs = []
        for name, value in zip(self.output_names, values, strict=True):
            if self.batched and value.ndim == 1:
                # The config declares a per-row scalar (the label) as dims [1]: return [rows, 1].
                value = value.reshape(-1, 1)
            outputs.append(pb_utils.Tensor.from_dlpack(name, np.ascontiguousarray(value)))
        return pb_utils.InferenceResponse(output_tensors=outputs)

    @staticmethod
    def _error(exc: Exception) -> object:
        error = pb_utils.TritonError(f"{type(exc).__name__}: {exc}")
        return pb_utils.InferenceResponse(output_tensors=[], error=error)
