"""Discovery: demo models, the HF cache, LM Studio, Ollama and configured folders, in a fake home."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from gguf_samples import write_sample_gguf

from engines.config import ConfigError
from engines.models import discovery
from engines.models.discovery import discover_models, header_of, ollama_models
from engines.models.hub import hf_cache_dir
from engines.models.resolve import resolve_model_ref

COMMIT = "a" * 40


@pytest.fixture
def no_demo_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery without the demo extra (so each test sees only what it puts in the fake home)."""
    monkeypatch.setattr("engines.models.demo.importlib.util.find_spec", lambda _name: None)


def add_to_hf_cache(repo_id: str, filename: str, source: Path) -> Path:
    """Put `source` in the HF cache the way huggingface_hub does (blob + snapshot symlink + ref)."""
    folder = hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"
    data = source.read_bytes()
    blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    link = folder / "snapshots" / COMMIT / filename
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(blob, link.parent))
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(COMMIT)
    return link


def add_to_ollama(
    store: Path, name: str, tag: str, source: Path, namespace: str = "library"
) -> Path:
    """An Ollama manifest naming `source` as the model blob (plus a template layer, as Ollama writes)."""
    data = source.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    blob = store / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    (store / "blobs" / "sha256-template").write_text("{{ .Prompt }}")
    manifest = store / "manifests" / "registry.ollama.ai" / namespace / name / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    layers = [
        {
            "mediaType": "application/vnd.ollama.image.template",
            "digest": "sha256:template",
            "size": 13,
        },
        {
            "mediaType": "application/vnd.ollama.image.model",
            "digest": f"sha256:{digest}",
            "size": len(data),
        },
    ]
    manifest.write_text(json.dumps({"schemaVersion": 2, "layers": layers}))
    return blob


def test_finds_every_source_once(isolated_dirs: Path, tmp_path: Path, no_demo_models: None) -> None:
    samples = tmp_path / "samples"
    add_to_hf_cache(
        "bartowski/Tiny-GGUF",
        "Tiny-Q4_K_M.gguf",
        write_sample_gguf(samples / "hf.gguf", file_type=15),
    )
    add_to_hf_cache(
        "bartowski/Tiny-GGUF", "mmproj-Tiny-f16.gguf", write_sample_gguf(samples / "mm.gguf")
    )
    lmstudio = isolated_dirs / ".lmstudio" / "models"
    write_sample_gguf(lmstudio / "lmstudio-community" / "Tiny-GGUF" / "Tiny-Q8_0.gguf", file_type=7)
    write_sample_gguf(
        isolated_dirs / ".cache" / "lm-studio" / "models" / "old" / "Old-Q6_K.gguf", file_type=18
    )
    ollama_blob = add_to_ollama(
        isolated_dirs / ".ollama" / "models", "tiny", "1b", write_sample_gguf(samples / "o.gguf")
    )
    folder = tmp_path / "my-models"
    write_sample_gguf(folder / "sharded.gguf", split_max_tensors=1)
    write_sample_gguf(folder / ".hidden" / "skip.gguf")
    (folder / "notes.txt").write_text("not a model")
    config = isolated_dirs / "config" / "llmbench" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'model_dirs = ["{folder}"]\n')

    found = discover_models()

    by_ref = {model.ref: model for model in found}
    assert list(by_ref) == [
        "hf:bartowski/Tiny-GGUF/Tiny-Q4_K_M.gguf",
        "lmstudio:lmstudio-community/Tiny-GGUF/Tiny-Q8_0.gguf",
        "lmstudio:old/Old-Q6_K.gguf",
        "ollama:tiny:1b",
        str(folder / "sharded-00001-of-00003.gguf"),
    ]
    assert [m.source for m in found] == ["hf", "lmstudio", "lmstudio", "ollama", "folder"]
    assert all(m.error is None and m.metadata is not None for m in found)
    assert by_ref["hf:bartowski/Tiny-GGUF/Tiny-Q4_K_M.gguf"].metadata.quantization == "Q4_K_M"
    assert by_ref["hf:bartowski/Tiny-GGUF/Tiny-Q4_K_M.gguf"].name == "Tiny Q4_K_M"
    assert by_ref["ollama:tiny:1b"].path == str(ollama_blob)
    assert len(by_ref[str(folder / "sharded-00001-of-00003.gguf")].metadata.shard_paths) == 3
    for model in found:  # every listed ref resolves to the listed file
        assert resolve_model_ref(model.ref) == Path(model.path).absolute()


