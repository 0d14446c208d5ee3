"""`llmbench doctor`: right on this machine (CPU build, no GPU), and the warning on a GPU box."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_nvml import MIB, FakeGpu, FakeNvmlModule

from engines.local import backend as backend_api
from engines.local.backend import backend_info
from engines.machine import nvml as nvml_api
from tui.cli import cli

WARNING = (
    "WARNING: NVIDIA GPU found but this llama-cpp-python was built without CUDA: models will run "
    "on the CPU. Rebuild: make setup LLAMA_BACKEND=cuda"
)


def fake_gpu_box(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvmlModule(
        [FakeGpu(name="NVIDIA H100 80GB HBM3", memory_total=80 * 1024 * MIB, energy_mj=10)],
        driver_version="550.54.15",
    )
    monkeypatch.setattr(nvml_api, "default_nvml", lambda: nvml_api.Nvml(module=fake))


def run_doctor(*args: str) -> str:
    result = CliRunner().invoke(cli, ["doctor", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_doctor_on_this_machine_says_what_llama_cpp_really_has() -> None:
    info = backend_info()
    output = run_doctor()

    assert f"backend:          {info.name}" in output
    assert info.system_info in output
    assert f"llama-cpp-python: {info.llama_cpp_python_version}" in output
    if not info.gpu_offload:
        assert "GPU offload:      not supported by this build" in output
        assert "models run on:    the CPU only" in output
    assert "CPU (RAPL):" in output
    assert "Traceback" not in output


def test_doctor_on_this_gpu_less_machine_says_so_without_warning() -> None:
    if nvml_api.default_nvml().available:
        pytest.skip("this machine has an NVIDIA GPU")
    output = run_doctor()

    assert "GPUs:             none (no NVIDIA driver found" in output
    assert "GPU (NVML):       n/a (no NVIDIA GPU)" in output
    assert "WARNING" not in output


def test_doctor_json_has_the_same_facts() -> None:
    report = json.loads(run_doctor("--json"))

    assert report["llama_cpp"]["name"] == backend_info().name
    assert report["llama_cpp"]["gpu_offload"] == backend_info().gpu_offload
    assert report["machine"]["logical_cores"] >= 1
    assert report["machine"]["ram_total_bytes"] >= report["machine"]["ram_available_bytes"] > 0
    assert isinstance(report["energy"]["cpu_rapl_readable"], bool)
    assert isinstance(report["warnings"], list)


def test_gpu_present_but_cpu_build_warns_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpu_box(monkeypatch)
    monkeypatch.setattr(
        backend_api, "backend_info", lambda: replace(backend_info(), name="CPU", gpu_offload=False)
    )

    output = run_doctor()

    assert "GPU 0:            NVIDIA H100 80GB HBM3, 80.0 GiB, driver 550.54.15" in output
    assert "GPU (NVML):       readable (NVML energy counter)" in output
    assert output.rstrip().endswith(WARNING)
    report = json.loads(run_doctor("--json"))
    assert report["warnings"] == [WARNING.removeprefix("WARNING: ")]
    assert report["machine"]["gpus"][0]["driver_version"] == "550.54.15"


def test_gpu_present_and_cuda_build_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpu_box(monkeypatch)
    cuda = replace(
        backend_info(), name="CUDA", gpu_offload=True, devices=("CUDA0: NVIDIA H100 80GB HBM3",)
    )
    monkeypatch.setattr(backend_api, "backend_info", lambda: cuda)

    output = run_doctor()

    assert "WARNING" not in output
    assert "models run on:    the GPU (CUDA)" in output


def test_cuda_build_without_a_readable_gpu_is_noted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        nvml_api, "default_nvml", lambda: nvml_api.Nvml(module=FakeNvmlModule(init_error=12))
    )
    cuda = replace(backend_info(), name="CUDA", gpu_offload=True)
    monkeypatch.setattr(backend_api, "backend_info", lambda: cuda)

    assert (
        "WARNING: this llama-cpp-python was built with CUDA but no NVIDIA GPU can be read"
        in run_doctor()
    )


def test_a_broken_llama_cpp_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise OSError("libllama.so: cannot open shared object file")

    monkeypatch.setattr(backend_api, "backend_info", broken)
    output = run_doctor()

    assert (
        "llama-cpp-python could not be loaded: libllama.so: cannot open shared object file"
        in output
    )
    assert "Traceback" not in output


def test_the_installed_command() -> None:
    llmbench = Path(sys.executable).parent / "llmbench"
    result = subprocess.run(
        [str(llmbench), "doctor", "--json"], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["llama_cpp"]["name"] == backend_info().name
