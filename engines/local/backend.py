"""The llama.cpp backend that this install of llama-cpp-python really has.

A GPU box can silently run models on its CPU when llama-cpp-python was built without
the GPU backend; `backend_info()` reports what the build can really do, so results,
`llmbench doctor` and the panes can say so. llama_cpp is imported on first call, never
at module import, and the answer is cached (it cannot change within a process).
"""

from __future__ import annotations

import ctypes
import functools
import re
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

GPU_BACKEND_NAMES: tuple[str, ...] = (
    "CUDA",
    "ROCm",
    "HIP",
    "MUSA",
    "Metal",
    "Vulkan",
    "SYCL",
    "OpenCL",
    "CANN",
    "WebGPU",
)
"""ggml backend registry names that put model layers on a GPU (or other accelerator card)."""


@dataclass(frozen=True)
class BackendInfo:
    """What llama.cpp in this install can run on."""

    name: str
    """"CPU", "CUDA", "Metal", "Vulkan", "ROCm", "SYCL", ...: the GPU backend(s) this build has, else "CPU"."""
    gpu_offload: bool
    """llama_cpp.llama_supports_gpu_offload(): whether model layers can go to a GPU at all."""
    system_info: str
    """llama_cpp.llama_print_system_info(), decoded (CPU features and compiled-in backends)."""
    llama_cpp_python_version: str
    llama_cpp_version: str
    """llama.cpp's own version string (llama_version()) where the binding exposes it, else ""."""
    devices: tuple[str, ...] = ()
    """ggml backend devices as "NAME: description" (e.g. "CUDA0: NVIDIA H100"), where exposed."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        data = asdict(self)
        data["devices"] = list(self.devices)
        return data


def backend_name_from(registries: list[str] | tuple[str, ...], system_info: str) -> str:
    """The backend name from ggml's registry names, falling back to the system-info line.

    Several GPU registries are joined with "+" in registry order (e.g. "CUDA+Vulkan"); RPC
    and BLAS are not GPU backends. With no GPU backend: "CPU".
    """
    known = {name.lower(): name for name in GPU_BACKEND_NAMES}
    found = [known[reg.lower()] for reg in registries if reg.lower() in known]
    if not found and not registries:
        for name in GPU_BACKEND_NAMES:
            if re.search(rf"(^|[|\s]){re.escape(name)}\s*:", system_info, flags=re.IGNORECASE):
                found.append(name)
    unique = list(dict.fromkeys(found))
    return "+".join(unique) if unique else "CPU"


@functools.cache
def backend_info() -> BackendInfo:
    """What this install of llama-cpp-python can run on (imports llama_cpp on first call; cached)."""
    import llama_cpp

    system_info = _decode(llama_cpp.llama_print_system_info()).strip()
    registries, devices = _ggml_registries_and_devices(llama_cpp)
    return BackendInfo(
        name=backend_name_from(registries, system_info),
        gpu_offload=bool(llama_cpp.llama_supports_gpu_offload()),
        system_info=system_info,
        llama_cpp_python_version=_llama_cpp_python_version(llama_cpp),
        llama_cpp_version=_llama_cpp_version(llama_cpp),
        devices=devices,
    )


def _decode(value: bytes | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _llama_cpp_python_version(llama_cpp: Any) -> str:
    try:
        return version("llama-cpp-python")
    except PackageNotFoundError:
        return str(getattr(llama_cpp, "__version__", ""))


def _llama_cpp_version(llama_cpp: Any) -> str:
    """llama.cpp's version string; "" where the binding or the library lacks llama_version."""
    getter = getattr(llama_cpp, "llama_version", None)
    if getter is None:
        return ""
    try:
        return _decode(getter()).strip()
    except (AttributeError, OSError, ValueError):
        return ""


@functools.cache
def llama_cpp_build() -> tuple[str, int]:
    """(commit, build number) of the llama.cpp inside llama-cpp-python, as llama-bench's
    `build_commit` / `build_number` name them: ggml's commit (a "-dirty" mark from building
    the vendored sources dropped, as llama.cpp's own tools built from them print it) and 0,
    llama.cpp's value for an unknown build number (the binding does not carry it).
    ("unknown", 0) when the library cannot say."""
    try:
        import llama_cpp
    except ImportError:
        return "unknown", 0
    lib: Any = getattr(getattr(llama_cpp, "llama_cpp", None), "_lib", None)
    try:
        getter = lib.ggml_commit
        getter.restype = ctypes.c_char_p
        getter.argtypes = []
        commit = _decode(getter()).strip()
    except (AttributeError, OSError, ValueError):
        return "unknown", 0
    commit = commit.removesuffix("-dirty")
    return (commit or "unknown"), 0


