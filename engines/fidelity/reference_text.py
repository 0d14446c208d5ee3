"""The text a fidelity run evaluates when the user gives none: bundled with llmbench.

`reference_text.txt` is varied prose and code the developers wrote for this purpose
(stories, instructions, explanations, a letter, Python, shell and C), about 4,000 tokens
for a 50k-token vocabulary: enough for several windows of llama-perplexity's 512.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED_NAME = "reference_text.txt"


def bundled_text() -> str:
    """The bundled reference text."""
    text = resources.files("engines.fidelity").joinpath(BUNDLED_NAME).read_text(encoding="utf-8")
    return _as_llama_perplexity_reads(text)


def _as_llama_perplexity_reads(text: str) -> str:
    """llama-perplexity's `-f FILE` drops one trailing newline; so do we, for the same tokens."""
    return text[:-1] if text.endswith("\n") else text


def read_text(path: str | Path | None) -> str:
    """The user's text file, or the bundled text when `path` is None.

    Read as llama-perplexity reads `-f FILE`. Raises ValueError with one line naming the file for a file that cannot be read.
    """
    if path is None:
        return bundled_text()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror or error})") from None
    if not text.strip():
        raise ValueError(f"{path}: the file is empty")
    return _as_llama_perplexity_reads(text)
