"""One file from the Hugging Face Hub into the HF cache, resumable across runs.

huggingface_hub (2.x) resumes a transfer only inside one call: its partial file has a
name unique to the process and is deleted when the call fails, so a download stopped
by Ctrl-C or a dropped SSH session starts again from zero. A 40 GB model deserves
better, so llmbench keeps its own partial file, `blobs/<etag>.llmbench-partial`, and
continues it with an HTTP Range request on the next `llmbench pull`. A finished file is
checked against the SHA-256 the Hub lists before it is moved into place; one that does
not match is deleted (`ChecksumMismatch`), so the cache never holds a file half-trusted.

Everything else is huggingface_hub's: the file's metadata (`get_hf_file_metadata`), the
transfer itself (`http_get`, which also retries a dropped connection from the byte it
reached), the token (`HF_TOKEN` or the saved login), and the cache layout every HF
tool reads (`blobs/<etag>`, `snapshots/<commit>/<file>` → blob, `refs/main`). The file
is fetched over plain HTTP even where the Hub offers Xet, because only that path can be
resumed this way. Errors are huggingface_hub's own; `engines.models.hub` turns them into lines
a user can act on.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PARTIAL_SUFFIX = ".llmbench-partial"
"""The suffix of a partly downloaded blob that the next pull continues."""
REVISION = "main"
_HASH_CHUNK = 4 * 1024 * 1024


class ChecksumMismatch(Exception):
    """A downloaded file's SHA-256 is not the one the Hub lists; the file is already deleted."""


def download_to_cache(
    repo_id: str,
    filename: str,
    cache: Path,
    endpoint: str,
    tqdm_class: Any = None,
    sha256: str | None = None,
) -> Path:
    """Download `filename` of model repo `repo_id` into the HF cache and return its snapshot path.

    A file already in the cache is not fetched again; a partial file left by an earlier,
    interrupted call is continued from where it stopped. `tqdm_class` is handed to
    huggingface_hub's transfer (None: its own progress bar). `sha256` (the Hub listing's):
    the finished file must have it, else it is deleted and ChecksumMismatch raised.
    """
    from filelock import FileLock
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(repo_id, filename, revision=REVISION, endpoint=endpoint)
    metadata = get_hf_file_metadata(url, endpoint=endpoint)
    if not metadata.commit_hash or not metadata.etag:
        raise OSError(
            f"{endpoint} did not answer like the Hugging Face Hub (no commit or ETag for {filename})"
        )
    folder = cache / f"models--{repo_id.replace('/', '--')}"
    pointer = folder / "snapshots" / metadata.commit_hash / filename
    blob = folder / "blobs" / metadata.etag
    if not pointer.exists():
        blob.parent.mkdir(parents=True, exist_ok=True)
        lock = cache / ".locks" / folder.name / f"{metadata.etag}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock)):
            if not blob.exists():
                headers = build_hf_headers()
                if urlsplit(metadata.location).netloc != urlsplit(url).netloc:
                    headers.pop(
                        "authorization", None
                    )  # a signed CDN address: never send the token there
                _fetch_blob(
                    metadata.location, blob, metadata.size, headers, filename, tqdm_class, sha256
                )
            _link_snapshot(blob, pointer)
    _write_ref(folder, metadata.commit_hash)
    return pointer


def _fetch_blob(
    location: str,
    blob: Path,
    size: int | None,
    headers: dict[str, str],
    filename: str,
    tqdm_class: Any,
    sha256: str | None,
) -> None:
    """Continue (or start) `blob`'s partial file, check it, then move it into place."""
    from huggingface_hub.file_download import http_get

    partial = blob.with_name(blob.name + PARTIAL_SUFFIX)
    resume_size = partial.stat().st_size if partial.exists() else 0
    if size is not None and resume_size > size:
        partial.unlink()
        resume_size = 0
    with partial.open("ab") as stream:
        http_get(
            location,
            stream,
            resume_size=resume_size,
            headers=headers,
            expected_size=size,
            displayed_filename=filename,
            tqdm_class=tqdm_class,
        )
    if sha256:
        _check_sha256(partial, sha256)
    os.replace(partial, blob)


def _check_sha256(path: Path, expected: str) -> None:
    """Delete `path` and raise ChecksumMismatch unless its SHA-256 is `expected`."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            digest.update(chunk)
    found = digest.hexdigest()
    if found != expected.lower():
        path.unlink(missing_ok=True)
        raise ChecksumMismatch(
            f"the downloaded file's SHA-256 is {found[:16]}…, the Hub lists {expected[:16]}…"
        )


def _link_snapshot(blob: Path, pointer: Path) -> None:
    """Point the snapshot entry at the blob: a relative symlink, as huggingface_hub makes it."""
    pointer.parent.mkdir(parents=True, exist_ok=True)
    try:
        pointer.symlink_to(os.path.relpath(blob, pointer.parent))
    except FileExistsError:
        pass
    except OSError:  # no symlinks here (some Windows setups): a hard link, else the blob itself
        try:
            os.link(blob, pointer)
        except OSError:
            os.replace(blob, pointer)


def _write_ref(folder: Path, commit_hash: str) -> None:
    """`refs/main` names the commit just downloaded (written atomically)."""
    ref = folder / "refs" / REVISION
    ref.parent.mkdir(parents=True, exist_ok=True)
    if ref.is_file() and ref.read_text().strip() == commit_hash:
        return
    temporary = ref.with_name(f"{ref.name}.{os.getpid()}.tmp")
    temporary.write_text(commit_hash)
    os.replace(temporary, ref)
