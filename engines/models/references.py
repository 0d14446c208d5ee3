"""Model references: one syntax for naming a model, everywhere (CLI, profiles, TUI).

    ./models/qwen.gguf, ~/m.gguf, /abs/m.gguf    a GGUF file (the first shard of a sharded one)
    hf:OWNER/REPO:QUANT                          a quant of a Hugging Face repo (like llama.cpp's -hf)
    hf:OWNER/REPO                                its Q4_K_M, or its only GGUF
    hf:OWNER/REPO/FILE.gguf                      one file of a Hugging Face repo
    demo:smollm2-135m, demo:gemma3-270m          the models of the `demo` extra
    ollama:NAME[:TAG], lmstudio:PUBLISHER/REPO/FILE.gguf
                                                 models found by `llmbench models`
    openai:http://HOST:PORT/v1#MODEL             a model behind an OpenAI-compatible server

This module only reads the text (`parse_model_ref`, `describe_ref`); finding the file a
reference names is `engines.models.resolve`. Every error is a `ModelRefError` with one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

RefKind = Literal["path", "hf", "demo", "discovered", "openai"]

DISCOVERED_SCHEMES = ("ollama", "lmstudio")
"""Schemes of models found by discovery (`engines.models.discovery`)."""
KNOWN_SCHEMES = ("hf", "demo", *DISCOVERED_SCHEMES, "openai")

REPO_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
"""OWNER/REPO as the Hugging Face Hub allows it."""
_SCHEME_PATTERN = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>.*)$", re.S)
_QUANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

SYNTAX_HINT = "a .gguf path, hf:OWNER/REPO:QUANT, hf:OWNER/REPO/FILE.gguf, demo:NAME, ollama:NAME, lmstudio:PATH or openai:URL#MODEL"


class ModelRefError(ValueError):
    """A model reference that cannot be read or resolved; str(e) is one line saying what to do."""


@dataclass(frozen=True)
class ModelRef:
    """A parsed model reference. Only the fields of its `kind` are set."""

    kind: RefKind
    text: str
    """The reference as written."""
    path: str | None = None
    """kind "path": the path with `~` expanded (relative paths stay relative to the cwd)."""
    repo_id: str | None = None
    """kind "hf": OWNER/REPO."""
    quant: str | None = None
    """kind "hf": the quant asked for (e.g. "Q4_K_M"), None when a file is named or none given."""
    filename: str | None = None
    """kind "hf": the file inside the repo (may include folders), when named."""
    demo_name: str | None = None
    """kind "demo": the demo model's short name."""
    source: str | None = None
    """kind "discovered": where it was found ("ollama", "lmstudio")."""
    name: str | None = None
    """kind "discovered": the name inside that source (e.g. "llama3.2:3b")."""
    base_url: str | None = None
    """kind "openai": the server's base URL (e.g. "http://127.0.0.1:8080/v1")."""
    model: str | None = None
    """kind "openai": the model name to ask the server for (None: the server's only model)."""

    def __str__(self) -> str:
        return self.text


def parse_model_ref(text: str) -> ModelRef:
    """Read a model reference. Raises ModelRefError (one line) for a malformed one."""
    if not isinstance(text, str) or not text.strip():
        raise ModelRefError(f"empty model reference; use {SYNTAX_HINT}")
    text = text.strip()
    match = _SCHEME_PATTERN.match(text)
    if match is None or _looks_like_path(text):
        return ModelRef("path", text, path=str(Path(text).expanduser()))
    scheme, rest = match["scheme"].lower(), match["rest"]
    if scheme == "hf":
        return _parse_hf(text, rest)
    if scheme == "demo":
        return _parse_demo(text, rest)
    if scheme in DISCOVERED_SCHEMES:
        if not rest.strip() or rest != rest.strip():
            raise ModelRefError(f"malformed model reference {text!r}: expected {scheme}:NAME")
        return ModelRef("discovered", text, source=scheme, name=rest)
    if scheme == "openai":
        return _parse_openai(text, rest)
    if Path(text).expanduser().exists():
        return ModelRef("path", text, path=str(Path(text).expanduser()))
    known = ", ".join(f"{s}:" for s in KNOWN_SCHEMES)
    raise ModelRefError(
        f"unknown model reference scheme {scheme + ':'!r} in {text!r}; known: {known} or a .gguf path"
    )


def _looks_like_path(text: str) -> bool:
    """Text that is clearly a path even though it contains a colon (C:\\…, ./a:b.gguf)."""
    return text.startswith(("/", "./", "../", "~", "\\")) or bool(
        re.match(r"^[A-Za-z]:[\\/]", text)
    )


