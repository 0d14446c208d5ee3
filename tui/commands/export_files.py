"""Writing the exports `llmbench run` was asked for (`--json`, `--markdown`, `--csv`, …).

One rule for the one-prompt run and the suite run: each document is made only when its
option names a path, written atomically, and a path that cannot be written is a
`UsageProblem` naming it (exit code 2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from profiles.atomic import atomic_write_text
from tui.commands.run_usage import UsageProblem


def write_exports(options: dict[str, Any], documents: Mapping[str, Callable[[], str]]) -> None:
    """Write `documents[option]()` to `options[option]` for each option given a path."""
    for option, document in documents.items():
        path = options[option]
        if path is None:
            continue
        try:
            atomic_write_text(path, document())
        except OSError as error:
            raise UsageProblem(f"cannot write {path}: {error.strerror or error}") from None
