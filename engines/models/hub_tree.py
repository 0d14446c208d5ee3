"""The file list of a Hugging Face model repo, asked of the Hub once and within a timeout.

`read_repo_tree` reads `/api/models/REPO/tree/main?recursive=true` (every page) through
huggingface_hub's HTTP session (its token, headers and typed errors) but without its
retries: each page is asked for once, within HF_HUB_ETAG_TIMEOUT to connect and between
two reads. So a Hub that is down, refuses, stays silent or is not a Hub at all (an HTML
login page, a wrong HF_ENDPOINT) fails at once, not after a minute of retries or never.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RepoFile:
    """One file of a repo, as the listing describes it."""

    size: int | None
    sha256: str | None
    """The LFS SHA-256, which is also the file's blob name (ETag) in the HF cache."""


class NotTheHub(Exception):
    """The endpoint answered, but not with a file list; str(e) is one line."""


def read_repo_tree(endpoint: str, repo_id: str) -> dict[str, RepoFile]:
    """Every file of model repo `repo_id` on `endpoint` → its size and LFS SHA-256.

    Raises huggingface_hub's errors for the Hub's error answers (gated, missing repo, …),
    httpx2's for the network (timeouts included), NotTheHub for an answer that is not a
    file list."""
    import httpx2
    from huggingface_hub import constants
    from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

    timeout = httpx2.Timeout(float(constants.HF_HUB_ETAG_TIMEOUT))
    url: str | None = f"{endpoint}/api/models/{repo_id}/tree/main"
    params: dict[str, str] | None = {"recursive": "true"}
    files: dict[str, RepoFile] = {}
    while url:
        response = get_session().get(
            url, params=params, headers=build_hf_headers(), timeout=timeout
        )
        hf_raise_for_status(response)
        for entry in _entries(response, endpoint, repo_id):
            if entry.get("type") == "file" and isinstance(entry.get("path"), str):
                files[entry["path"]] = _repo_file(entry)
        url, params = response.links.get("next", {}).get("url"), None
    return files


def _entries(response: Any, endpoint: str, repo_id: str) -> list[dict[str, Any]]:
    """The entries of one page of the listing; NotTheHub when it is not one."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, list):
        html = "html" in response.headers.get("content-type", "").lower()
        raise NotTheHub(
            f"{endpoint} answered with {'an HTML page' if html else 'something else'}, not "
            f"{repo_id}'s file list: it is not the Hugging Face Hub (check HF_ENDPOINT, or a "
            "proxy or login page in the way)"
        )
    return [entry for entry in data if isinstance(entry, dict)]


def _repo_file(entry: dict[str, Any]) -> RepoFile:
    lfs = entry.get("lfs")
    if not isinstance(lfs, dict):
        lfs = {}
    size, sha256 = entry.get("size"), lfs.get("oid")
    return RepoFile(
        size if isinstance(size, int) else None, sha256 if isinstance(sha256, str) else None
    )