def _parse_hf(text: str, rest: str) -> ModelRef:
    usage = "expected hf:OWNER/REPO:QUANT or hf:OWNER/REPO/FILE.gguf"
    parts = rest.split("/")
    if len(parts) < 2:
        raise ModelRefError(f"malformed model reference {text!r}: {usage}")
    if len(parts) == 2:
        repo_part, _, quant = parts[1].partition(":")
        repo_id = f"{parts[0]}/{repo_part}"
        if not REPO_ID_PATTERN.match(repo_id):
            raise ModelRefError(
                f"malformed model reference {text!r}: {repo_id!r} is not OWNER/REPO"
            )
        if quant and not _QUANT_PATTERN.match(quant):
            raise ModelRefError(f"malformed model reference {text!r}: bad quant {quant!r}")
        if not quant and text.endswith(":"):
            raise ModelRefError(f"malformed model reference {text!r}: empty quant after ':'")
        return ModelRef("hf", text, repo_id=repo_id, quant=quant or None)
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    if not REPO_ID_PATTERN.match(repo_id):
        raise ModelRefError(f"malformed model reference {text!r}: {repo_id!r} is not OWNER/REPO")
    if not filename.lower().endswith(".gguf") or any(p in ("", ".", "..") for p in parts[2:]):
        raise ModelRefError(f"malformed model reference {text!r}: {usage}")
    return ModelRef("hf", text, repo_id=repo_id, filename=filename)


def _parse_demo(text: str, rest: str) -> ModelRef:
    from engines.models.demo import DEMO_MODELS

    if rest not in DEMO_MODELS:
        known = ", ".join(f"demo:{name}" for name in sorted(DEMO_MODELS))
        raise ModelRefError(f"unknown demo model {text!r}; known: {known}")
    return ModelRef("demo", text, demo_name=rest)


def _parse_openai(text: str, rest: str) -> ModelRef:
    url, _, model = rest.partition("#")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelRefError(
            f"malformed model reference {text!r}: expected openai:http://HOST:PORT/v1#MODEL"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ModelRefError(f"malformed model reference {text!r}: bad port in {url!r}") from None
    return ModelRef("openai", text, base_url=url.rstrip("/"), model=model.strip() or None)


def describe_ref(text: str | ModelRef) -> str:
    """A short label for a pane, e.g. "SmolLM2-135M-Instruct Q4_1". Never raises."""
    try:
        ref = text if isinstance(text, ModelRef) else parse_model_ref(text)
    except ModelRefError:
        return str(text).strip()
    if ref.kind == "demo":
        from engines.models.demo import DEMO_MODELS

        return DEMO_MODELS[ref.demo_name or ""].description.split(" (")[0]
    if ref.kind == "path":
        return label_from_filename(Path(ref.path or ref.text).name)
    if ref.kind == "hf":
        if ref.filename:
            return label_from_filename(ref.filename.rsplit("/", 1)[-1])
        repo = re.sub(r"[-_.]gguf$", "", (ref.repo_id or "").split("/")[-1], flags=re.I)
        return f"{repo} {ref.quant}" if ref.quant else repo
    if ref.kind == "discovered":
        name = ref.name or ""
        return (
            label_from_filename(name.rsplit("/", 1)[-1]) if name.lower().endswith(".gguf") else name
        )
    host = urlsplit(ref.base_url or "").netloc
    return f"{ref.model} @ {host}" if ref.model else host


def label_from_filename(filename: str) -> str:
    """ "SmolLM2-135M-Instruct.Q4_1.gguf" → "SmolLM2-135M-Instruct Q4_1" (shard suffix dropped)."""
    stem = re.sub(r"-\d{5}-of-\d{5}$", "", re.sub(r"\.gguf$", "", filename, flags=re.I))
    quant = quant_in_name(stem)
    if quant:
        index = stem.lower().rfind(quant.lower())
        head = stem[:index].rstrip("-_. ")
        if head:
            return f"{head} {stem[index:]}"
    return stem


_QUANT_IN_NAME = re.compile(
    r"(?<![A-Za-z0-9])(?P<quant>(?:UD-)?(?:I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32|TQ\d_0|MXFP4(?:_MOE)?))(?![A-Za-z0-9])",
    re.I,
)


def quant_in_name(name: str) -> str | None:
    """The quantization named in a file name (the last one), upper-cased; None if none."""
    found = [m["quant"] for m in _QUANT_IN_NAME.finditer(re.sub(r"\.gguf$", "", name, flags=re.I))]
    return found[-1].upper() if found else None
