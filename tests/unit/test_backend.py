"""engines.local.backend: what this install of llama-cpp-python really runs on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engines.local.backend import BackendInfo, backend_info, backend_name_from, gpu_backend_warnings


def test_backend_of_this_install_matches_llama_cpp_itself() -> None:
    import llama_cpp

    info = backend_info()

    assert info.gpu_offload == bool(llama_cpp.llama_supports_gpu_offload())
    assert info.system_info == llama_cpp.llama_print_system_info().decode().strip()
    assert info.llama_cpp_python_version == llama_cpp.__version__
    assert info.llama_cpp_version == llama_cpp.llama_version().decode()
    assert (info.name == "CPU") == (not info.gpu_offload)
    assert any(device.startswith("CPU") for device in info.devices)
    assert backend_info() is info  # cached
    assert info.to_dict()["devices"] == list(info.devices)


@pytest.mark.parametrize(
    ("registries", "system_info", "expected"),
    [
        (["CPU"], "CPU : AVX2 = 1 |", "CPU"),
        (["CUDA", "CPU"], "CUDA : ARCHS = 900 | CPU : AVX2 = 1 |", "CUDA"),
        (["Metal", "BLAS", "CPU"], "Metal : EMBED_LIBRARY = 1 |", "Metal"),
        (["Vulkan", "RPC", "CPU"], "", "Vulkan"),
        (["ROCm", "CPU"], "", "ROCm"),
        (["CUDA", "Vulkan", "CPU"], "", "CUDA+Vulkan"),
        ([], "CUDA : ARCHS = 890 | CPU : AVX = 1 |", "CUDA"),
        ([], "SYCL : something | CPU : AVX = 1 |", "SYCL"),
        ([], "CPU : SSE3 = 1 | AVX = 1 | LLAMAFILE = 1 |", "CPU"),
    ],
)
def test_backend_name_from_registries_or_system_info(
    registries: list[str], system_info: str, expected: str
) -> None:
    assert backend_name_from(registries, system_info) == expected


def test_importing_the_module_does_not_import_llama_cpp() -> None:
    code = (
        "import sys, engines.local.backend, engines.machine.host; print('llama_cpp' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_the_parent_process_never_imports_llama_cpp() -> None:
    """The workbench and the headless runner hold handles; only workers load llama.cpp."""
    code = "import sys, engines.local, tui.app, profiles.runner; print('llama_cpp' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def _backend(name: str, offload: bool) -> BackendInfo:
    return BackendInfo(name, offload, "", "0.3.36", "")


@pytest.mark.parametrize(
    ("gpus", "backend", "expected"),
    [
        ([], _backend("CPU", False), None),
        (["NVIDIA L4"], _backend("CUDA", True), None),
        (["NVIDIA L4"], _backend("CPU", False), "built without CUDA: models will run on the CPU"),
        (["NVIDIA L4"], _backend("Vulkan", True), "uses Vulkan, not CUDA"),
        ([], _backend("CUDA", False), "built with CUDA but no NVIDIA GPU can be read"),
    ],
)
def test_gpu_backend_warnings(gpus: list[str], backend: BackendInfo, expected: str | None) -> None:
    warnings = gpu_backend_warnings(gpus, backend)
    if expected is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expected in warnings[0]


@pytest.mark.parametrize(
    ("requested", "n_layers", "expected"),
    [(-1, 30, 30), (10, 30, 10), (99, 30, 30), (-1, None, 0), (10, None, 10)],
)
def test_offloaded_layers_cap_at_the_model_and_guess_nothing_unknown(
    requested: int, n_layers: int | None, expected: int
) -> None:
    from engines.local.model_info import _offloaded_layers

    assert _offloaded_layers(requested, n_layers) == expected
