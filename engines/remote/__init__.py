"""A model behind an OpenAI-compatible server (llama-server, vLLM, Ollama, …).

`RemoteModelHandle` is the pane's `engines.protocol.ModelHandle` for `openai:` references;
`engines.remote.model_loading` finds its model, `engines.remote.chat_completions` runs each
answer, `engines.remote.server_access` keeps the key out of messages.
`engines.remote.client` speaks HTTP (bounded bodies, the API key kept out of messages),
`engines.remote.sse` splits an event stream (bounded lines), `engines.remote.answer_reader`
reads one answer off the wire, `engines.remote.stream` tallies it (max_tokens enforced)
and `engines.remote.server_listing` asks a server what it serves.
"""

from engines.remote.client import ServerError
from engines.remote.handle import RemoteModelHandle

__all__ = ["RemoteModelHandle", "ServerError"]
