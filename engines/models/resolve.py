"""Finding the local file a model reference names, downloading it only when asked.

`resolve_model_ref` turns a reference (`engines.models.references`) into a GGUF path:
a file as written, a demo model (assembled once), a model in the Hugging Face cache, an
Ollama or LM Studio model. `pull_model` is `llmbench pull`: it downloads an `hf:`
reference (`engines.models.hub`) or prepares a demo model. Every error is one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import engines.models.hub as hub
from engines.models.demo import DemoModelMissing, demo_model_path
from engines.models.discovery import resolve_discovered
from engines.models.references import ModelRef, ModelRefError, parse_model_ref


def resolve_model_ref(
    ref_or_text: ModelRef | str,
    download: bool = False,
    progress: Callable[..., None] | None = None,
) -> Path:
    """The local GGUF file a reference names (the first shard of a sharded model).

    hf: references come from the Hugging Face cache; when not there, they are downloaded
    if `download` is true (with `progress` as in `engines.models.hub.pull`), else ModelRefError
    says to run `llmbench pull`. Raises ModelRefError (one line) when nothing is found.
    """
    ref = ref_or_text if isinstance(ref_or_text, ModelRef) else parse_model_ref(ref_or_text)
    if ref.kind == "path":
        return _resolve_path(ref)
    if ref.kind == "demo":
        return _resolve_demo(ref)
    if ref.kind == "hf":
        cached = hub.cached_model_path(ref)
        if cached is not None:
            return cached
        if not download:
            raise ModelRefError(f"{ref.text} is not downloaded yet; run `llmbench pull {ref.text}`")
        return hub.pull(ref, progress=progress)
    if ref.kind == "discovered":
        return resolve_discovered(ref)
    raise ModelRefError(f"{ref.text} names a model on a server, not a local file")


def _resolve_path(ref: ModelRef) -> Path:
    path = Path(ref.path or ref.text).expanduser().absolute()
    if path.is_dir():
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        hint = f" ({', '.join(ggufs[:3])}{', …' if len(ggufs) > 3 else ''})" if ggufs else ""
        raise ModelRefError(f"{path} is a folder; name one .gguf file in it{hint}")
    if not path.exists():
        raise ModelRefError(f"no such model file: {path}")
    return path


def _resolve_demo(ref: ModelRef) -> Path:
    try:
        return demo_model_path(ref.demo_name or "")
    except DemoModelMissing as exc:
        raise ModelRefError(str(exc)) from None
    except OSError as exc:
        raise ModelRefError(f"cannot prepare {ref.text}: {exc}") from None


def pull_model(ref_or_text: ModelRef | str, progress: Callable[..., None] | None = None) -> Path:
    """Download the `hf:` model `ref` names into the HF cache (see `engines.models.hub.pull`),
    or prepare a demo model; returns its (first) file. Raises ModelRefError or DownloadError."""
    ref = ref_or_text if isinstance(ref_or_text, ModelRef) else parse_model_ref(ref_or_text)
    if ref.kind == "demo":
        return _resolve_demo(ref)
    return hub.pull(ref, progress=progress)
