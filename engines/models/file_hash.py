"""SHA-256 of model files, computed once per file version.

Results record the SHA-256 of the model that produced them (docs/metrics.md). Hashing a 40 GB
file takes minutes, so each digest is cached in a JSON file in llmbench's cache directory,
keyed by the file's absolute path, size and modification time (nanoseconds): a file that
changes gets hashed again, one that does not is never read twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from engines.paths import cache_dir

CACHE_FILE_NAME = "sha256.json"
_CHUNK = 4 * 1024 * 1024
_lock = threading.Lock()


def hash_cache_path() -> Path:
    """The JSON file that holds the cached digests."""
    return cache_dir() / CACHE_FILE_NAME


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of the file at `path`, from the cache when the file has not changed.

    Raises FileNotFoundError / OSError for a file that cannot be read.
    """
    path = Path(path).expanduser().absolute()
    stat = path.stat()
    key = _cache_key(path, stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _load_cache().get(key)
    if isinstance(cached, str):
        return cached
    digest = _hash_file(path)
    with _lock:
        cache = _load_cache()
        cache = {
            k: v for k, v in cache.items() if not k.startswith(f"{path}|")
        }  # older versions of the file
        cache[key] = digest
        _save_cache(cache)
    return digest


def _cache_key(path: Path, size: int, mtime_ns: int) -> str:
    return f"{path}|{size}|{mtime_ns}"


def _hash_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _load_cache() -> dict[str, str]:
    """The cached digests; an unreadable or corrupt cache is treated as empty (it is only a cache)."""
    try:
        data = json.loads(hash_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(cache: dict[str, str]) -> None:
    """Write the cache atomically (temporary file, then rename); a failure to write is not fatal."""
    target = hash_cache_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".sha256-", suffix=".json", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                json.dump(cache, stream, indent=0, sort_keys=True)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError:
        pass
