"""What an OpenAI-compatible server offers (`/v1/models`), and the servers llmbench knows.

`list_server_models(url)` names what one server offers; `configured_servers()` and
`configured_timeouts()` are the servers and timeouts of llmbench's `config.toml`
(`engines.config`), with each URL checked. `engines.catalog` lists every configured
server's models beside the local files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engines.config import ConfigError, ServerEntry, load_config
from engines.remote.client import ServerConnection, ServerError, Timeouts, split_base_url

SERVER_KINDS = ("llama.cpp", "llama-cpp-python", "vllm", "ollama", "openai", "unknown")
"""The servers llmbench tells apart, from how they describe their models."""


@dataclass(frozen=True)
class ServerModel:
    """One model a server offers, with whatever it says about it (None: not said)."""

    id: str
    """The name to ask for in a request."""
    owned_by: str = ""
    n_ctx: int | None = None
    """Context size the server runs it with (vLLM's max_model_len, llama-server's /props)."""
    n_ctx_train: int | None = None
    n_params: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class ServerListing:
    """A configured server's models, or why they could not be listed."""

    server: ServerEntry
    models: tuple[ServerModel, ...] = ()
    error: str | None = None

    @property
    def refs(self) -> list[str]:
        """The `openai:URL#MODEL` reference of each model."""
        return [model_ref(self.server.url, model.id) for model in self.models]


def model_ref(base_url: str, model_id: str) -> str:
    """The model reference of a served model: `openai:URL#MODEL`."""
    return f"openai:{base_url.rstrip('/')}#{model_id}"


def list_server_models(base_url: str, api_key: str | None = None) -> list[str]:
    """The names of the models a server offers (`GET /v1/models`). Raises ServerError (one line)."""
    return [model.id for model in fetch_server_models(base_url, api_key, listing_timeouts())]


def fetch_server_models(
    base_url: str, api_key: str | None = None, timeouts: Timeouts | None = None
) -> list[ServerModel]:
    """The models a server offers, with what it says about each. Raises ServerError.

    `timeouts` None: the listing timeouts of config.toml (`listing_timeouts`)."""
    timeouts = timeouts or listing_timeouts()
    data = ServerConnection(base_url, timeouts, api_key).get_json("/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ServerError(f"{base_url}/models did not answer with a model list")
    return [
        _server_model(entry) for entry in entries if isinstance(entry, dict) and entry.get("id")
    ]


def _server_model(entry: dict[str, Any]) -> ServerModel:
    meta = entry.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    return ServerModel(
        id=str(entry["id"]),
        owned_by=str(entry.get("owned_by") or ""),
        n_ctx=_positive_int(entry.get("max_model_len")),
        n_ctx_train=_positive_int(meta.get("n_ctx_train")),
        n_params=_positive_int(meta.get("n_params")),
        size_bytes=_positive_int(meta.get("size")),
    )


def fetch_llama_server_props(
    base_url: str, api_key: str | None, timeouts: Timeouts
) -> dict[str, Any]:
    """llama-server's `/props` (context size, build), {} from any other server or on failure."""
    scheme, host, port, prefix = split_base_url(base_url)
    root = prefix[: -len("/v1")] if prefix.endswith("/v1") else prefix
    netloc = f"{host}:{port}" if port else host
    try:
        data = ServerConnection(f"{scheme}://{netloc}{root}", timeouts, api_key).get_json("/props")
    except ServerError:
        return {}
    return data if isinstance(data, dict) else {}


def server_kind(base_url: str, model: ServerModel | None) -> str:
    """Which server this is (one of SERVER_KINDS), from how it describes its model."""
    owned_by = (model.owned_by if model else "").lower()
    _, host, port, _ = split_base_url(base_url)
    if owned_by == "llamacpp":
        return "llama.cpp"
    if owned_by == "me":
        return "llama-cpp-python"
    if owned_by == "vllm":
        return "vllm"
    if owned_by in ("library", "ollama") or port == 11434:
        return "ollama"
    if host == "api.openai.com" or owned_by in ("openai", "system", "openai-internal"):
        return "openai"
    return "unknown"


# --- config.toml ------------------------------------------------------------------------


def configured_servers() -> list[ServerEntry]:
    """config.toml's `servers` (URLs, or tables with `url` and `api_key_env`); [] when none.

    Raises ConfigError for a bad entry, naming the file."""
    config = load_config()
    for server in config.servers:
        try:
            split_base_url(server.url)
        except ServerError as exc:
            raise ConfigError(f"{config.path}: {exc}") from None
    return list(config.servers)


def configured_timeouts() -> Timeouts:
    """config.toml's `[remote]` connect_timeout_s and read_timeout_s (defaults where left out)."""
    config = load_config()
    return Timeouts(connect_s=config.connect_timeout_s, read_s=config.read_timeout_s)


def listing_timeouts() -> Timeouts:
    """For listing a server's models: connect_timeout_s, and list_timeout_s for the answer,
    so `llmbench models` and the picker never wait long on a server that is down."""
    config = load_config()
    return Timeouts(
        connect_s=min(config.connect_timeout_s, config.list_timeout_s),
        read_s=config.list_timeout_s,
        read_key="list_timeout_s",
    )


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)
