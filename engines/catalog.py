"""Every model llmbench can offer: GGUF files on this machine and the models servers serve.

`catalog()` is what `llmbench models` lists and the model picker offers: the local files
(`engines.models.discovery`), then each configured server's models
(`engines.remote.server_listing`) as `openai:URL#MODEL` references. Servers are asked
all at once, each within config.toml's `[remote] list_timeout_s`, so a server that is
down costs one timeout, not one per server; it becomes a row carrying its error.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from engines.config import ServerEntry
from engines.models.discovery import DiscoveredModel, discover_models
from engines.remote.client import ServerError
from engines.remote.server_listing import (
    ServerListing,
    configured_servers,
    fetch_server_models,
    model_ref,
)


def catalog(extra_dirs: list[str | os.PathLike[str]] | None = None) -> list[DiscoveredModel]:
    """The local models (plus `extra_dirs`), then the served ones. Raises ConfigError."""
    return discover_models(extra_dirs) + served_models()


def configured_server_models() -> list[ServerListing]:
    """Every configured server's models, asked in parallel; a server that cannot be listed
    carries its one-line error. Raises ConfigError for a bad config file."""
    servers = configured_servers()
    if not servers:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(servers))) as pool:
        return list(pool.map(_listing, servers))


def _listing(server: ServerEntry) -> ServerListing:
    try:
        models = fetch_server_models(server.url, server.api_key)
    except ServerError as exc:
        return ServerListing(server, error=str(exc))
    return ServerListing(server, tuple(models))


def served_models() -> list[DiscoveredModel]:
    """The configured servers' models as catalog entries (source "server", path the server
    URL, no GGUF metadata); a server that cannot be listed gives one entry carrying its
    error. Raises ConfigError for a bad config file."""
    found: list[DiscoveredModel] = []
    for listing in configured_server_models():
        url = listing.server.url
        if listing.error is not None:
            found.append(DiscoveredModel("server", f"openai:{url}", url, url, None, listing.error))
        for model in listing.models:
            found.append(DiscoveredModel("server", model_ref(url, model.id), model.id, url, None))
    return found
