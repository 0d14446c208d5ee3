"""Find the GGUF models already on this machine, without loading them.

Sources, in the order they are listed (a file found twice is listed once, under the first):

- demo:     the models of the `demo` extra (`engines.models.demo`);
- hf:       the Hugging Face cache (`HF_HUB_CACHE` / `HF_HOME`), every cached *.gguf;
- lmstudio: LM Studio's models folders (`~/.lmstudio/models`, `~/.cache/lm-studio/models`);
- ollama:   Ollama's store (`OLLAMA_MODELS`, else `~/.ollama/models` and the Linux service's
            `/usr/share/ollama/.ollama/models`): each manifest names a GGUF blob;
- folder:   folders listed in llmbench's `config.toml` (`model_dirs = [...]`) or passed in.

Sharded models (`-00001-of-00003.gguf`) count once, by their first shard. Vision projectors
(`mmproj-*.gguf`) are not language models and are left out. Each model's header is read
through `engines.models.gguf_info` (cached in memory by path, size and modification time).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.config import load_config
from engines.models.gguf_info import (
    SHARD_PATTERN,
    GGUFError,
    GGUFMetadata,
    read_gguf_metadata,
    truncation_problem,
)
from engines.models.references import ModelRef, ModelRefError, label_from_filename

SOURCES = ("demo", "hf", "lmstudio", "ollama", "folder")
OLLAMA_MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_REGISTRY = ("registry.ollama.ai", "library")


@dataclass(frozen=True)
class DiscoveredModel:
    """One model found on disk."""

    source: str
    """Where it was found: one of SOURCES."""
    ref: str
    """A model reference that names it (usable with `llmbench --model`)."""
    name: str
    """A short label (e.g. "SmolLM2-135M-Instruct Q4_1", "llama3.2:3b")."""
    path: str
    """Its GGUF file (the first shard of a sharded model)."""
    metadata: GGUFMetadata | None
    """What its header says; None when it could not be read (see `error`)."""
    error: str | None = None
    """Why the header could not be read (one line)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "source": self.source,
            "ref": self.ref,
            "name": self.name,
            "path": self.path,
            "metadata": self.metadata.to_dict() if self.metadata else None,
            "error": self.error,
        }


def discover_models(
    extra_dirs: list[str | os.PathLike[str]] | None = None,
) -> list[DiscoveredModel]:
    """Every GGUF model found in the sources above (plus `extra_dirs`), each listed once.

    Raises ConfigError for an unreadable llmbench config file.
    """
    folders = list(load_config().model_dirs) + [Path(d).expanduser() for d in extra_dirs or []]
    found: list[DiscoveredModel] = []
    seen: set[str] = set()
    for source, ref, name, path in _candidates(folders):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        metadata, error = header_of(path)
        found.append(DiscoveredModel(source, ref, name, str(path), metadata, error))
    return found


def _candidates(folders: list[Path]) -> Iterator[tuple[str, str, str, Path]]:
    yield from _demo_models()
    yield from _hf_cache_models()
    for folder in lmstudio_dirs():
        for path in _gguf_models_under(folder):
            relative = path.relative_to(folder).as_posix()
            yield "lmstudio", f"lmstudio:{relative}", label_from_filename(path.name), path
    for name, path in ollama_models():
        yield "ollama", f"ollama:{name}", name, path
    for folder in folders:
        for path in _gguf_models_under(folder):
            yield "folder", str(path.absolute()), label_from_filename(path.name), path


# --- demo and Hugging Face cache ----------------------------------------------------------


def _demo_models() -> Iterator[tuple[str, str, str, Path]]:
    from engines.models.demo import DEMO_MODELS, DemoModelMissing, demo_model_path

    for short_name, demo in DEMO_MODELS.items():
        try:
            path = demo_model_path(short_name)
        except (DemoModelMissing, OSError):
            continue
        yield "demo", f"demo:{short_name}", demo.description.split(" (")[0], path


