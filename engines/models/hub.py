"""Hugging Face Hub models: pick the GGUF files a reference names, find them in the HF cache,
and download them (`llmbench pull`) through huggingface_hub into that same cache.

What huggingface_hub gives us and what we add:
- it talks HTTP (token from `HF_TOKEN` or the saved login, the Hub's typed errors, a
  dropped connection continued with a Range request) and defines the shared HF cache
  (`HF_HUB_CACHE`, `HF_HOME`) that every HF tool reads;
- we ask for the repo's file list ourselves (`engines.models.hub_tree`), once, within
  `HF_HUB_ETAG_TIMEOUT` and without huggingface_hub's minute of retries, so that a Hub
  that is unreachable, refuses, stays silent or is not a Hub at all (an HTML page) fails
  at once in one line; `HF_HUB_OFFLINE` is checked before anything touches the network;
- we choose the files (a quant's file, every shard of a sharded model), check disk space
  first, keep partial files so that an interrupted pull continues on the next run
  (`engines.models.transfer`), check each finished file against the SHA-256 the listing
  gives, report progress, and turn each error a user meets into one `DownloadError` line
  that says what to do.

Paths are read from the environment at call time, not import time, so tests (and a user
who changes `HF_HUB_CACHE`) see the cache they expect.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from engines.messages import first_line
from engines.models.hub_tree import NotTheHub, RepoFile, read_repo_tree
from engines.models.references import ModelRef, ModelRefError, parse_model_ref
from engines.models.repo_files import select_model_files

HUB_URL = "https://huggingface.co"
LOGIN_HINT = "request access on the model page and run `hf auth login` or set HF_TOKEN"


class DownloadError(RuntimeError):
    """A download that failed; str(e) is one line saying what happened and what to do."""


@dataclass(frozen=True)
class DownloadProgress:
    """Where one download stands, for a progress display."""

    filename: str
    """The file in the repo being downloaded."""
    downloaded: int
    """Bytes of this file so far (including bytes resumed from an earlier attempt)."""
    total: int | None
    """Bytes of this file, when the server said."""
    file_index: int
    """1-based position of this file among the files of the model (shards)."""
    file_count: int


ProgressCallback = Callable[[DownloadProgress], None]


def hf_cache_dir() -> Path:
    """The Hugging Face hub cache, as huggingface_hub computes it, read from the environment now."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(os.path.expandvars(explicit)).expanduser()
    default_home = os.path.join(os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface")
    home = os.environ.get("HF_HOME") or default_home
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_endpoint() -> str:
    """The Hub's address: `HF_ENDPOINT` (a mirror, or a test server) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or HUB_URL).rstrip("/")


def repo_cache_folder(repo_id: str) -> Path:
    """The HF cache folder of a model repo (`models--OWNER--REPO`)."""
    return hf_cache_dir() / f"models--{repo_id.replace('/', '--')}"


# --- the cache --------------------------------------------------------------------------------


def cached_model_path(ref: ModelRef | str) -> Path | None:
    """The cached first file of an hf: reference when every one of its files is cached, else None.

    Looks only at the disk (no network): the snapshot that `refs/main` names first, then the others.
    """
    ref = ref if isinstance(ref, ModelRef) else parse_model_ref(ref)
    if ref.kind != "hf" or not ref.repo_id:
        return None
    folder = repo_cache_folder(ref.repo_id)
    snapshots = folder / "snapshots"
    if not snapshots.is_dir():
        return None
    main = folder / "refs" / "main"
    preferred = main.read_text().strip() if main.is_file() else ""
    ordered = sorted(snapshots.iterdir(), key=lambda p: (p.name != preferred, -p.stat().st_mtime))
    for snapshot in ordered:
        files = [p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*.gguf") if p.exists()]
        try:
            chosen = select_model_files(ref, files)
        except ModelRefError:
            continue
        return snapshot / chosen[0]
    return None


# --- downloading ------------------------------------------------------------------------------


def pull(ref: ModelRef | str, progress: ProgressCallback | None = None) -> Path:
    """Download the model `ref` names into the HF cache (every shard) and return its first file.

    Already-cached files are not downloaded again; a partial file left by an interrupted
    pull is continued. `progress` is called as bytes arrive (an exception it raises stops
    the download, keeping the partial file). Raises DownloadError or ModelRefError, each
    with one line.
    """
    ref = ref if isinstance(ref, ModelRef) else parse_model_ref(ref)
    if ref.kind != "hf":
        raise ModelRefError(
            f"only hf: references can be pulled; {ref.text} is not one (try hf:OWNER/REPO:QUANT)"
        )
    _check_not_offline(ref)
    _check_hub_resolves(ref)
    with _quiet_hub_logs():
        repo_files = _list_repo_files(ref)
        chosen = select_model_files(ref, list(repo_files))
        cache = hf_cache_dir()
        needed = _bytes_still_needed(ref.repo_id or "", [repo_files[name] for name in chosen])
        _check_free_space(cache, needed, ref)
        paths = [
            _download_one(
                ref,
                filename,
                repo_files[filename].sha256,
                cache,
                _tqdm_class(progress, filename, index, len(chosen)),
            )
            for index, filename in enumerate(chosen, start=1)
        ]
    return paths[0]


def _check_not_offline(ref: ModelRef) -> None:
    """HF_HUB_OFFLINE forbids downloads: say so before anything (a DNS check included) blames the network."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise DownloadError(
            f"cannot download {ref.repo_id}: HF_HUB_OFFLINE is set; unset it to download"
        )