@pytest.fixture
def demo_paths(smollm2_path: Path, gemma_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's demo files, so that Gemma is not assembled again in each test's cache dir."""
    paths = {"smollm2-135m": smollm2_path, "gemma3-270m": gemma_path}
    monkeypatch.setattr("engines.models.demo.demo_model_path", paths.__getitem__)


def test_demo_models_are_listed_with_their_metadata(demo_paths: None) -> None:
    found = {m.ref: m for m in discover_models() if m.source == "demo"}
    assert set(found) == {"demo:smollm2-135m", "demo:gemma3-270m"}
    smollm2, gemma = found["demo:smollm2-135m"], found["demo:gemma3-270m"]
    assert smollm2.name == "SmolLM2-135M-Instruct Q4_1"
    assert smollm2.metadata.has_chat_template and smollm2.metadata.quantization == "Q4_1"
    assert not gemma.metadata.has_chat_template and gemma.metadata.architecture == "gemma3"


def test_same_file_in_two_places_is_listed_once(
    isolated_dirs: Path, tmp_path: Path, no_demo_models: None
) -> None:
    link = add_to_hf_cache("o/r", "m-Q4_0.gguf", write_sample_gguf(tmp_path / "m.gguf"))
    found = discover_models(extra_dirs=[link.parent])
    assert [m.ref for m in found] == ["hf:o/r/m-Q4_0.gguf"]


def test_broken_file_is_listed_with_its_error(tmp_path: Path, no_demo_models: None) -> None:
    (tmp_path / "broken.gguf").write_bytes(b"GGUF\x03\x00\x00\x00")
    [model] = discover_models(extra_dirs=[tmp_path])
    assert model.metadata is None
    assert "truncated" in model.error
    assert json.loads(json.dumps(model.to_dict()))["error"] == model.error


def test_ollama_models_env_and_namespaced_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_demo_models: None
) -> None:
    store = tmp_path / "ollama-store"
    monkeypatch.setenv("OLLAMA_MODELS", str(store))
    sample = write_sample_gguf(tmp_path / "s.gguf")
    add_to_ollama(store, "llama3.2", "latest", sample)
    add_to_ollama(
        store,
        "coder",
        "7b",
        write_sample_gguf(tmp_path / "c.gguf", name="Coder"),
        namespace="someone",
    )
    broken_manifest = store / "manifests" / "registry.ollama.ai" / "library" / "broken" / "latest"
    broken_manifest.parent.mkdir(parents=True)
    broken_manifest.write_text("{not json")
    assert [name for name, _ in ollama_models()] == ["llama3.2:latest", "someone/coder:7b"]
    assert resolve_model_ref("ollama:llama3.2").read_bytes() == sample.read_bytes()
    assert resolve_model_ref("ollama:someone/coder:7b").name.startswith("sha256-")


def test_bad_config_is_a_one_line_error(isolated_dirs: Path, no_demo_models: None) -> None:
    config = isolated_dirs / "config" / "llmbench" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("model_dirs = [unquoted]\n")
    with pytest.raises(ConfigError, match="config.toml: not valid TOML"):
        discover_models()
    config.write_text('model_dirs = "~/models"\n')
    with pytest.raises(ConfigError, match="model_dirs must be a list of folder paths"):
        discover_models()


def test_nothing_found_in_an_empty_home(no_demo_models: None) -> None:
    assert discover_models() == []


def test_headers_are_cached_by_path_size_and_mtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_sample_gguf(tmp_path / "m.gguf", name="First")
    reads: list[Path] = []
    real_read = discovery.read_gguf_metadata
    monkeypatch.setattr(discovery, "read_gguf_metadata", lambda p: reads.append(p) or real_read(p))
    assert header_of(path)[0].name == "First"
    assert header_of(path)[0].name == "First"
    assert len(reads) == 1
    write_sample_gguf(path, name="Second, a longer name")
    assert header_of(path)[0].name == "Second, a longer name"
    assert len(reads) == 2
