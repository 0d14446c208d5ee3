"""Where the tests find llama.cpp's own tools and scripts (`make llama-tools`).

LLMBENCH_LLAMA_TOOLS names a bin folder (its sibling `scripts/` holds the scripts);
otherwise <repo>/.llama-tools/bin and <repo>/.llama-tools/scripts.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bin_folders() -> list[Path]:
    folders = [os.environ.get("LLMBENCH_LLAMA_TOOLS"), str(REPO / ".llama-tools" / "bin")]
    return [Path(folder) for folder in folders if folder]


def llama_tool(name: str) -> Path | None:
    """An executable llama.cpp tool (llama-bench, llama-server…), or None when not built."""
    for folder in _bin_folders():
        path = folder / name
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def llama_script(name: str) -> Path | None:
    """A script from llama.cpp's scripts/ folder, or None when not copied there."""
    for folder in _bin_folders():
        path = folder.parent / "scripts" / name
        if path.is_file():
            return path
    return None
