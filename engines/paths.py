"""Where llmbench reads and writes its own files.

Each directory comes from platformdirs and can be overridden by an environment variable,
so tests (and users) can point llmbench somewhere else. Nothing is created at import time.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

APP_NAME = "llmbench"

CONFIG_DIR_ENV = "LLMBENCH_CONFIG_DIR"
"""Overrides the config directory (profiles, config.toml)."""
DATA_DIR_ENV = "LLMBENCH_DATA_DIR"
"""Overrides the data directory (results history)."""
CACHE_DIR_ENV = "LLMBENCH_CACHE_DIR"
"""Overrides the cache directory (hash cache, worker logs)."""


def _dir_from(env_var: str, default: str) -> Path:
    override = os.environ.get(env_var)
    return Path(override).expanduser() if override else Path(default)


def config_dir() -> Path:
    """The user's llmbench config directory (`~/.config/llmbench` on Linux)."""
    return _dir_from(CONFIG_DIR_ENV, platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """The user's llmbench data directory (`~/.local/share/llmbench` on Linux)."""
    return _dir_from(DATA_DIR_ENV, platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    """The user's llmbench cache directory (`~/.cache/llmbench` on Linux)."""
    return _dir_from(CACHE_DIR_ENV, platformdirs.user_cache_dir(APP_NAME))


def log_dir() -> Path:
    """Where worker processes write llama.cpp's own log, one file per worker."""
    return cache_dir() / "logs"


def file_kind(mode: int) -> str:
    """What a `stat` mode that is not a regular file is, in words ("a named pipe (FIFO)").

    For refusing such a file from its `stat` alone: a FIFO would block a read, a device never end.
    """
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"
