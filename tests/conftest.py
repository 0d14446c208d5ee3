"""Shared test set-up: every directory llmbench reads or writes points into a temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from engines.models import demo as demo_models


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point llmbench's config/data/cache dirs, the HF cache and HOME at a temporary directory.

    Tests never read or write the user's real files. Returns the temporary home.
    """
    home = tmp_path / "home"
    home.mkdir()
    for env_var, sub in [
        ("LLMBENCH_CONFIG_DIR", "config/llmbench"),
        ("LLMBENCH_DATA_DIR", "data/llmbench"),
        ("LLMBENCH_CACHE_DIR", "cache/llmbench"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_CACHE_HOME", "cache"),
        ("HF_HOME", "cache/huggingface"),
    ]:
        monkeypatch.setenv(env_var, str(home / sub))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """The real SmolLM2-135M-Instruct GGUF (a chat model) from the demo extra."""
    return demo_models.demo_model_path("smollm2-135m")


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    """The real Gemma 3 270M GGUF (a base model, no chat template) from the demo extra."""
    return demo_models.demo_model_path("gemma3-270m")
