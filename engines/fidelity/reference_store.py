"""The reference's next-token distributions, cached on disk so a ladder costs one reference pass.

A reference pass (`engines.local.fidelity_pass`) keeps, for every scored token, the
reference's top candidates (ids and log-probabilities) and the log-probability it gave
the text's own next token. They are saved as one compressed numpy file in llmbench's
cache directory, named after the model file's SHA-256, the text's SHA-256, n_ctx and the
number of candidates (`reference_path`): the same reference on the same text is never
evaluated twice, and a changed file or text gets a new entry.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engines.paths import cache_dir

FORMAT_VERSION = 1
FOLDER_NAME = "fidelity"


class ReferenceFileError(Exception):
    """A reference file that cannot be read; str() is one line naming it."""


@dataclass(frozen=True)
class ReferenceCandidates:
    """The reference's view of a text, scored token by scored token."""

    n_vocab: int
    n_ctx: int
    tokens: np.ndarray
    """The text's tokens that the windows covered (int32), to check another model's tokens."""
    ids: np.ndarray
    """Top candidates per scored token, most likely first (int32, scored × k)."""
    log_p: np.ndarray
    """Their log-probabilities (float32, scored × k)."""
    nll: np.ndarray
    """−log p of the text's own next token per scored token (float64)."""
    tokens_per_s: float = 0.0
    """The speed of the pass that made it."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reference_path(model_sha256: str, text: str, n_ctx: int, top_k: int) -> Path:
    """Where the reference candidates of this model, text and context are kept."""
    name = f"{model_sha256[:24]}-{text_sha256(text)[:16]}-ctx{n_ctx}-top{top_k}.npz"
    return cache_dir() / FOLDER_NAME / name


def save_reference(path: str | os.PathLike[str], candidates: ReferenceCandidates) -> None:
    """Write atomically (a reader never sees half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(
                stream,
                version=np.int32(FORMAT_VERSION),
                n_vocab=np.int64(candidates.n_vocab),
                n_ctx=np.int64(candidates.n_ctx),
                tokens=candidates.tokens.astype(np.int32),
                ids=candidates.ids.astype(np.int32),
                log_p=candidates.log_p.astype(np.float32),
                nll=candidates.nll.astype(np.float64),
                tokens_per_s=np.float64(candidates.tokens_per_s),
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_reference(path: str | os.PathLike[str]) -> ReferenceCandidates:
    """Read a file `save_reference` wrote; ReferenceFileError naming it otherwise."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != FORMAT_VERSION:
                raise ReferenceFileError(f"{path}: reference file of another llmbench version")
            return ReferenceCandidates(
                n_vocab=int(data["n_vocab"]),
                n_ctx=int(data["n_ctx"]),
                tokens=data["tokens"],
                ids=data["ids"],
                log_p=data["log_p"],
                nll=data["nll"],
                tokens_per_s=float(data["tokens_per_s"]),
            )
    except ReferenceFileError:
        raise
    except FileNotFoundError:
        raise ReferenceFileError(f"{path}: no such reference file") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file is one line, then recomputed
        raise ReferenceFileError(f"{path}: not a readable reference file ({exc})") from None