def _ggml_registries_and_devices(llama_cpp: Any) -> tuple[list[str], tuple[str, ...]]:
    """ggml's backend registry names and devices, read from the loaded library with ctypes.

    llama-cpp-python does not bind ggml_backend_reg_* / ggml_backend_dev_*, but the
    library exports them. Anything missing gives ([], ()) and the caller falls back to
    the system-info line.
    """
    lib: Any = getattr(getattr(llama_cpp, "llama_cpp", None), "_lib", None)
    if lib is None:
        return [], ()
    try:
        lib.ggml_backend_reg_count.restype = ctypes.c_size_t
        lib.ggml_backend_reg_count.argtypes = []
        lib.ggml_backend_reg_get.restype = ctypes.c_void_p
        lib.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
        lib.ggml_backend_reg_name.restype = ctypes.c_char_p
        lib.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
        lib.ggml_backend_dev_count.restype = ctypes.c_size_t
        lib.ggml_backend_dev_count.argtypes = []
        lib.ggml_backend_dev_get.restype = ctypes.c_void_p
        lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
        for function_name in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
            getattr(lib, function_name).restype = ctypes.c_char_p
            getattr(lib, function_name).argtypes = [ctypes.c_void_p]
        registries = [
            _decode(lib.ggml_backend_reg_name(lib.ggml_backend_reg_get(index)))
            for index in range(lib.ggml_backend_reg_count())
        ]
        devices = []
        for index in range(lib.ggml_backend_dev_count()):
            device = lib.ggml_backend_dev_get(index)
            name = _decode(lib.ggml_backend_dev_name(device))
            description = _decode(lib.ggml_backend_dev_description(device))
            devices.append(f"{name}: {description}" if description else name)
    except (AttributeError, OSError, ValueError):
        return [], ()
    return registries, tuple(devices)


REBUILD_CUDA_HINT = "Rebuild: make setup LLAMA_BACKEND=cuda"


def gpu_backend_warnings(
    nvidia_gpu_names: list[str] | tuple[str, ...], backend: BackendInfo
) -> list[str]:
    """Plain-words warnings when the GPUs present and the llama.cpp build do not match.

    The common case: an NVIDIA GPU is present but llama-cpp-python was built without a
    GPU backend, so every model silently runs on the CPU.
    """
    warnings = []
    if nvidia_gpu_names and not backend.gpu_offload:
        warnings.append(
            "NVIDIA GPU found but this llama-cpp-python was built without CUDA: models will run "
            f"on the CPU. {REBUILD_CUDA_HINT}"
        )
    elif nvidia_gpu_names and "CUDA" not in backend.name and backend.name != "CPU":
        warnings.append(
            f"NVIDIA GPU found and this llama-cpp-python uses {backend.name}, not CUDA: it may be "
            f"slower than a CUDA build. {REBUILD_CUDA_HINT}"
        )
    elif not nvidia_gpu_names and "CUDA" in backend.name:
        warnings.append(
            "this llama-cpp-python was built with CUDA but no NVIDIA GPU can be read: "
            "models asked to use the GPU may fail or run on the CPU."
        )
    return warnings


def amd_backend_warnings(
    amd_gpu_names: list[str] | tuple[str, ...], backend: BackendInfo
) -> list[str]:
    """The AMD counterpart of `gpu_backend_warnings`: an AMD GPU (AMD SMI) with a
    llama-cpp-python that cannot offload to it."""
    if amd_gpu_names and not backend.gpu_offload:
        return [
            "AMD GPU found but this llama-cpp-python was built without a GPU backend: models "
            'will run on the CPU. Rebuild it with ROCm (CMAKE_ARGS="-DGGML_HIP=on") or '
            'Vulkan (CMAKE_ARGS="-DGGML_VULKAN=on").'
        ]
    return []
