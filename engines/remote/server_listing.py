"""What an OpenAI-compatible server offers (`/v1/models`), and the servers llmbench knows.

llmbench's `config.toml` may list servers and the timeouts used to talk to them:

    servers = ["http://127.0.0.1:8080/v1", { url = "http://gpu-box:8000/v1", api_key_env = "VLLM_KEY" }]

    [remote]
    connect_timeout_s = 10
    read_timeout_s = 120

`list_server_models(url)` names what one server offers; `configured_server_models()`
lists every configured server's models as `openai:URL#MODEL` references (a server that
is down gets its one-line error instead), and `served_models_as_discovered()` gives the
same as discovery entries, for `llmbench models` and the model picker.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engines.remote.client import ServerConnection, ServerError, Timeouts, split_base_url

if TYPE_CHECKING:
    from engines.models.discovery import DiscoveredModel

CONFIG_FILE_NAME = "config.toml"
LISTING_TIMEOUTS = Timeouts(connect_s=3.0, read_s=10.0)
"""Short waits for listing models: a listing must not hang on a server that is down."""

SERVER_KINDS = ("llama.cpp", "llama-cpp-python", "vllm", "ollama", "openai", "unknown")
"""The servers llmbench tells apart, from how they describe their models."""


class ServerConfigError(ValueError):
    """llmbench's config file has a bad `servers` or `[remote]` entry; str(e) is one line."""


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
class ConfiguredServer:
    """A server from config.toml's `servers`."""

    url: str
    api_key_env: str | None = None

    @property
    def api_key(self) -> str | None:
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None


@dataclass(frozen=True)
class ServerListing:
    """A configured server's models, or why they could not be listed."""

    server: ConfiguredServer
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
    return [model.id for model in fetch_server_models(base_url, api_key, LISTING_TIMEOUTS)]


def fetch_server_models(
    base_url: str, api_key: str | None = None, timeouts: Timeouts = LISTING_TIMEOUTS
) -> list[ServerModel]:
    """The models a server offers, with what it says about each. Raises ServerError."""
    data = ServerConnection(base_url, timeouts, api_key).get_json("/models")
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ServerError(f"{base_url}/models did not answer with a model list")
    return [
        _server_model(entry) for entry in entries if isinstance(entry, dict) and entry.get("id")
    ]


def _server_model(entry: dict[str, Any]) -> ServerModel:
    meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
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


def config_file() -> Path:
    """llmbench's config file (`config.toml` in the config directory)."""
    from engines.paths import config_dir

    return config_dir() / CONFIG_FILE_NAME


def _read_config() -> tuple[Path, dict[str, Any]]:
    path = config_file()
    try:
        return path, tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return path, {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ServerConfigError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ServerConfigError(f"{path}: not valid TOML ({exc})") from None


def configured_servers() -> list[ConfiguredServer]:
    """config.toml's `servers` (URLs, or tables with `url` and `api_key_env`); [] when none."""
    path, data = _read_config()
    entries = data.get("servers", [])
    usage = 'servers must be a list of URLs, e.g. servers = ["http://127.0.0.1:8080/v1"]'
    if not isinstance(entries, list):
        raise ServerConfigError(f"{path}: {usage}")
    servers = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise ServerConfigError(f"{path}: {usage}")
        key_env = entry.get("api_key_env")
        if key_env is not None and not isinstance(key_env, str):
            raise ServerConfigError(f"{path}: a server's api_key_env must be a variable name")
        try:
            split_base_url(entry["url"])
        except ServerError as exc:
            raise ServerConfigError(f"{path}: {exc}") from None
        servers.append(ConfiguredServer(entry["url"].rstrip("/"), key_env))
    return servers


def configured_timeouts() -> Timeouts:
    """config.toml's `[remote]` connect_timeout_s and read_timeout_s (defaults where left out)."""
    path, data = _read_config()
    section = data.get("remote", {})
    if not isinstance(section, dict):
        raise ServerConfigError(f"{path}: [remote] must be a table")
    defaults = Timeouts()
    values = {}
    for key, default in (
        ("connect_timeout_s", defaults.connect_s),
        ("read_timeout_s", defaults.read_s),
    ):
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ServerConfigError(f"{path}: [remote] {key} must be a number of seconds above 0")
        values[key] = float(value)
    return Timeouts(connect_s=values["connect_timeout_s"], read_s=values["read_timeout_s"])


def configured_server_models() -> list[ServerListing]:
    """Every configured server's models; a server that cannot be listed carries its error.

    Raises ServerConfigError for a bad config file.
    """
    listings = []
    for server in configured_servers():
        try:
            models = fetch_server_models(server.url, server.api_key)
        except ServerError as exc:
            listings.append(ServerListing(server, error=str(exc)))
            continue
        listings.append(ServerListing(server, tuple(models)))
    return listings


def served_models_as_discovered() -> list[DiscoveredModel]:
    """The configured servers' models as `engines.models.discovery.DiscoveredModel` entries (source
    "server", path the server URL, no GGUF metadata), so `llmbench models` and the model
    picker can list them beside the local files. A server that cannot be listed gives one
    entry carrying its error. Raises ServerConfigError for a bad config file.
    """
    from engines.models.discovery import DiscoveredModel

    found: list[DiscoveredModel] = []
    for listing in configured_server_models():
        url = listing.server.url
        if listing.error is not None:
            found.append(DiscoveredModel("server", f"openai:{url}", url, url, None, listing.error))
        for model in listing.models:
            found.append(DiscoveredModel("server", model_ref(url, model.id), model.id, url, None))
    return found


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)