@contextmanager
def _quiet_hub_logs() -> Iterator[None]:
    """huggingface_hub's retry warnings stay off the terminal: a failure is our one line."""
    hub_logger = logging.getLogger("huggingface_hub")
    level = hub_logger.level
    hub_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        hub_logger.setLevel(level)


def _check_hub_resolves(ref: ModelRef) -> None:
    """Fail at once, not after a minute of retries, when the Hub's host name does not resolve.

    Skipped behind a proxy, which resolves names itself.
    """
    if any(
        os.environ.get(var)
        for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")
    ):
        return
    host = urlsplit(hub_endpoint()).hostname
    if not host:
        raise DownloadError(f"HF_ENDPOINT {hub_endpoint()!r} is not a URL")
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        raise DownloadError(_no_network(ref.repo_id) + f" ({host} does not resolve)") from None


def _list_repo_files(ref: ModelRef) -> dict[str, RepoFile]:
    """Every file of the repo → its size and LFS SHA-256 (None where the Hub did not say)."""
    return _with_clear_errors(ref, None, lambda: read_repo_tree(hub_endpoint(), ref.repo_id or ""))


def _bytes_still_needed(repo_id: str, files: list[RepoFile]) -> int:
    """Bytes left to download: blobs already cached count 0, partial ones only their rest."""
    from engines.models.transfer import PARTIAL_SUFFIX

    blobs = repo_cache_folder(repo_id) / "blobs"
    needed = 0
    for file in files:
        size = file.size or 0
        if file.sha256 and (blobs / file.sha256).exists():
            continue
        partial = blobs / f"{file.sha256}{PARTIAL_SUFFIX}"
        needed += (
            max(size - partial.stat().st_size, 0) if file.sha256 and partial.exists() else size
        )
    return needed


def _download_one(
    ref: ModelRef, filename: str, sha256: str | None, cache: Path, tqdm_class: Any
) -> Path:
    from engines.models.transfer import download_to_cache

    return _with_clear_errors(
        ref,
        filename,
        lambda: download_to_cache(
            ref.repo_id or "", filename, cache, hub_endpoint(), tqdm_class, sha256=sha256
        ),
    )


def _check_free_space(cache: Path, needed: int, ref: ModelRef) -> None:
    existing = cache
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if needed > free:
        raise DownloadError(
            f"not enough disk space for {ref.text}: it needs {_gib(needed)}, {_gib(free)} free in {cache};"
            " free some space or point HF_HUB_CACHE at a bigger disk"
        )


