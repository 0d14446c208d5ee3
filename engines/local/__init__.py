"""One model in a worker process: the parent's handle, the worker, and the llama.cpp engine.

`WorkerModelHandle` is what a pane holds (`engines.protocol.ModelHandle`); it starts a
worker (`engines.local.worker`) that runs a `LlamaEngine`, which loads the GGUF file
into a `engines.local.llama_context.LlamaContext` and runs the token loop
(`engines.local.token_loop`) for each request.
"""

from engines.local.engine import LlamaEngine
from engines.local.handle import WorkerModelHandle
from engines.local.llama_context import EngineError

__all__ = ["EngineError", "LlamaEngine", "WorkerModelHandle"]
