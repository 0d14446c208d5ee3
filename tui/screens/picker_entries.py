"""What the model picker shows for each model: its figures and whether it fits, as text.

Pure functions over `engines.models.discovery.DiscoveredModel`, with no Textual: the picker
(`tui.screens.model_picker`) runs them in its discovery worker and only draws the result.
Whether a model fits is `engines.models.memory_fit`'s estimate against the RAM available now
(and, where NVML sees a GPU, the free GPU memory with every layer offloaded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engines.models.discovery import DiscoveredModel
from engines.models.gguf_info import GGUFMetadata
from engines.models.memory_fit import estimate_memory
from engines.models.references import ModelRefError, parse_model_ref
from tui.formatting import UNKNOWN, format_bytes, short_count


@dataclass(frozen=True)
class PickerEntry:
    """One row of the picker: a discovered model and whether it fits, ready to show."""

    ref: str
    source: str
    name: str
    params: str
    quant: str
    size: str
    context: str
    chat: str
    fits: str
    """E.g. "RAM ✓", "RAM ✗ 5.1 GiB", "RAM ✓ GPU ✓"; "?" when the file could not be read."""
    detail: str
    """One line for the status bar when the row is highlighted."""
    problem: str | None = None
    """Why this row cannot be chosen (a server that could not be listed); None: it can."""

    def matches(self, words: Sequence[str]) -> bool:
        """Whether every word appears somewhere in the row (case-insensitive)."""
        haystack = " ".join((self.ref, self.source, self.name, self.params, self.quant)).lower()
        return all(word in haystack for word in words)


def fit_summary(
    metadata: GGUFMetadata, n_ctx: int, ram_available: int, gpu_free: int | None
) -> tuple[str, str]:
    """("RAM ✓ GPU ✗ 5.1 GiB", detail line) for loading `metadata` with an `n_ctx` context."""
    on_cpu = estimate_memory(metadata, n_ctx, 0)
    needs = format_bytes(on_cpu.ram_bytes)
    fits = "RAM ✓" if on_cpu.ram_bytes <= ram_available else f"RAM ✗ {needs}"
    detail = f"needs about {needs} of RAM for a {on_cpu.n_ctx}-token context, {format_bytes(ram_available)} available"
    if gpu_free is not None:
        offloaded = estimate_memory(metadata, n_ctx, -1)
        gpu_needs = format_bytes(offloaded.gpu_bytes)
        fits += " GPU ✓" if offloaded.gpu_bytes <= gpu_free else f" GPU ✗ {gpu_needs}"
        detail += f"; all layers on the GPU: {gpu_needs}, {format_bytes(gpu_free)} free"
    return fits, detail


def make_entry(
    model: DiscoveredModel, n_ctx: int, ram_available: int, gpu_free: int | None
) -> PickerEntry:
    """The row for one discovered model."""
    if model.source == "server":
        return served_entry(model)
    metadata = model.metadata
    if metadata is None:
        error = model.error or "its metadata could not be read"
        return PickerEntry(
            model.ref, model.source, model.name, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN, "?",
            f"{model.ref}: {error}",
        )  # fmt: skip
    fits, detail = fit_summary(metadata, n_ctx, ram_available, gpu_free)
    return PickerEntry(
        ref=model.ref,
        source=model.source,
        name=model.name,
        params=short_count(metadata.n_params),
        quant=metadata.quantization or UNKNOWN,
        size=format_bytes(metadata.file_size),
        context=f"{metadata.context_length:,}" if metadata.context_length else UNKNOWN,
        chat="yes" if metadata.has_chat_template else "no",
        fits=fits,
        detail=f"{model.ref}: {detail}",
    )


def served_entry(model: DiscoveredModel) -> PickerEntry:
    """The row for a model a configured server offers (`model.path` is the server's URL),
    or for a server that could not be listed (`model.error` says why)."""
    unknown = (UNKNOWN,) * 5
    if model.error:
        return PickerEntry(
            model.ref, model.source, model.name, *unknown, UNKNOWN,
            detail=f"{model.path}: {model.error}", problem=model.error,
        )  # fmt: skip
    return PickerEntry(
        model.ref, model.source, model.name, *unknown, "remote",
        detail=f"{model.ref}: served by {model.path}",
    )  # fmt: skip


def looks_like_reference(text: str) -> bool:
    """Whether the input is a reference to take as written rather than a filter."""
    text = text.strip()
    if not text:
        return False
    if text.startswith(("/", "./", "../", "~")) or text.lower().endswith(".gguf"):
        return True
    try:
        return parse_model_ref(text).kind != "path"
    except ModelRefError:
        return ":" in text  # a scheme we do not know: say so rather than filter on it
