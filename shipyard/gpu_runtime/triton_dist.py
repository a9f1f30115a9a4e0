"""Where a Triton server binary and its backends live on this machine, and the environment it needs.

Preferred: an NVIDIA Triton install at ``/opt/tritonserver`` (NGC images; ONNX Runtime and TensorRT backends).
Fallback: the real ``tritonserver`` bundled in the ``nvidia-pytriton`` wheel, which ships only the Python
backend; its backend stub is per Python version, so a backend directory is assembled under the workspace.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import site
import sys
import sysconfig
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.errors import EngineUnavailable

SYSTEM_TRITON = Path("/opt/tritonserver")
SYS_PATH_ENV = "SHIPYARD_TRITON_SYS_PATH"  # read by triton_python_model.py inside the stub
_PYTHON_BACKEND_FILES = ("libtriton_python.so", "triton_python_backend_utils.py")
_STUB = "triton_python_backend_stub"


@dataclass(frozen=True)
class TritonDistribution:
    """A runnable Triton: binary, backend directory, and the extra library directories it needs."""

    binary: Path
    backend_dir: Path
    lib_dirs: list[Path] = field(default_factory=list)

    def has_backend(self, name: str) -> bool:
        """Whether backend ``name`` (``python``, ``onnxruntime``...) is installed."""
        return (self.backend_dir / name).is_dir()


def locate_triton(work_dir: Path) -> TritonDistribution:
    """Find Triton (system install first, then nvidia-pytriton's bundle prepared under ``work_dir``)."""
    if not sys.platform.startswith("linux"):
        raise EngineUnavailable(
            f"Triton runs only on Linux, this is {sys.platform}; set serving.triton_url to a Triton server"
        )
    system_binary = SYSTEM_TRITON / "bin" / "tritonserver"
    if system_binary.is_file() and (SYSTEM_TRITON / "backends").is_dir():
        return TritonDistribution(system_binary, SYSTEM_TRITON / "backends", [SYSTEM_TRITON / "lib"])
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            "no Triton server found: install nvidia-pytriton (it bundles tritonserver) or set "
            "serving.triton_url to a running Triton"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    bundle = package / "tritonserver"
    binary = bundle / "bin" / "tritonserver"
    if not binary.is_file():
        raise EngineUnavailable(f"nvidia-pytriton at {package} has no tritonserver binary; reinstall it")
    libs = package.parent / "nvidia_pytriton.libs"
    backend_dir = _prepare_python_backend(bundle, work_dir / "backends")
    return TritonDistribution(binary, backend_dir, [libs, bundle / "external_libs"])


def server_environment(dist: TritonDistribution) -> dict[str, str]:
    """Environment for the tritonserver process and the Python-backend stubs it spawns."""
    env = dict(os.environ)
    lib_dirs = [str(d) for d in dist.lib_dirs if d.is_dir()]
    libdir = sysconfig.get_config_var("LIBDIR")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if libdir and any(Path(libdir).glob(f"libpython{version}*.so*")):
        # The stub links whichever libpython the loader finds first; it must be this interpreter's, or the
        # stdlib it imports does not match (e.g. "'_thread.RLock' object has no attribute '_recursion_count'").
        lib_dirs.insert(0, libdir)
    if env.get("LD_LIBRARY_PATH"):
        lib_dirs.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(lib_dirs)
    # The stub finds its sys.prefix from the first `python3` on PATH: make that this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env[SYS_PATH_ENV] = os.pathsep.join(p for p in site.getsitepackages() if Path(p).is_dir())
    env.pop("PYTHONHOME", None)
    return env


def _prepare_python_backend(bundle: Path, target: Path) -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = bundle / "python_backend_stubs" / version / _STUB
    source = bundle / "backends" / "python"
    if not stub.is_file():
        raise EngineUnavailable(
            f"nvidia-pytriton has no Python backend stub for Python {version} (looked in {stub.parent}); "
            "use Python 3.8-3.12 or set serving.triton_url"
        )
    wanted = {name: source / name for name in _PYTHON_BACKEND_FILES}
    wanted[_STUB] = stub
    python_dir = target / "python"
    if all(_same_file(src, python_dir / name) for name, src in wanted.items()):
        return target
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".python.tmp-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        for name, src in wanted.items():
            shutil.copy2(src, staging / name)
        if python_dir.exists():
            old = target / f".python.old-{uuid.uuid4().hex[:8]}"
            os.rename(python_dir, old)
            shutil.rmtree(old, ignore_errors=True)
        try:
            os.rename(staging, python_dir)
        except OSError:
            # Another process assembled it at the same moment; theirs is identical.
            if not python_dir.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _same_file(src: Path, dst: Path) -> bool:
    if not dst.is_file():
        return False
    a, b = src.stat(), dst.stat()
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)