def _hf_cache_models() -> Iterator[tuple[str, str, str, Path]]:
    from engines.models.hub import hf_cache_dir
    from engines.models.repo_files import is_projector

    cache = hf_cache_dir()
    if not cache.is_dir():
        return
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound, CorruptedCacheException

    try:
        info = scan_cache_dir(cache)
    except (CacheNotFound, CorruptedCacheException, OSError):
        return
    for repo in sorted(info.repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model":
            continue
        revisions = sorted(repo.revisions, key=lambda r: ("main" not in r.refs, -r.last_modified))
        for revision in revisions:
            for file in sorted(revision.files, key=lambda f: str(f.file_path)):
                relative = file.file_path.relative_to(revision.snapshot_path).as_posix()
                if not _is_model_file(relative) or is_projector(relative):
                    continue
                yield (
                    "hf",
                    f"hf:{repo.repo_id}/{relative}",
                    label_from_filename(file.file_name),
                    file.file_path,
                )


def _is_model_file(name: str) -> bool:
    """A .gguf file that is a whole model or the first shard of one."""
    if not name.lower().endswith(".gguf"):
        return False
    match = SHARD_PATTERN.match(name.rsplit("/", 1)[-1])
    return match is None or int(match["index"]) == 1


def _gguf_models_under(folder: Path) -> Iterator[Path]:
    """Model files under `folder`, recursively, hidden folders skipped, in sorted order.

    Whatever is named like a model is yielded, a directory (`x.gguf/`), a FIFO or a link to
    a device included, so the listing can say what is wrong with it instead of hiding it.
    """
    from engines.models.repo_files import is_projector

    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted([*files, *dirs]):
            if _is_model_file(name) and not is_projector(name):
                yield Path(root) / name


# --- LM Studio and Ollama -------------------------------------------------------------------


def lmstudio_dirs() -> list[Path]:
    """LM Studio's models folders that exist (the current and the older location)."""
    home = Path.home()
    candidates = [home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"]
    return [folder for folder in candidates if folder.is_dir()]


def ollama_dirs() -> list[Path]:
    """Ollama's model stores that exist: OLLAMA_MODELS when set, else the usual places."""
    override = os.environ.get("OLLAMA_MODELS")
    if override:
        candidates = [Path(override).expanduser()]
    else:
        candidates = [Path.home() / ".ollama" / "models", Path("/usr/share/ollama/.ollama/models")]
    return [folder for folder in candidates if (folder / "manifests").is_dir()]


def ollama_models() -> list[tuple[str, Path]]:
    """(name as Ollama shows it, e.g. "llama3.2:3b", its GGUF blob) for every model in Ollama's stores."""
    models: list[tuple[str, Path]] = []
    for store in ollama_dirs():
        manifests = store / "manifests"
        for manifest in sorted(p for p in manifests.rglob("*") if p.is_file()):
            parts = manifest.relative_to(manifests).parts
            if len(parts) != 4:
                continue
            blob = _ollama_model_blob(store, manifest)
            if blob is not None:
                models.append((_ollama_name(*parts), blob))
    return models


def _ollama_name(host: str, namespace: str, model: str, tag: str) -> str:
    if (host, namespace) == OLLAMA_DEFAULT_REGISTRY:
        return f"{model}:{tag}"
    if host == OLLAMA_DEFAULT_REGISTRY[0]:
        return f"{namespace}/{model}:{tag}"
    return f"{host}/{namespace}/{model}:{tag}"


def _ollama_model_blob(store: Path, manifest: Path) -> Path | None:
    try:
        layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
    except (OSError, ValueError, AttributeError):
        return None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_MEDIA_TYPE:
            digest = str(layer.get("digest", ""))
            blob = store / "blobs" / digest.replace(":", "-")
            return blob if digest and blob.is_file() else None
    return None


# --- resolving discovered references --------------------------------------------------------


def resolve_discovered(ref: ModelRef) -> Path:
    """The GGUF file of an `ollama:` or `lmstudio:` reference. Raises ModelRefError (one line)."""
    name = ref.name or ""
    if ref.source == "ollama":
        wanted = name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"
        for model_name, blob in ollama_models():
            if model_name == wanted:
                return blob
        where = ", ".join(str(d) for d in ollama_dirs()) or "no Ollama model store found"
        raise ModelRefError(
            f"no Ollama model {wanted!r} ({where}); `llmbench models` lists the models found"
        )
    if ref.source == "lmstudio":
        for folder in lmstudio_dirs():
            path = folder / name
            if path.is_file():
                return path
        where = ", ".join(str(d) for d in lmstudio_dirs()) or "no LM Studio models folder found"
        raise ModelRefError(
            f"no LM Studio model {name!r} ({where}); `llmbench models` lists the models found"
        )
    raise ModelRefError(f"unknown model source in {ref.text!r}")


# --- config and headers ----------------------------------------------------------------------


_header_cache: dict[tuple[str, int, int], GGUFMetadata] = {}


def header_of(path: str | os.PathLike[str]) -> tuple[GGUFMetadata | None, str | None]:
    """(metadata, None) or (None, one-line error) for a model file; cached by path, size and mtime."""
    try:
        stat = os.stat(path)
    except OSError as exc:
        return None, f"{path}: cannot read it ({exc.strerror or exc})"
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    cached = _header_cache.get(key)
    if cached is not None:
        return cached, None
    try:
        metadata = read_gguf_metadata(path)
    except GGUFError as exc:
        return None, str(exc)
    truncated = truncation_problem(metadata)
    if truncated:
        return None, truncated
    _header_cache[key] = metadata
    return metadata, None