def _gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def _with_clear_errors(ref: ModelRef, filename: str | None, action: Callable[[], Any]) -> Any:
    """Run `action`, turning huggingface_hub's and the OS's errors into one-line DownloadErrors."""
    import httpx2
    from huggingface_hub import errors as hf_errors

    from engines.models.transfer import ChecksumMismatch

    repo = ref.repo_id
    what = f"{repo}/{filename}" if filename else repo
    try:
        return action()
    except NotTheHub as exc:
        raise DownloadError(str(exc)) from None
    except ChecksumMismatch as exc:
        raise DownloadError(
            f"{what}: {exc}; the file was removed, nothing of it is kept: run "
            f"`llmbench pull {ref.text}` again (a proxy or mirror may be altering it)"
        ) from None
    except httpx2.TimeoutException as exc:
        raise DownloadError(_timeout_message(exc, what, listing=filename is None)) from None
    except hf_errors.GatedRepoError:
        raise DownloadError(
            f"{repo} is gated and your account has no access yet: {LOGIN_HINT}"
        ) from None
    except hf_errors.RepositoryNotFoundError as exc:
        if _status(exc) == 401 and _has_token():
            raise DownloadError(f"{repo}: access denied with your token; {LOGIN_HINT}") from None
        raise DownloadError(
            f"no repo {repo} on {hub_endpoint()} (check the name; if it is private or gated, {LOGIN_HINT})"
        ) from None
    except hf_errors.RevisionNotFoundError:
        raise DownloadError(f"{repo} has no such revision") from None
    except hf_errors.RemoteEntryNotFoundError:
        raise DownloadError(
            f"{repo} has no file {filename}; `llmbench pull hf:{repo}:QUANT` picks one"
        ) from None
    except hf_errors.OfflineModeIsEnabled:
        raise DownloadError(
            f"cannot download {what}: HF_HUB_OFFLINE is set; unset it to download"
        ) from None
    except hf_errors.HfHubHTTPError as exc:
        status = _status(exc)
        if status == 403:
            raise DownloadError(f"{repo}: access forbidden; {LOGIN_HINT}") from None
        if status == 401:
            raise DownloadError(f"{repo}: not authorised; {LOGIN_HINT}") from None
        raise DownloadError(f"the Hub answered HTTP {status} for {what}; try again later") from None
    except hf_errors.LocalEntryNotFoundError:
        raise DownloadError(_no_network(what)) from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DownloadError(
                f"disk full while downloading {what} into {hf_cache_dir()};"
                " free some space or point HF_HUB_CACHE at a bigger disk"
            ) from None
        if _is_network_error(exc):
            raise DownloadError(_no_network(what, exc)) from None
        raise DownloadError(f"cannot download {what}: {first_line(exc)}") from None
    except Exception as exc:
        if _is_network_error(exc):
            raise DownloadError(_no_network(what, exc)) from None
        raise


def _no_network(what: str | None, exc: BaseException | None = None) -> str:
    detail = f" ({_network_detail(exc)})" if exc is not None else ""
    return (
        f"cannot reach the Hugging Face Hub at {hub_endpoint()} to download {what}{detail}:"
        " check your network connection (or proxy, HTTPS_PROXY, HF_ENDPOINT)"
    )


def _network_detail(exc: BaseException) -> str:
    """A network error in a few words: "connection refused", "connection reset", …"""
    text = first_line(exc)
    for words in ("connection refused", "connection reset", "name or service not known"):
        if words in text.lower():
            return words
    return text[:120]


def _timeout_message(exc: BaseException, what: str | None, listing: bool) -> str:
    """A Hub that does not answer in time (HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT)."""
    import httpx2
    from huggingface_hub import constants

    if isinstance(exc, httpx2.ConnectTimeout):
        return _no_network(what, exc)
    if listing:
        return (
            f"the Hugging Face Hub at {hub_endpoint()} sent nothing for "
            f"{constants.HF_HUB_ETAG_TIMEOUT:g} s when asked for {what}'s files (read timeout; "
            "raise HF_HUB_ETAG_TIMEOUT for a slow network)"
        )
    return (
        f"the Hugging Face Hub at {hub_endpoint()} stopped sending {what} (read timeout; raise "
        "HF_HUB_DOWNLOAD_TIMEOUT for a slow network; `llmbench pull` again continues the file)"
    )


def _is_network_error(exc: BaseException) -> bool:
    import httpx2

    return isinstance(exc, httpx2.TransportError | ConnectionError | TimeoutError)


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _has_token() -> bool:
    from huggingface_hub import get_token

    return get_token() is not None


def _tqdm_class(progress: ProgressCallback | None, filename: str, index: int, count: int) -> Any:
    """The progress-bar class handed to huggingface_hub for one file: draws nothing, calls `progress`."""
    from tqdm import tqdm

    class CallbackBar(tqdm):
        """A tqdm that draws nothing and calls `progress` on every update."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            kwargs.pop("name", None)
            super().__init__(*args, **kwargs)
            self.n = kwargs.get("initial") or 0
            self._report()

        def update(self, n: float | None = 1) -> bool | None:
            self.n += n or 0
            self._report()
            return None

        def _report(self) -> None:
            if progress is not None:
                total = int(self.total) if self.total else None
                progress(DownloadProgress(filename, int(self.n), total, index, count))

    return CallbackBar
