"""Locating Triton and the environment its Python-backend stub needs."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import sysconfig
from pathlib import Path

import pytest

from shipyard.errors import EngineUnavailable
from shipyard.gpu_runtime import triton_dist
from shipyard.gpu_runtime.triton_dist import TritonDistribution, locate_triton, server_environment

MODEL_PY = Path(triton_dist.__file__).with_name("triton_python_model.py")


def test_pytriton_bundle_is_prepared_with_this_pythons_stub(tmp_path: Path) -> None:
    dist = locate_triton(tmp_path)
    if dist.binary.parts[:3] == ("/", "opt", "tritonserver"):
        pytest.skip("a system Triton is installed; the pytriton bundle is not used")
    assert dist.binary.name == "tritonserver" and os.access(dist.binary, os.X_OK)
    assert dist.backend_dir == tmp_path / "backends"
    python_dir = dist.backend_dir / "python"
    assert {p.name for p in python_dir.iterdir()} == {
        "libtriton_python.so",
        "triton_python_backend_utils.py",
        "triton_python_backend_stub",
    }
    assert dist.has_backend("python")
    assert not dist.has_backend("onnxruntime")
    mtime = (python_dir / "triton_python_backend_stub").stat().st_mtime_ns
    locate_triton(tmp_path)  # second call reuses the prepared directory
    assert (python_dir / "triton_python_backend_stub").stat().st_mtime_ns == mtime
    assert not [p for p in dist.backend_dir.iterdir() if p.name.startswith(".")]


def test_missing_pytriton_is_engine_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triton_dist, "SYSTEM_TRITON", tmp_path / "no-system-triton")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EngineUnavailable, match="install nvidia-pytriton .* serving.triton_url"):
        locate_triton(tmp_path)


def test_environment_puts_this_interpreter_first(tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    env = server_environment(
        TritonDistribution(tmp_path / "tritonserver", tmp_path, [libs, tmp_path / "absent"])
    )
    lib_path = env["LD_LIBRARY_PATH"].split(os.pathsep)
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and list(Path(libdir).glob(f"libpython{sys.version_info.major}.{sys.version_info.minor}*.so*")):
        assert lib_path[0] == libdir
    assert str(libs) in lib_path
    assert str(tmp_path / "absent") not in lib_path
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env[triton_dist.SYS_PATH_ENV]
    assert "PYTHONHOME" not in env


def test_model_py_reads_the_same_sys_path_variable() -> None:
    match = re.search(r'^SYS_PATH_ENV = "([A-Z_]+)"', MODEL_PY.read_text(), re.MULTILINE)
    assert match is not None and match.group(1) == triton_dist.SYS_PATH_ENV
