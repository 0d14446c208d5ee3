"""llmbench's own settings: `config.toml` in the config directory, read in one place.

    model_dirs = ["~/models", "/data/gguf"]          # more folders to look for GGUF files
    servers = ["http://127.0.0.1:8080/v1", { url = "http://gpu-box:8000/v1", api_key_env = "VLLM_KEY" }]

    [remote]
    connect_timeout_s = 10        # opening a connection to a server
    read_timeout_s = 120          # between two reads of an answer
    list_timeout_s = 10           # listing a server's models (`llmbench models`, the picker)

    [run]
    generation_deadline_s = 600   # the longest one generation may take (0: no limit)

`load_config()` reads and checks the file once (again only when it changes) and returns
a `Config`; every problem is a `ConfigError` of one line naming the file and the key. A
missing file is an empty config.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.paths import config_dir

CONFIG_FILE_NAME = "config.toml"

DEFAULT_CONNECT_TIMEOUT_S = 10.0
DEFAULT_READ_TIMEOUT_S = 120.0
DEFAULT_LIST_TIMEOUT_S = 10.0
DEFAULT_GENERATION_DEADLINE_S = 600.0

_SERVERS_USAGE = 'servers must be a list of URLs, e.g. servers = ["http://127.0.0.1:8080/v1"]'
_REMOTE_KEYS = ("connect_timeout_s", "read_timeout_s", "list_timeout_s")


class ConfigError(ValueError):
    """config.toml cannot be read or has a bad entry; str(e) is one line naming the file."""


@dataclass(frozen=True)
class ServerEntry:
    """One server of config.toml's `servers`."""

    url: str
    """The server's OpenAI-compatible base URL (e.g. "http://127.0.0.1:8080/v1")."""
    api_key_env: str | None = None
    """The environment variable that holds its API key (never the key itself)."""

    @property
    def api_key(self) -> str | None:
        """The API key from `api_key_env`, if that variable is set."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


@dataclass(frozen=True)
class Config:
    """What config.toml says (defaults for what it leaves out)."""

    path: Path
    model_dirs: tuple[Path, ...] = ()
    """Folders `llmbench models` and the picker search besides the usual places."""
    servers: tuple[ServerEntry, ...] = ()
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout_s: float = DEFAULT_READ_TIMEOUT_S
    list_timeout_s: float = DEFAULT_LIST_TIMEOUT_S
    generation_deadline_s: float | None = DEFAULT_GENERATION_DEADLINE_S
    """The longest one generation may take before it is stopped and its pane fails; None:
    no limit (`[run] generation_deadline_s = 0`)."""


def config_file() -> Path:
    """llmbench's config file (`config.toml` in the config directory)."""
    return config_dir() / CONFIG_FILE_NAME


_cache: dict[Path, tuple[tuple[int, int], Config]] = {}


def load_config() -> Config:
    """The config file's settings, read again only when the file changes. Raises ConfigError."""
    path = config_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return Config(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    config = _parse(path, _read(path))
    _cache[path] = (stamp, config)
    return config


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None


def _parse(path: Path, data: dict[str, Any]) -> Config:
    dirs = data.get("model_dirs", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise ConfigError(
            f'{path}: model_dirs must be a list of folder paths, e.g. model_dirs = ["~/models"]'
        )
    remote = data.get("remote", {})
    if not isinstance(remote, dict):
        raise ConfigError(f"{path}: [remote] must be a table")
    timeouts = {}
    for key in _REMOTE_KEYS:
        value = remote.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{path}: [remote] {key} must be a number of seconds above 0")
        timeouts[key] = float(value)
    return Config(
        path=path,
        model_dirs=tuple(Path(d).expanduser() for d in dirs),
        servers=tuple(_server(path, entry) for entry in _server_entries(path, data)),
        **timeouts,
        **_run_settings(path, data),
    )


def _run_settings(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The `[run]` table: how long one generation may take."""
    run = data.get("run", {})
    if not isinstance(run, dict):
        raise ConfigError(f"{path}: [run] must be a table")
    unknown = sorted(set(run) - {"generation_deadline_s"})
    if unknown:
        raise ConfigError(f"{path}: [run] {unknown[0]}: unknown key (known: generation_deadline_s)")
    value = run.get("generation_deadline_s")
    if value is None:
        return {}
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(
            f"{path}: [run] generation_deadline_s must be a number of seconds (0: no limit)"
        )
    return {"generation_deadline_s": float(value) or None}


def _server_entries(path: Path, data: dict[str, Any]) -> list[Any]:
    entries = data.get("servers", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: {_SERVERS_USAGE}")
    return entries


def _server(path: Path, entry: Any) -> ServerEntry:
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise ConfigError(f"{path}: {_SERVERS_USAGE}")
    key_env = entry.get("api_key_env")
    if key_env is not None and not isinstance(key_env, str):
        raise ConfigError(f"{path}: a server's api_key_env must be a variable name")
    return ServerEntry(entry["url"].rstrip("/"), key_env)
