"""Serving runtime: ONNX export and parity, Triton model repository, Triton supervisor and client, deployments."""
