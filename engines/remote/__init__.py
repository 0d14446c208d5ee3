"""A model behind an OpenAI-compatible server (llama-server, vLLM, Ollama, …).

`RemoteModelHandle` is the pane's `engines.protocol.ModelHandle` for `openai:` references;
`engines.remote.client` speaks HTTP, `engines.remote.stream` reads a streamed answer and
`engines.remote.server_listing` asks a server what it serves.
"""

from engines.remote.client import ServerError
from engines.remote.handle import RemoteModelHandle

__all__ = ["RemoteModelHandle", "ServerError"]
