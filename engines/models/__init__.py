"""Models as files: references, finding and downloading them, and what their headers say.

`parse_model_ref` reads a reference (`engines.models.references`); `resolve_model_ref`
finds the local GGUF file it names (`engines.models.resolve`: a path, the demo models,
the Hugging Face cache, Ollama, LM Studio). Headers are read by `engines.models.gguf_info`
and checked against memory by `engines.models.memory_fit`.
"""

from engines.models.references import ModelRefError, parse_model_ref
from engines.models.resolve import resolve_model_ref

__all__ = ["ModelRefError", "parse_model_ref", "resolve_model_ref"]
