"""GPU detection without a GPU library."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.gpu_runtime import devices


def test_counts_driver_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bus in ("0000:01:00.0", "0000:02:00.0"):
        (tmp_path / bus).mkdir()
    monkeypatch.setattr(devices, "_NVIDIA_PROC", tmp_path)
    assert devices.gpu_count() == 2


def test_no_driver_and_no_nvidia_smi_is_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "_NVIDIA_PROC", tmp_path / "absent")
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)
    assert devices.gpu_count() == 0


def test_nvidia_smi_listing_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-1)'\necho 'GPU 1: NVIDIA H100 (UUID: GPU-2)'\n"
    )
    smi.chmod(0o755)
    monkeypatch.setattr(devices, "_NVIDIA_PROC", tmp_path / "absent")
    monkeypatch.setattr(devices.shutil, "which", lambda name: str(smi))
    assert devices.gpu_count() == 2


@pytest.mark.parametrize(("visible", "expected"), [("", 0), ("-1", 0), ("1", 1), ("0,1,2", 2)])
def test_fake_gpu_cuda_visible_devices_caps_the_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, visible: str, expected: int
) -> None:
    for bus in ("0000:01:00.0", "0000:02:00.0"):
        (tmp_path / bus).mkdir()
    monkeypatch.setattr(devices, "_NVIDIA_PROC", tmp_path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert devices.gpu_count() == expected
