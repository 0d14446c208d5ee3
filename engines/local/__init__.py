"""One model in a worker process: the parent's handle, the worker, and the llama.cpp engine.

`WorkerModelHandle` is what a pane holds (`engines.protocol.ModelHandle`); it starts a
worker (`engines.local.worker`) that runs a `LlamaEngine`, which loads the GGUF file
into a `engines.local.llama_context.LlamaContext` and runs the token loop
(`engines.local.token_loop`) for each request.

`LlamaEngine` is exported lazily: importing this wing in the parent process must not
load llama.cpp (only the worker needs it).
"""

from typing import TYPE_CHECKING, Any

from engines.local.handle import WorkerModelHandle
from engines.local.llama_context import EngineError

if TYPE_CHECKING:
    from engines.local.engine import LlamaEngine

__all__ = ["EngineError", "LlamaEngine", "WorkerModelHandle"]


def __getattr__(name: str) -> Any:
    """Import `LlamaEngine` (and so llama.cpp) only when it is asked for."""
    if name == "LlamaEngine":
        from engines.local.engine import LlamaEngine

        return LlamaEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
